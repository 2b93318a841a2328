import { type ApiClient, ApiError, type LogEntry, type Plugin } from './api-client.js';
import { h, untrusted } from './dom.js';
import { explain } from './explain.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
/** Lines kept on screen; older ones scroll away (GET /v1/logs has them all). */
const KEPT_LINES = 500;
/** Following starts this far back, so the lines of the runs just made are there. */
const LOOK_BACK_MS = 15 * 60_000;
/** Refusals that may pass: no answer (0), too many streams or requests (429), Airlock not ready (502-504). */
const RETRIED = new Set([0, 429, 502, 503, 504]);

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

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

  /**
   * Follows until stopped. Airlock ends a stream after a while, saying where to open it again (`since`), which
   * misses nothing; a stream that could not be opened for a while (too many open, Airlock restarting, the network
   * away) is opened again after `Retry-After` or a growing wait. Only a refusal waiting cannot change stops it.
   */
  private async run(plugin: Plugin, signal: AbortSignal, since: string): Promise<void> {
    let from = since;
    let failures = 0;
    while (!signal.aborted) {
      const query = new URLSearchParams({ pluginId: plugin.id, level: this.level.value, since: from });
      try {
        this.status.textContent = 'following';
        const ended = await this.client.stream(`/v1/logs/stream?${query}`, signal, (message) => {
          if (message.event !== 'log') return;
          failures = 0;
          this.add(JSON.parse(message.data) as LogEntry);
        });
        failures = 0;
        if (ended.end === 'timeout' && ended.since !== undefined) from = ended.since;
        if (ended.end === 'closed') await sleep(1000, signal);
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof ApiError) || !RETRIED.has(error.status)) {
          this.status.textContent = `stopped: ${explain(error)}`;
          return;
        }
        const waitMs = error.retryAfterMs ?? Math.min(30_000, 1000 * 2 ** failures++);
        this.status.textContent = `${explain(error)} Trying again in ${Math.ceil(waitMs / 1000)} s.`;
        await sleep(waitMs, signal);
      }
    }
  }

  private add(entry: LogEntry): void {
    // A stream opened again from its `since` repeats the lines of its last few seconds.
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
