import type { ApiClient, LogEntry, Plugin } from './api-client.js';
import { h, untrusted } from './dom.js';
import { explain } from './explain.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
/** Lines kept on screen; older ones scroll away (GET /v1/logs has them all). */
const KEPT_LINES = 500;
/** Following starts this far back, so the lines of the runs just made are there. */
const LOOK_BACK_MS = 15 * 60_000;

/** The plugin's log lines across its runs, followed live (Server-Sent Events) while open. */
export class LogsPanel {
  readonly element: HTMLElement;
  private readonly lines = h('ol', { className: 'logs', testId: 'plugin-logs' });
  private readonly level = h('select', { testId: 'log-level', ariaLabel: 'lowest level of the log lines shown' }, ...LEVELS.map((level) => h('option', { value: level }, `${level} and above`)));
  private readonly status = h('span', { className: 'note', testId: 'log-status' });
  private readonly seen = new Set<string>();
  private readonly details: HTMLDetailsElement;
  private plugin: Plugin | null = null;
  private following: AbortController | null = null;

  constructor(private readonly client: ApiClient) {
    this.details = h('details', { className: 'plugin-logs', testId: 'logs-panel' }, h('summary', {}, 'Logs'), this.level, ' ', this.status, this.lines);
    this.details.addEventListener('toggle', () => (this.details.open ? this.follow() : this.stop()));
    this.level.addEventListener('change', () => {
      if (this.details.open) this.follow();
    });
    this.element = this.details;
  }

  show(plugin: Plugin): void {
    this.plugin = plugin;
    if (this.details.open) this.follow();
  }

  /** Stops following (signing out, or the panel closed). */
  stop(): void {
    this.following?.abort();
    this.following = null;
    this.status.textContent = '';
  }

  private follow(): void {
    this.stop();
    this.lines.replaceChildren();
    this.seen.clear();
    const plugin = this.plugin;
    if (plugin === null) return;
    const controller = new AbortController();
    this.following = controller;
    void this.run(plugin, controller.signal, new Date(Date.now() - LOOK_BACK_MS).toISOString());
  }

  /** Follows until stopped; Airlock ends a stream after a while, and it is opened again from the last line seen. */
  private async run(plugin: Plugin, signal: AbortSignal, since: string): Promise<void> {
    let from = since;
    this.status.textContent = 'following';
    while (!signal.aborted) {
      const query = new URLSearchParams({ pluginId: plugin.id, level: this.level.value, since: from });
      try {
        const ended = await this.client.stream(`/v1/logs/stream?${query}`, signal, (message) => {
          if (message.event !== 'log') return;
          const entry = JSON.parse(message.data) as LogEntry;
          from = entry.at;
          this.add(entry);
        });
        if (ended === 'closed' && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1000));
      } catch (error) {
        if (signal.aborted) return;
        this.status.textContent = `stopped: ${explain(error)}`;
        return;
      }
    }
  }

  private add(entry: LogEntry): void {
    // A stream opened again from the last line's time repeats the lines of that instant.
    const key = `${entry.invocationId}:${entry.line}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.lines.append(
      h(
        'li',
        { className: `log log-${entry.level}` },
        h('span', { className: 'level' }, entry.level),
        ' ',
        h('span', { className: 'note' }, `${new Date(entry.at).toLocaleTimeString()} v${entry.version}`),
        ' ',
        untrusted(entry.message),
      ),
    );
    while (this.lines.childElementCount > KEPT_LINES) this.lines.firstElementChild?.remove();
  }
}
