import { type ApiClient, ApiError, type CompileDiagnostic, type Invocation, type Page, type Plugin, type TestResult, type Trace, type Version } from './api-client.js';
import { BindingsPanel } from './bindings-panel.js';
import { CodeEditor } from './code-editor.js';
import { fill, h } from './dom.js';
import { runView } from './run-view.js';
import { describe } from './sign-in.js';
import { FIRST_TEMPLATE, TEMPLATES } from './templates.js';
import { traceView } from './trace-view.js';

const ENTRY = 'index.ts';

/**
 * The tenant's plugins on the left; the selected one's source in the middle,
 * compiled into a new version on demand; on the right, an ad-hoc test call of
 * a version and the plugin's recent runs.
 */
export class Workbench {
  readonly element: HTMLElement;
  private readonly editor: CodeEditor;
  private plugin: Plugin | null = null;
  private versions: Version[] = [];
  private selected: Version | null = null;

  private readonly pluginList = h('ul', { className: 'plugins', testId: 'plugin-list' });
  private readonly title = h('h2', { testId: 'plugin-title' }, 'No plugin selected');
  private readonly versionSelect = h('select', { testId: 'version-select', disabled: true });
  private readonly versionInfo = h('span', { className: 'version-info', testId: 'version-info' });
  private readonly compileButton = h('button', { testId: 'compile', disabled: true }, 'Compile as new version');
  private readonly publishButton = h('button', { testId: 'publish', disabled: true }, 'Publish');
  private readonly uploadInput = h('input', { type: 'file', accept: '.wasm,application/wasm', testId: 'upload-wasm', disabled: true });
  private readonly notice = h('p', { className: 'notice', role: 'status', testId: 'notice' });
  private readonly problems = h('ul', { className: 'problems', testId: 'problems' });
  private readonly exportSelect = h('select', { testId: 'test-export' });
  private readonly testInput = h('textarea', { rows: 4, placeholder: 'input (text or JSON)', testId: 'test-input' });
  private readonly testButton = h('button', { testId: 'run-test', disabled: true }, 'Run');
  private readonly testResult = h('div', { testId: 'test-result' });
  private readonly runsList = h('tbody', { testId: 'runs' });
  private readonly runDetail = h('div', { testId: 'run-detail' });
  private readonly bindings: BindingsPanel;

  constructor(
    private readonly client: ApiClient,
    tenantName: string,
    onSignOut: () => void,
  ) {
    const editorHost = h('div', { className: 'editor', testId: 'editor' });
    const signOut = h('button', { className: 'link' }, 'Sign out');
    signOut.addEventListener('click', onSignOut);
    this.element = h(
      'div',
      { className: 'workbench' },
      h('header', {}, h('h1', {}, 'Airlock'), h('span', { className: 'tenant', testId: 'tenant-name' }, tenantName), signOut),
      h('aside', {}, h('h3', {}, 'Plugins'), this.newPluginForm(), this.pluginList),
      h(
        'main',
        {},
        h(
          'div',
          { className: 'toolbar' },
          this.title,
          this.versionSelect,
          this.versionInfo,
          this.compileButton,
          this.publishButton,
          h('label', { className: 'upload' }, 'Upload .wasm ', this.uploadInput),
        ),
        this.notice,
        editorHost,
        this.problems,
      ),
      h(
        'section',
        { className: 'side' },
        h('h3', {}, 'Test call'),
        h('label', {}, 'Export ', this.exportSelect),
        this.testInput,
        this.testButton,
        this.testResult,
        (this.bindings = new BindingsPanel(client)).element,
        h('h3', {}, 'Recent runs ', this.refreshRunsButton()),
        h('table', { className: 'runs' }, h('thead', {}, h('tr', {}, h('th', {}, 'when'), h('th', {}, 'version'), h('th', {}, 'export'), h('th', {}, 'status'), h('th', {}, 'ms'))), this.runsList),
        this.runDetail,
      ),
    );
    this.editor = new CodeEditor(editorHost);
    this.compileButton.addEventListener('click', () => void this.compile());
    this.publishButton.addEventListener('click', () => void this.publish());
    this.testButton.addEventListener('click', () => void this.runTest());
    this.uploadInput.addEventListener('change', () => void this.upload());
    this.versionSelect.addEventListener('change', () => void this.selectVersion(Number(this.versionSelect.value)));
  }

  async start(): Promise<void> {
    await this.guard(() => this.loadPlugins());
  }

