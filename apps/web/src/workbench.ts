import { type ApiClient, ApiError, type CompileDiagnostic, type Plugin, type TestResult, type Version } from './api-client.js';
import { BindingsPanel } from './bindings-panel.js';
import { CodeEditor, NEW_FILE_NAME, type PluginSource } from './code-editor.js';
import { fill, h, untrusted } from './dom.js';
import { forgetKeptEdits, keepEdits, keptEditsOf } from './kept-edits.js';
import { Notice } from './notice.js';
import { LogsPanel } from './logs-panel.js';
import { runView } from './run-view.js';
import { RunsPanel } from './runs-panel.js';
import type { Tenant } from './sign-in.js';
import { parseStringMap } from './string-map.js';
import { explain } from './explain.js';
import { FIRST_TEMPLATE, TEMPLATES } from './templates.js';
import { TestsPanel } from './tests-panel.js';
import { UsageDialog } from './usage-dialog.js';
import { WebhooksDialog } from './webhooks-dialog.js';

const ENTRY = 'index.ts';
const templateSource = (name: string): PluginSource => ({ files: { [ENTRY]: TEMPLATES.get(name) ?? '' }, entry: ENTRY });

/** What publishing made of a version: bindings run it only once the permissions it asks for are approved. */
function publishedNotice(version: Version): string {
  switch (version.approvalStatus) {
    case 'pending':
      return `Version ${version.number} is published, and runs nothing until an admin approves the permissions it asks for (${version.permissions.join(', ')}).`;
    case 'rejected':
      return `Version ${version.number} is published, but an admin refused the permissions it asks for: bindings cannot run it.`;
    default:
      return `Version ${version.number} is published: bindings can run it.`;
  }
}

/**
 * The tenant's plugins on the left; the selected one's source in the middle,
 * compiled into a new version on demand; on the right, an ad-hoc test call of
 * a version, its bindings and its recent runs.
 *
 * Every answer is applied only if the plugin it was asked for is still the one
 * open: a slow compile must not land on the plugin picked meanwhile. Each
 * button that changes something is off while its request runs: one click,
 * one change.
 */
export class Workbench {
  readonly element: HTMLElement;
  private readonly editor: CodeEditor;
  private plugin: Plugin | null = null;
  /** The plugin whose own source is in the editor (what compiling makes a version of); null while another's loads. */
  private editing: Plugin | null = null;
  private versions: Version[] = [];
  private selected: Version | null = null;

  private readonly pluginList = h('ul', { className: 'plugins', testId: 'plugin-list' });
  private readonly title = h('h2', { testId: 'plugin-title' }, 'No plugin selected');
  private readonly versionSelect = h('select', { testId: 'version-select', disabled: true, ariaLabel: 'version shown' });
  private readonly versionInfo = h('span', { className: 'version-info', testId: 'version-info' });
  private readonly compileButton = h('button', { testId: 'compile', disabled: true, title: 'Ctrl+S' }, 'Compile as new version');
  private readonly publishButton = h('button', { testId: 'publish', disabled: true }, 'Publish');
  private readonly uploadInput = h('input', { type: 'file', accept: '.wasm,application/wasm', testId: 'upload-wasm', disabled: true });
  private readonly notice = new Notice('notice');
  private readonly problems = h('ul', { className: 'problems', testId: 'problems' });
  private readonly exportSelect = h('select', { testId: 'test-export', ariaLabel: 'export of the test call' });
  private readonly testInput = h('textarea', { rows: 4, placeholder: 'input (text or JSON)', testId: 'test-input', ariaLabel: 'input of the test call' });
  private readonly testConfig = h('textarea', { rows: 2, spellcheck: false, placeholder: 'config: {"minTotal": "100"}', testId: 'test-config', ariaLabel: 'config of the test call (JSON)' });
  private readonly testButton = h('button', { testId: 'run-test', disabled: true }, 'Run');
  private readonly testResult = h('div', { testId: 'test-result' });
  private readonly bindings: BindingsPanel;
  private readonly runs: RunsPanel;
  private readonly logs: LogsPanel;
  private readonly tests = new TestsPanel();
  private readonly warnBeforeLeaving = (event: BeforeUnloadEvent) => {
    if (this.unsaved) event.preventDefault();
  };

