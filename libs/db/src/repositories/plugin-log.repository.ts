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

/**
 * Plugin logs (Extism `log_*`), searched across a tenant's finished
 * invocations. The lines live with their invocation (capped per policy); this
 * reads them in order of the invocations' finish, then line by line.
 */
export class PluginLogRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async search(
    tenantId: string,
    filter: { pluginId?: string | undefined; levels: readonly string[]; since?: Date | undefined },
    page: { limit: number; after?: LogCursor | undefined },
  ): Promise<{ entries: PluginLogEntry[]; next: LogCursor | null }> {
    const after = page.after ?? { finishedAt: filter.since ?? new Date(0), invocationId: '00000000-0000-0000-0000-000000000000', line: -1 };
    const rows = await this.prisma.$queryRaw<LogRow[]>`
      SELECT i.id AS invocation_id, i.plugin_id, i.version, l.ordinality - 1 AS line,
             l.value->>'level' AS level, l.value->>'message' AS message,
             COALESCE(i.started_at, i.created_at) + ((l.value->>'atMs')::float8 * interval '1 millisecond') AS at,
             i.finished_at
        FROM invocations i
        CROSS JOIN LATERAL jsonb_array_elements(i.logs) WITH ORDINALITY AS l(value, ordinality)
       WHERE i.tenant_id = ${tenantId}::uuid
         AND i.finished_at >= ${after.finishedAt}
         AND (i.finished_at, i.id, l.ordinality - 1) > (${after.finishedAt}::timestamptz, ${after.invocationId}::uuid, ${after.line}::bigint)
         AND (${filter.pluginId ?? null}::uuid IS NULL OR i.plugin_id = ${filter.pluginId ?? null}::uuid)
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
    return { entries, next: !more || last === undefined ? null : { finishedAt: last.finishedAt, invocationId: last.invocationId, line: last.line } };
  }
}
