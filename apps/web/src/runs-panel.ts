import type { ApiClient, Invocation, Page, Plugin, Trace } from './api-client.js';
import { fill, h } from './dom.js';
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

  async show(plugin: Plugin): Promise<void> {
    this.plugin = plugin;
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
      this.message.textContent = explain(error);
    }
  }

  private row(invocation: Invocation): HTMLElement {
    const row = h(
      'tr',
      { className: 'run-row' },
      h('td', {}, new Date(invocation.createdAt).toLocaleString()),
      h('td', {}, `v${invocation.version}`),
      h('td', {}, invocation.export),
      h('td', {}, invocation.status),
      h('td', {}, invocation.durationMs === null ? '' : invocation.durationMs.toFixed(1)),
    );
    row.addEventListener('click', () => void this.open(invocation.id));
    return row;
  }

  private async open(invocationId: string): Promise<void> {
    const plugin = this.plugin;
    try {
      const detail = await this.client.get<Invocation>(`/v1/invocations/${invocationId}`);
      if (plugin !== this.plugin) return;
      const traceHolder = h('div', {});
      const showTrace = h('button', { className: 'link', testId: 'show-trace' }, 'show trace');
      showTrace.addEventListener('click', () =>
        void this.client
          .get<Trace>(`/v1/invocations/${detail.id}/trace`)
          .then((trace) => fill(traceHolder, traceView(trace)))
          .catch((error: unknown) => fill(traceHolder, h('p', { className: 'problem' }, explain(error)))),
      );
      fill(this.detail, runView(detail, `Invocation ${detail.id}${detail.attempts > 1 ? ` (${detail.attempts} attempts)` : ''}`), showTrace, traceHolder);
    } catch (error) {
      this.message.textContent = explain(error);
    }
  }
}
