import { type ApiClient, ApiError, type Invocation, type Page, type Plugin, type Trace } from './api-client.js';
import { fill, h, untrusted } from './dom.js';
import { runView } from './run-view.js';
import { explain } from './explain.js';
import { traceView } from './trace-view.js';

/** The plugin's recent invocations (events and direct calls); one opened shows its result, logs and trace. */
export class RunsPanel {
  readonly element: HTMLElement;
  private readonly list = h('tbody', { testId: 'runs' });
  private readonly detail = h('div', { testId: 'run-detail' });
  private readonly message = h('p', { className: 'problem' });
  private plugin: Plugin | null = null;
  /** The run whose detail was asked for last. */
  private opening: string | null = null;

  constructor(private readonly client: ApiClient) {
    const refresh = h('button', { className: 'link', testId: 'refresh-runs' }, 'refresh');
    refresh.addEventListener('click', () => void this.reload());
    this.element = h(
      'div',
      {},
      h('h3', {}, 'Recent runs ', refresh),
      this.message,
      h('table', { className: 'runs' }, h('thead', {}, h('tr', {}, h('th', {}, 'when'), h('th', {}, 'version'), h('th', {}, 'export'), h('th', {}, 'status'), h('th', {}, 'ms'))), this.list),
      this.detail,
    );
  }

  /** Switches to `plugin`: what the plugin shown before ran goes at once, then this one's runs are read. */
  async show(plugin: Plugin): Promise<void> {
    this.plugin = plugin;
    this.opening = null;
    this.message.textContent = '';
    fill(this.list);
    fill(this.detail);
    await this.reload();
  }

  private async reload(): Promise<void> {
    const plugin = this.plugin;
    if (plugin === null) return;
    this.message.textContent = '';
    try {
      const page = await this.client.get<Page<Invocation>>(`/v1/invocations?pluginId=${encodeURIComponent(plugin.id)}&limit=20`);
      if (plugin === this.plugin) fill(this.list, ...page.items.map((invocation) => this.row(invocation)));
    } catch (error) {
      if (plugin === this.plugin) this.message.textContent = explain(error);
    }
  }

  /**
   * A run, opened by a click anywhere on its row; its time is a button, so it
   * is reached with Tab and opened with Enter or Space too (their click
   * reaches the row's handler).
   */
  private row(invocation: Invocation): HTMLElement {
    const when = new Date(invocation.createdAt).toLocaleString();
    const row = h(
      'tr',
      { className: 'run-row' },
      h('td', {}, h('button', { className: 'link', testId: 'open-run', ariaLabel: `open the run of ${when} (${invocation.status})` }, when)),
      h('td', {}, `v${invocation.version}`),
      h('td', {}, untrusted(invocation.export)),
      h('td', {}, invocation.status, invocation.deadLetteredAt === null ? null : h('span', { className: 'problem' }, ' (dead letter)')),
      h('td', {}, invocation.durationMs === null ? '' : invocation.durationMs.toFixed(1)),
    );
    row.addEventListener('click', () => void this.open(invocation.id));
    return row;
  }

  /**
   * A dead letter (its transient failures outlasted every retry) runs again on
   * demand, as a new invocation: on its own version, or on another published
   * one (a fix). The API refuses a second replay while one is under way, and
   * one after a replay succeeded unless asked again: the tenant confirms that.
   */
  private replayForm(plugin: Plugin | null, letter: Invocation): HTMLElement {
    const version = h('input', { type: 'number', min: '1', value: String(letter.version), testId: 'replay-version', title: 'the version to run it on (empty: its own)' });
    const replay = h('button', { testId: 'replay' }, 'Run again');
    const said = h('span', { testId: 'replay-result' });
    replay.addEventListener('click', () => {
      said.textContent = 'Queueing…';
      said.className = '';
      // One click, one replay; once queued, the button stays off (the API refuses another while this one waits).
      replay.disabled = true;
      const chosen = version.value.trim();
      const send = (again: boolean) =>
        this.client.post<{ invocationId: string; version: number }>(`/v1/dead-letters/${letter.id}/replay`, { ...(chosen === '' ? {} : { version: Number(chosen) }), ...(again ? { again } : {}) });
      void send(false)
        .catch((error: unknown) => {
          const resolvedBy = resolvingReplay(error);
          if (resolvedBy === null || !confirm(`A replay of this dead letter (${resolvedBy}) succeeded already. Run it once more?`)) throw error;
          return send(true);
        })
        .then(async (queued) => {
          said.textContent = `Queued as invocation ${queued.invocationId} on v${queued.version}.`;
          if (plugin === this.plugin) await this.reload();
        })
        .catch((error: unknown) => {
          replay.disabled = false;
          said.textContent = explain(error);
          said.className = 'problem';
        });
    });
    return h(
      'div',
      { className: 'new-binding', testId: 'dead-letter' },
      h('span', { className: 'problem' }, `Dead-lettered ${new Date(letter.deadLetteredAt!).toLocaleString()}: every retry failed.`),
      h('label', {}, 'on version ', version),
      replay,
      said,
    );
  }

  private async open(invocationId: string): Promise<void> {
    const plugin = this.plugin;
    // Runs opened one after the other: only the last one's answer is shown.
    this.opening = invocationId;
    try {
      const detail = await this.client.get<Invocation>(`/v1/invocations/${invocationId}`);
      if (plugin !== this.plugin || this.opening !== invocationId) return;
      const traceHolder = h('div', {});
      const showTrace = h('button', { className: 'link', testId: 'show-trace' }, 'show trace');
      showTrace.addEventListener('click', () =>
        void this.client
          .get<Trace>(`/v1/invocations/${detail.id}/trace`)
          .then((trace) => fill(traceHolder, traceView(trace)))
          .catch((error: unknown) => fill(traceHolder, h('p', { className: 'problem' }, explain(error)))),
      );
      fill(
        this.detail,
        runView(detail, `Invocation ${detail.id}${detail.attempts > 1 ? ` (${detail.attempts} attempts)` : ''}`),
        detail.replayOf === null ? null : h('p', { className: 'note' }, `A replay of dead letter ${detail.replayOf}.`),
        detail.deadLetteredAt === null ? null : this.replayForm(plugin, detail),
        showTrace,
        traceHolder,
      );
    } catch (error) {
      if (plugin === this.plugin && this.opening === invocationId) this.message.textContent = explain(error);
    }
  }
}

/** The replay that resolved a dead letter, when the API refused another for it (409 naming it), else null. */
function resolvingReplay(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const details = error.details as { replay?: unknown; reason?: unknown } | undefined;
  return typeof details?.replay === 'string' && details.reason === 'resolved' ? details.replay : null;
}