  private newPluginForm(): HTMLElement {
    const name = h('input', { placeholder: 'new-plugin-name', required: true, testId: 'new-plugin-name' });
    const template = h('select', { testId: 'new-plugin-template' }, ...[...TEMPLATES.keys()].map((key) => h('option', { value: key }, key)));
    const form = h('form', { className: 'new-plugin' }, name, template, h('button', { type: 'submit', testId: 'create-plugin' }, 'Create'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.guard(async () => {
        const plugin = await this.client.post<Plugin>('/v1/plugins', { name: name.value.trim() });
        name.value = '';
        await this.loadPlugins();
        await this.selectPlugin(plugin, TEMPLATES.get(template.value) ?? '');
      });
    });
    return form;
  }

  private refreshRunsButton(): HTMLElement {
    const button = h('button', { className: 'link', testId: 'refresh-runs' }, 'refresh');
    button.addEventListener('click', () => void this.guard(() => this.loadRuns()));
    return button;
  }

  private async loadPlugins(): Promise<void> {
    const plugins = await this.all<Plugin>('/v1/plugins');
    fill(
      this.pluginList,
      ...plugins.map((plugin) => {
        const item = h('li', { className: plugin.id === this.plugin?.id ? 'selected' : '' }, h('button', { className: 'link', testId: `plugin-${plugin.name}` }, plugin.name));
        item.addEventListener('click', () => void this.guard(() => this.selectPlugin(plugin)));
        return item;
      }),
    );
  }

  private async selectPlugin(plugin: Plugin, template?: string): Promise<void> {
    this.plugin = plugin;
    this.title.textContent = plugin.name;
    for (const item of this.pluginList.children) item.classList.toggle('selected', item.textContent === plugin.name);
    const versions = await this.all<Version>(`/v1/plugins/${plugin.id}/versions`);
    // Another plugin was picked meanwhile: it is the one shown.
    if (this.plugin !== plugin) return;
    this.versions = versions;
    this.compileButton.disabled = false;
    this.uploadInput.disabled = false;
    fill(this.problems);
    fill(this.testResult);
    fill(this.runDetail);
    this.renderVersions();
    const latest = this.versions.at(-1);
    if (latest === undefined) {
      this.selected = null;
      this.editor.source = template ?? TEMPLATES.get(FIRST_TEMPLATE) ?? '';
      this.renderSelected();
      this.say('No versions yet: compile the source to make version 1.');
    } else {
      await this.selectVersion(latest.number);
    }
    await Promise.all([this.loadRuns(), this.bindings.show(plugin, this.versions)]);
  }

