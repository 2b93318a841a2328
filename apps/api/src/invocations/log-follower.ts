import type { LogCursor, PluginLogEntry } from '@airlock/db';

/** How long after an invocation's finish time its outcome may still be committing (workers stamp, then write). */
const COMMIT_LAG_MS = 5_000;
const PAGE = 500;
/** Pages read per poll at most; a larger backlog is read over the next polls. */
const MAX_PAGES = 10;
const FIRST = '00000000-0000-0000-0000-000000000000';

type ReadPage = (after: LogCursor, limit: number) => Promise<{ entries: PluginLogEntry[]; next: LogCursor | null }>;

/**
 * Follows a tenant's plugin log lines as invocations finish. Lines are ordered
 * by their invocation's finish time, but workers write outcomes a moment after
 * stamping that time, so they commit out of order: a cursor that only moved
 * forward would skip a line stamped earlier and committed later. Each poll
 * therefore reads again from a horizon `COMMIT_LAG_MS` behind, and sends only
 * lines it has not sent.
 */
export class LogFollower {
  /** Lines sent since the horizon, by invocation and line, with their invocation's finish time. */
  private readonly sent = new Map<string, number>();
  /** Everything that finished before this was read. */
  private horizon: number;
  /** Where the last poll stopped inside a backlog larger than a poll reads (many lines can share one finish time). */
  private resume: LogCursor | null = null;

  constructor(
    private readonly read: ReadPage,
    since: Date,
    private readonly now: () => number = Date.now,
  ) {
    this.horizon = since.getTime();
  }

  /**
   * Where a stream that ends now should be opened again (`since`) to miss nothing: every line of an invocation
   * that finished before it has been sent. Lines of the few seconds after it (COMMIT_LAG_MS) may come again: their
   * invocation and line number tell them apart.
   */
  resumeSince(): Date {
    return new Date(this.resume === null ? this.horizon : Math.min(this.horizon, this.resume.finishedAt.getTime()));
  }

  /** The lines committed since the last poll, in order. */
  async poll(): Promise<PluginLogEntry[]> {
    const fresh: PluginLogEntry[] = [];
    let after: LogCursor = this.resume ?? { finishedAt: new Date(this.horizon), invocationId: FIRST, line: -1 };
    let readAll = false;
    for (let page = 0; page < MAX_PAGES && !readAll; page++) {
      const { entries, next } = await this.read(after, PAGE);
      for (const entry of entries) {
        const key = `${entry.invocationId}:${entry.line}`;
        if (this.sent.has(key)) continue;
        this.sent.set(key, entry.finishedAt.getTime());
        fresh.push(entry);
      }
      // A page may be short and still not the last (a page reads so many invocations at most): only no `next` is the end.
      readAll = next === null;
      if (next !== null) after = next;
    }
    // A backlog larger than a poll reads holds the horizon where reading stopped, and the next poll goes on from there.
    this.resume = readAll ? null : after;
    const settled = this.now() - COMMIT_LAG_MS;
    this.horizon = Math.max(this.horizon, readAll ? settled : Math.min(settled, after.finishedAt.getTime()));
    for (const [key, finishedAt] of this.sent) if (finishedAt < this.horizon) this.sent.delete(key);
    return fresh;
  }
}
