import type { LogLevel, PluginLogLine } from '../outcome.js';

export const LOG_PRIORITY: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface LogLimits {
  maxLines: number;
  maxBytes: number;
  level: LogLevel;
}

// C0 and C1 controls and DEL, except tab: ANSI escapes, CR and LF among them.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** Makes a plugin's log text inert: control characters become visible escapes. */
export function inertText(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => {
    switch (character) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/** A call's plugin logs, kept within the policy's line and byte caps. */
export class LogCollector {
  lines: PluginLogLine[] = [];
  dropped = 0;
  private bytes = 0;
  private startedAt = 0;

  constructor(
    private limits: LogLimits,
    /** Told of each line as it is kept (see KernelHost.logKept). */
    private readonly onKept: (line: PluginLogLine) => void = () => undefined,
  ) {}

  get levelPriority(): number {
    return LOG_PRIORITY[this.limits.level];
  }

  begin(limits: LogLimits): void {
    this.limits = limits;
    this.lines = [];
    this.dropped = 0;
    this.bytes = 0;
    this.startedAt = performance.now();
  }

  /**
   * Whether a line of `rawBytes` bytes at `level` could be kept: `ignore` below
   * the level, `drop` (counted) when the caps leave no room for it. Decoding
   * never makes text shorter than its bytes (an invalid byte becomes U+FFFD,
   * three), nor does making it inert: a line past the room left is dropped
   * without being read, however large (a 16 MB line decoded and escaped would
   * exhaust the executor's heap).
   */
  room(level: LogLevel, rawBytes: number): 'keep' | 'ignore' | 'drop' {
    if (LOG_PRIORITY[level] < LOG_PRIORITY[this.limits.level]) return 'ignore';
    if (this.lines.length >= this.limits.maxLines || this.bytes + rawBytes > this.limits.maxBytes) {
      this.dropped++;
      return 'drop';
    }
    return 'keep';
  }

  add(level: LogLevel, raw: string): void {
    if (LOG_PRIORITY[level] < LOG_PRIORITY[this.limits.level]) return;
    const message = inertText(raw);
    const size = Buffer.byteLength(message);
    if (this.lines.length >= this.limits.maxLines || this.bytes + size > this.limits.maxBytes) {
      this.dropped++;
      // Made inert, it grew past the room its raw bytes fitted (a control character becomes six): its raw bytes count
      // against the room all the same, so that the escaping of dropped lines is bounded by the room in all (a 1 MiB
      // line of them, logged 50 times, took 20 s when each was escaped again).
      this.bytes = Math.min(this.limits.maxBytes, this.bytes + Buffer.byteLength(raw));
      return;
    }
    this.bytes += size;
    const line = { level, message, atMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000 };
    this.lines.push(line);
    this.onKept(line);
  }
}