  /** Shows a version; when it has source, its source replaces the editor's. */
  private async selectVersion(number: number): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    await this.guard(async () => {
      const version = await this.client.get<Version>(`/v1/plugins/${plugin.id}/versions/${number}`);
      if (this.plugin !== plugin) return;
      this.selected = version;
      const files = version.source?.files;
      if (files !== undefined) this.editor.source = files[version.source?.entry ?? ENTRY] ?? Object.values(files)[0] ?? '';
      else this.say(`Version ${number} was uploaded as a module: it has no source here. Compiling makes a new version from the editor.`);
      this.renderSelected();
    });
  }

  private renderVersions(): void {
    fill(this.versionSelect, ...this.versions.map((version) => h('option', { value: String(version.number) }, `v${version.number} (${version.status})`)));
    this.versionSelect.disabled = this.versions.length === 0;
  }

  private renderSelected(): void {
    const version = this.selected;
    if (version !== null) this.versionSelect.value = String(version.number);
    this.versionInfo.textContent =
      version === null
        ? ''
        : `${version.status}${version.approvalStatus === 'not_required' ? '' : `, approval ${version.approvalStatus}`}${version.permissions.length === 0 ? '' : `, asks for ${version.permissions.join(', ')}`}`;
    this.publishButton.disabled = version === null || version.status === 'published';
    fill(this.exportSelect, ...(version?.exports ?? []).map((name) => h('option', { value: name }, name)));
    this.testButton.disabled = version === null || version.exports.length === 0;
  }

  private async compile(): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    this.compileButton.disabled = true;
    this.say('Compiling…');
    fill(this.problems);
    this.editor.showDiagnostics([]);
    try {
      const version = await this.client.post<Version>(`/v1/plugins/${plugin.id}/versions`, { language: 'assemblyscript', source: { files: { [ENTRY]: this.editor.source } } });
      this.versions.push(version);
      this.renderVersions();
      this.selected = version;
      this.renderSelected();
      this.say(`Compiled into version ${version.number}; exports ${version.exports.join(', ') || 'nothing'}.`);
      await this.bindings.show(plugin, this.versions);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'compile_failed') this.showProblems((error.details as { diagnostics?: CompileDiagnostic[] } | undefined)?.diagnostics ?? []);
      this.say(describe(error), true);
    } finally {
      this.compileButton.disabled = false;
    }
  }

  private showProblems(diagnostics: CompileDiagnostic[]): void {
    const inEntry = diagnostics.filter((diagnostic) => diagnostic.file === ENTRY || diagnostic.file === '');
    this.editor.showDiagnostics(inEntry.filter((diagnostic) => diagnostic.line > 0));
    fill(
      this.problems,
      ...diagnostics.map((diagnostic) => {
        const where = diagnostic.line > 0 ? `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}` : diagnostic.file;
        const item = h('li', { className: `problem-${diagnostic.severity}` }, h('button', { className: 'link' }, where), ` ${diagnostic.message}`);
        if (diagnostic.line > 0 && diagnostic.file === ENTRY) item.addEventListener('click', () => this.editor.reveal(diagnostic.line, diagnostic.column));
        return item;
      }),
    );
  }

  /** A module built with any Extism PDK becomes the next version, as it is. */
  private async upload(): Promise<void> {
    const plugin = this.plugin;
    const file = this.uploadInput.files?.[0];
    if (plugin === null || file === undefined) return;
    this.say(`Uploading ${file.name}…`);
    await this.guard(async () => {
      try {
        const version = await this.client.postBytes<Version>(`/v1/plugins/${plugin.id}/versions`, file, 'application/wasm');
        this.versions.push(version);
        this.renderVersions();
        this.selected = version;
        this.renderSelected();
        this.say(`${file.name} is version ${version.number}; exports ${version.exports.join(', ') || 'nothing'}.`);
        await this.bindings.show(plugin, this.versions);
      } finally {
        this.uploadInput.value = '';
      }
    });
  }

  private async publish(): Promise<void> {
    const { plugin, selected } = this;
    if (plugin === null || selected === null) return;
    await this.guard(async () => {
      const { version } = await this.client.post<{ version: Version }>(`/v1/plugins/${plugin.id}/versions/${selected.number}/publish`);
      this.versions = this.versions.map((known) => (known.number === version.number ? version : known));
      this.selected = version;
      this.renderVersions();
      this.renderSelected();
      this.say(`Version ${version.number} is published: bindings can run it.`);
      await this.bindings.show(plugin, this.versions);
    });
  }

  private async runTest(): Promise<void> {
    const { plugin, selected } = this;
    if (plugin === null || selected === null) return;
    this.testButton.disabled = true;
    fill(this.testResult, 'Running…');
    try {
      const run = await this.client.post<{ results: TestResult[] }>(`/v1/plugins/${plugin.id}/versions/${selected.number}/test`, {
        export: this.exportSelect.value,
        input: this.testInput.value,
      });
      fill(this.testResult, ...run.results.map((result) => runView(result)));
    } catch (error) {
      fill(this.testResult, h('p', { className: 'problem' }, describe(error)));
    } finally {
      this.testButton.disabled = false;
    }
  }

  private async loadRuns(): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    const page = await this.client.get<Page<Invocation>>(`/v1/invocations?pluginId=${encodeURIComponent(plugin.id)}&limit=20`);
    fill(
      this.runsList,
      ...page.items.map((invocation) => {
        const row = h(
          'tr',
          { className: 'run-row' },
          h('td', {}, new Date(invocation.createdAt).toLocaleString()),
          h('td', {}, `v${invocation.version}`),
          h('td', {}, invocation.export),
          h('td', {}, invocation.status),
          h('td', {}, invocation.durationMs === null ? '' : invocation.durationMs.toFixed(1)),
        );
        row.addEventListener('click', () =>
          void this.guard(async () => {
            const detail = await this.client.get<Invocation>(`/v1/invocations/${invocation.id}`);
            const traceHolder = h('div', {});
            const showTrace = h('button', { className: 'link', testId: 'show-trace' }, 'show trace');
            showTrace.addEventListener('click', () =>
              void this.client
                .get<Trace>(`/v1/invocations/${detail.id}/trace`)
                .then((trace) => fill(traceHolder, traceView(trace)))
                .catch((error: unknown) => fill(traceHolder, h('p', { className: 'problem' }, describe(error)))),
            );
            fill(this.runDetail, runView(detail, `Invocation ${detail.id}${detail.attempts > 1 ? ` (${detail.attempts} attempts)` : ''}`), showTrace, traceHolder);
          }),
        );
        return row;
      }),
    );
  }

  /** Every page of a list route. */
  private async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: Page<T> = await this.client.get<Page<T>>(`${path}${separator}limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }

  private say(message: string, problem = false): void {
    this.notice.textContent = message;
    this.notice.classList.toggle('problem', problem);
  }

  /** Runs an action, showing what went wrong instead of losing it. */
  private async guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.say(describe(error), true);
    }
  }
}
