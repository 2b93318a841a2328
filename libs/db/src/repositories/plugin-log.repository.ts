import type { PrismaClient } from '../generated/prisma/client.js';

/** One line a plugin logged, with the invocation it came from. */
export interface PluginLogEntry {
  invocationId: string;
  pluginId: string;
  version: number;
  /** Position of the line in its invocation's log (0-based). */
  line: number;
  level: string;
  message: string;
  /** When it was logged: the invocation's start plus the line's offset. */
  at: Date;
  /** When its invocation finished: the order lines are read in. */
  finishedAt: Date;
}

/** Where a page of log lines ends: the next page starts after it (null when no line follows). */
export interface LogCursor {
  finishedAt: Date;
  invocationId: string;
  line: number;
}

interface LogRow {
  invocation_id: string;
  plugin_id: string;
  version: number;
  line: bigint;
  level: string;
  message: string;
  at: Date;
  finished_at: Date;
}

/** Invocations one page reads at most: a filter that matches little (a level no line has) does not read them all. */
export const LOG_SCAN_INVOCATIONS = 2000;

/** A cursor past every line of its invocation: the next page starts at the invocation after it. */
const PAST_LAST_LINE = 2 ** 31 - 1;

/**
 * Plugin logs (Extism `log_*`), searched across a tenant's finished
 * invocations. The lines live with their invocation (capped per policy); this
 * reads them in order of the invocations' finish, then line by line.
 */
export class PluginLogRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * A page of lines. It reads at most LOG_SCAN_INVOCATIONS invocations: when they hold fewer matching lines than
   * `limit`, the page is short (even empty) and `next` goes on after the last of them; `next` is null only at the end.
   */
  async search(
    tenantId: string,
    filter: { pluginId?: string | undefined; levels: readonly string[]; since?: Date | undefined },
    page: { limit: number; after?: LogCursor | undefined },
  ): Promise<{ entries: PluginLogEntry[]; next: LogCursor | null }> {
    const after = page.after ?? { finishedAt: filter.since ?? new Date(0), invocationId: '00000000-0000-0000-0000-000000000000', line: -1 };
    const since = filter.since ?? new Date(0);
    const pluginId = filter.pluginId ?? null;
    // The last invocation this page may read (null: fewer are left), found on the (tenant, finished_at) index: of
    // the tenant's invocations, whichever plugin's (no index has the plugin; filtering by it here would read them all).
    const [boundary] = await this.prisma.$queryRaw<Array<{ finished_at: Date; id: string }>>`
      SELECT i.finished_at, i.id FROM invocations i
       WHERE i.tenant_id = ${tenantId}::uuid AND i.finished_at >= ${since} AND i.finished_at >= ${after.finishedAt}
         AND (i.finished_at, i.id) >= (${after.finishedAt}::timestamptz, ${after.invocationId}::uuid)
       ORDER BY i.finished_at, i.id
       OFFSET ${LOG_SCAN_INVOCATIONS - 1} LIMIT 1`;
    const rows = await this.prisma.$queryRaw<LogRow[]>`
      SELECT i.id AS invocation_id, i.plugin_id, i.version, l.ordinality - 1 AS line,
             l.value->>'level' AS level, l.value->>'message' AS message,
             COALESCE(i.started_at, i.created_at) + ((l.value->>'atMs')::float8 * interval '1 millisecond') AS at,
             i.finished_at
        FROM invocations i
        CROSS JOIN LATERAL jsonb_array_elements(i.logs) WITH ORDINALITY AS l(value, ordinality)
       WHERE i.tenant_id = ${tenantId}::uuid
         AND i.finished_at >= ${since} AND i.finished_at >= ${after.finishedAt}
         AND (i.finished_at, i.id, l.ordinality - 1) > (${after.finishedAt}::timestamptz, ${after.invocationId}::uuid, ${after.line}::bigint)
         AND (${boundary === undefined}::boolean OR (i.finished_at, i.id) <= (${boundary?.finished_at ?? null}::timestamptz, ${boundary?.id ?? null}::uuid))
         AND (${pluginId}::uuid IS NULL OR i.plugin_id = ${pluginId}::uuid)
         AND l.value->>'level' = ANY(${[...filter.levels]}::text[])
       ORDER BY i.finished_at, i.id, l.ordinality
       LIMIT ${page.limit + 1}`;
    // One row more than the page says whether another page follows.
    const more = rows.length > page.limit;
    const entries = rows.slice(0, page.limit).map((row) => ({
      invocationId: row.invocation_id,
      pluginId: row.plugin_id,
      version: row.version,
      line: Number(row.line),
      level: row.level,
      message: row.message,
      at: row.at,
      finishedAt: row.finished_at,
    }));
    const last = entries.at(-1);
    if (more && last !== undefined) return { entries, next: { finishedAt: last.finishedAt, invocationId: last.invocationId, line: last.line } };
    return { entries, next: boundary === undefined ? null : { finishedAt: boundary.finished_at, invocationId: boundary.id, line: PAST_LAST_LINE } };
  }
}