  constructor(
    private readonly client: ApiClient,
    private readonly tenant: Tenant,
    onSignOut: () => void,
  ) {
    const editorHost = h('div', { className: 'editor', testId: 'editor' });
    const addFile = h('button', { className: 'link', testId: 'add-file' }, '+ file');
    const fileBar = h('div', { className: 'file-bar' }, addFile);
    const signOut = h('button', { className: 'link' }, 'Sign out');
    // Signing out drops the editor: edits not compiled go only if the developer says so, as when opening another plugin.
    signOut.addEventListener('click', () => {
      if (!this.keepEdits()) onSignOut();
    });
    const webhooks = new WebhooksDialog(client);
    const openWebhooks = h('button', { className: 'link', testId: 'open-webhooks' }, 'Webhooks');
    openWebhooks.addEventListener('click', () => void webhooks.open());
    const usage = new UsageDialog(client);
    const openUsage = h('button', { className: 'link', testId: 'open-usage' }, 'Quota and usage');
    openUsage.addEventListener('click', () => void usage.open());
    this.bindings = new BindingsPanel(client);
    this.runs = new RunsPanel(client);
    this.logs = new LogsPanel(client);
    this.element = h(
      'div',
      { className: 'workbench' },
      h('header', {}, h('h1', {}, 'Airlock'), h('span', { className: 'tenant', testId: 'tenant-name', title: tenant.name }, untrusted(tenant.name)), openUsage, openWebhooks, signOut),
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
        this.notice.element,
        fileBar,
        editorHost,
        this.problems,
      ),
      h(
        'section',
        { className: 'side' },
        h('h3', {}, 'Test call'),
        h('label', {}, 'Export ', this.exportSelect),
        this.testInput,
        this.testConfig,
        this.testButton,
        this.testResult,
        this.tests.element,
        this.bindings.element,
        this.runs.element,
        this.logs.element,
      ),
      webhooks.element,
      usage.element,
    );
    this.editor = new CodeEditor(editorHost);
    fileBar.prepend(this.editor.tabs);
    addFile.addEventListener('click', () => this.addFile());
    this.compileButton.addEventListener('click', () => void this.compile());
    this.publishButton.addEventListener('click', () => void this.publish());
    this.testButton.addEventListener('click', () => void this.runTest());
    this.tests.runButton.addEventListener('click', () => void this.runDeclaredTests());
    this.uploadInput.addEventListener('change', () => void this.upload());
    this.editor.onSave(() => {
      if (!this.compileButton.disabled) void this.compile();
    });
    // Edits not compiled yet are not thrown away unasked.
    window.addEventListener('beforeunload', this.warnBeforeLeaving);
    this.versionSelect.addEventListener('change', () => {
      const number = Number(this.versionSelect.value);
      if (this.selected !== null) this.versionSelect.value = String(this.selected.number);
      if (!this.keepEdits()) void this.selectVersion(number);
    });
  }

  async start(): Promise<void> {
    await this.notice.guard(async () => this.restoreKeptEdits(await this.loadPlugins()));
  }

  /**
   * Keeps the edits not compiled for this tenant's next sign-in in this tab:
   * for when Airlock refused the key, and nobody chose to drop them. True
   * when there were some, and they are kept.
   */
  keepUnsavedEdits(): boolean {
    const plugin = this.editing;
    if (plugin === null || !this.unsaved) return false;
    return keepEdits({
      tenantId: this.tenant.id,
      pluginId: plugin.id,
      pluginName: plugin.name,
      source: this.editor.source,
      ...(this.tests.dirty ? { tests: this.tests.typed } : {}),
    });
  }

  /** Puts edits kept from a refused key back over their plugin, as changes not compiled yet. */
  private async restoreKeptEdits(plugins: Plugin[]): Promise<void> {
    const kept = keptEditsOf(this.tenant.id);
    if (kept === null) return;
    const plugin = plugins.find((known) => known.id === kept.pluginId);
    if (plugin === undefined) {
      // Nothing to compile them into any more; they stay in the editor to be copied from until another plugin is opened.
      forgetKeptEdits();
      this.editor.restore(kept.source);
      if (kept.tests !== undefined) this.tests.restore(kept.tests);
      this.notice.say(['Your changes to ', untrusted(kept.pluginName), ' not compiled when you were signed out are in the editor, but that plugin is gone: copy what you need.'], true);
      return;
    }
    await this.selectPlugin(plugin);
    // Another plugin opened meanwhile, or its source failed to load: they wait for the next sign-in.
    if (this.editing !== plugin) return;
    this.editor.restore(kept.source);
    if (kept.tests !== undefined) this.tests.restore(kept.tests);
    forgetKeptEdits();
    this.notice.say(['Your changes to ', untrusted(plugin.name), ' not compiled when you were signed out are back: compile them to keep them.']);
  }

  /** Frees the editor (signing out). */
  dispose(): void {
    window.removeEventListener('beforeunload', this.warnBeforeLeaving);
    this.logs.stop();
    this.editor.dispose();
  }

  private newPluginForm(): HTMLElement {
    const name = h('input', { placeholder: 'order-checks', required: true, testId: 'new-plugin-name', ariaLabel: 'name of the new plugin' });
    const template = h('select', { testId: 'new-plugin-template', ariaLabel: 'template of the new plugin' }, ...[...TEMPLATES.keys()].map((key) => h('option', { value: key }, key)));
    const fields = h('fieldset', { className: 'new-plugin' }, name, template, h('button', { type: 'submit', testId: 'create-plugin' }, 'Create'));
    const form = h('form', {}, fields);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.keepEdits()) return;
      // One click, one plugin: the form is off until it is made and open.
      fields.disabled = true;
      void this.notice
        .guard(async () => {
          const plugin = await this.client.post<Plugin>('/v1/plugins', { name: name.value.trim() });
          name.value = '';
          await this.loadPlugins();
          await this.selectPlugin(plugin, templateSource(template.value));
        })
        .finally(() => (fields.disabled = false));
    });
    return form;
  }

  private async loadPlugins(): Promise<Plugin[]> {
    const plugins = await this.client.all<Plugin>('/v1/plugins');
    fill(
      this.pluginList,
      ...plugins.map((plugin) => {
        const item = h('li', { className: plugin.id === this.plugin?.id ? 'selected' : '' }, h('button', { className: 'link', testId: `plugin-${plugin.name}` }, untrusted(plugin.name)));
        item.addEventListener('click', () => {
          // The plugin open already, unless its source failed to load: clicked again, it is loaded again.
          if (plugin.id === this.editing?.id || this.keepEdits()) return;
          void this.notice.guard(() => this.selectPlugin(plugin));
        });
        return item;
      }),
    );
    return plugins;
  }

  /** Opens a plugin at its newest version; one without versions starts from `template`. */
  private async selectPlugin(plugin: Plugin, template: PluginSource = templateSource(FIRST_TEMPLATE)): Promise<void> {
    this.plugin = plugin;
    // Until the plugin's own source is in the editor, nothing may be compiled or uploaded as a version of it.
    this.editing = null;
    this.compileButton.disabled = true;
    this.uploadInput.disabled = true;
    fill(this.title, untrusted(plugin.name));
    for (const item of this.pluginList.children) item.classList.toggle('selected', item.textContent === plugin.name);
    this.notice.say('');
    this.selected = null;
    this.versions = [];
    this.renderVersions();
    this.renderSelected();
    fill(this.problems);
    fill(this.testResult);
    // The side panels switch at once: left on the plugin shown before, their controls would act on it.
    this.logs.show(plugin);
    const panels = Promise.all([this.runs.show(plugin), this.bindings.open(plugin)]);
    const versions = await this.client.all<Version>(`/v1/plugins/${plugin.id}/versions`);
    if (this.plugin !== plugin) return;
    this.versions = versions;
    this.bindings.offer(plugin, versions);
    this.renderVersions();
    const latest = this.versions.at(-1);
    if (latest === undefined) {
      this.editor.load(template);
      this.tests.load([]);
      this.holdSourceOf(plugin);
      this.notice.say('No versions yet: compile the source to make version 1.');
    } else {
      await this.selectVersion(latest.number);
    }
    await panels;
  }

  /** Shows a version, its source in the editor; a module uploaded without source leaves a template to start from. */
  private async selectVersion(number: number): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    await this.notice.guard(async () => {
      const version = await this.client.get<Version>(`/v1/plugins/${plugin.id}/versions/${number}`);
      if (this.plugin !== plugin) return;
      this.selected = version;
      this.renderSelected();
      fill(this.problems);
      this.tests.load(version.tests ?? []);
      if (version.source?.files !== undefined) {
        this.editor.load({ files: version.source.files, entry: version.source.entry ?? ENTRY });
        this.notice.say('');
      } else {
        const start = templateSource(FIRST_TEMPLATE);
        start.files[ENTRY] = `// ${plugin.name} v${number} was uploaded as a compiled module: Airlock has no source of it.\n// Compiling this file makes a new version from it.\n\n${start.files[ENTRY]}`;
        this.editor.load(start);
        this.notice.say(`Version ${number} was uploaded as a module: it has no source here. The editor holds a template; compiling makes a new version from it.`);
      }
      this.holdSourceOf(plugin);
    });
  }

  /** `plugin`'s own source is in the editor now: compiling or uploading makes a version of it. */
  private holdSourceOf(plugin: Plugin): void {
    this.editing = plugin;
    this.compileButton.disabled = false;
    this.uploadInput.disabled = false;
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
    this.tests.runButton.disabled = version === null;
  }

  private async compile(): Promise<void> {
    // Ctrl+S as well as the button: never while another plugin's source is still in the editor.
    const plugin = this.editing;
    if (plugin === null || plugin !== this.plugin) return;
    const source = this.editor.source;
    const testsText = this.tests.typed;
    let tests: unknown[];
    try {
      tests = this.tests.value();
    } catch (error) {
      this.notice.say(explain(error), true);
      return;
    }
    this.compileButton.disabled = true;
    this.notice.say('Compiling…');
    fill(this.problems);
    this.editor.showDiagnostics([]);
    try {
      const version = await this.client.post<Version>(`/v1/plugins/${plugin.id}/versions`, { language: 'assemblyscript', source, tests });
      if (this.plugin !== plugin) return;
      const created = this.showNewVersion(version);
      // What was compiled is kept; edits made while it compiled are still unsaved.
      if (JSON.stringify(this.editor.source) === JSON.stringify(source)) this.editor.markSaved();
      if (this.tests.typed === testsText) this.tests.markSaved(testsText);
      // Declared tests other than the version's are refused by the API (409), which says so: they were not saved.
      this.notice.say(
        created
          ? `Compiled into version ${version.number}; exports ${version.exports.join(', ') || 'nothing'}.`
          : `It compiles to the same module as version ${version.number}: no new version.`,
      );
      await this.bindings.refresh(plugin, this.versions);
    } catch (error) {
      if (this.plugin !== plugin) return;
      if (error instanceof ApiError && error.code === 'compile_failed') this.showProblems((error.details as { diagnostics?: CompileDiagnostic[] } | undefined)?.diagnostics ?? []);
      this.notice.say(explain(error), true);
    } finally {
      // Another plugin opened meanwhile turns it back on once its own source is in the editor.
      if (this.editing === plugin) this.compileButton.disabled = false;
    }
  }

  /** Selects a version just made, adding it to the list unless it was there (the same bytes make no new version). */
  private showNewVersion(version: Version): boolean {
    const created = !this.versions.some((known) => known.number === version.number);
    if (created) this.versions.push(version);
    this.renderVersions();
    this.selected = version;
    this.renderSelected();
    return created;
  }

  private showProblems(diagnostics: CompileDiagnostic[]): void {
    this.editor.showDiagnostics(diagnostics);
    fill(
      this.problems,
      ...diagnostics.map((diagnostic) => {
        const where = diagnostic.line > 0 ? `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}` : diagnostic.file;
        const item = h('li', { className: `problem-${diagnostic.severity}` }, h('button', { className: 'link' }, where), ` ${diagnostic.message}`);
        if (diagnostic.line > 0 && this.editor.has(diagnostic.file)) item.addEventListener('click', () => this.editor.reveal(diagnostic.file, diagnostic.line, diagnostic.column));
        return item;
      }),
    );
  }

  /** A new file beside the others, for the entry to import (`import { x } from "./name"`). */
  private addFile(): void {
    const name = prompt('Name of the new file (letters, digits, - and _, ending in .ts):', 'util.ts');
    if (name === null) return;
    if (!NEW_FILE_NAME.test(name.trim())) this.notice.say(`"${name}" is not a file name the compiler takes: letters, digits, - and _, ending in .ts.`, true);
    else if (!this.editor.addFile(name.trim())) this.notice.say(`There is a file ${name.trim()} already.`, true);
  }

  /** A module built with any Extism PDK becomes the next version, as it is. */
  private async upload(): Promise<void> {
    const plugin = this.editing;
    const file = this.uploadInput.files?.[0];
    if (plugin === null || plugin !== this.plugin || file === undefined) return;
    this.notice.say(`Uploading ${file.name}…`);
    this.uploadInput.disabled = true;
    await this.notice.guard(async () => {
      try {
        const version = await this.client.postBytes<Version>(`/v1/plugins/${plugin.id}/versions`, file, 'application/wasm');
        if (this.plugin !== plugin) return;
        const created = this.showNewVersion(version);
        this.notice.say([untrusted(file.name), ` is ${created ? '' : 'already '}version ${version.number}; exports ${version.exports.join(', ') || 'nothing'}.`]);
        await this.bindings.refresh(plugin, this.versions);
      } finally {
        this.uploadInput.value = '';
        // As for a compile: another plugin opened meanwhile turns it back on itself.
        if (this.editing === plugin) this.uploadInput.disabled = false;
      }
    });
  }

  private async publish(): Promise<void> {
    const { plugin, selected } = this;
    if (plugin === null || selected === null || selected.pluginId !== plugin.id) return;
    // One click, one publish request.
    this.publishButton.disabled = true;
    await this.notice.guard(async () => {
      const { version } = await this.client.post<{ version: Version }>(`/v1/plugins/${selected.pluginId}/versions/${selected.number}/publish`).catch((error: unknown) => {
        // The tests that kept it from being published are shown with what they got.
        if (error instanceof ApiError && error.code === 'tests_failed' && this.plugin === plugin) this.tests.showResults((error.details as { results?: TestResult[] } | undefined)?.results ?? []);
        throw error;
      });
      if (this.plugin !== plugin) return;
      this.versions = this.versions.map((known) => (known.number === version.number ? version : known));
      if (this.selected?.number === version.number) this.selected = version;
      this.renderVersions();
      this.renderSelected();
      this.notice.say(publishedNotice(version));
      await this.bindings.refresh(plugin, this.versions);
    });
    // Not published (its tests failed): it can be tried again. Another plugin opened meanwhile has set the button for its own version.
    if (this.plugin === plugin) this.publishButton.disabled = this.selected === null || this.selected.status === 'published';
  }

  private async runTest(): Promise<void> {
    const { plugin, selected } = this;
    if (plugin === null || selected === null || selected.pluginId !== plugin.id) return;
    this.testButton.disabled = true;
    fill(this.testResult, 'Running…');
    try {
      const run = await this.client.post<{ results: TestResult[] }>(`/v1/plugins/${selected.pluginId}/versions/${selected.number}/test`, {
        export: this.exportSelect.value,
        input: this.testInput.value,
        config: parseStringMap(this.testConfig.value, 'config'),
      });
      if (this.plugin === plugin) fill(this.testResult, ...run.results.map((result) => runView(result, `${plugin.name} v${selected.number}`)));
    } catch (error) {
      if (this.plugin === plugin) fill(this.testResult, h('p', { className: 'problem' }, explain(error)));
    } finally {
      this.testButton.disabled = this.selected === null || this.selected.exports.length === 0;
    }
  }

  private async runDeclaredTests(): Promise<void> {
    const { plugin, selected } = this;
    if (plugin === null || selected === null || selected.pluginId !== plugin.id) return;
    this.tests.runButton.disabled = true;
    try {
      const run = await this.client.post<{ results: TestResult[] }>(`/v1/plugins/${selected.pluginId}/versions/${selected.number}/test`, {});
      if (this.plugin === plugin) this.tests.showResults(run.results);
    } catch (error) {
      if (this.plugin === plugin) this.notice.say(explain(error), true);
    } finally {
      this.tests.runButton.disabled = this.selected === null;
    }
  }

  /** Whether the source or the declared tests have edits not compiled into a version. */
  private get unsaved(): boolean {
    return this.editor.dirty || this.tests.dirty;
  }

  /** True when the developer chose to keep edits that are not compiled yet rather than load another source over them. */
  private keepEdits(): boolean {
    if (!this.unsaved) return false;
    if (!confirm('The source or the declared tests have changes not compiled into a version. Discard them?')) return true;
    // Discarded: not kept for a next sign-in either, should what replaces them fail to load.
    this.editor.markSaved();
    this.tests.markSaved(this.tests.typed);
    return false;
  }
}
