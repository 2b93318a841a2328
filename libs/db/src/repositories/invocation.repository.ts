import { randomUUID } from 'node:crypto';
import { type Invocation, Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { ListPage } from './list-position.js';
import { takeTurn } from './tenant-turns.js';

export interface InvocationOutcome {
  status: string;
  output: Uint8Array;
  errorMessage: string | null;
  fuelUsed: bigint;
  memoryPeakBytes: bigint;
  durationMs: number;
  egressBytes: bigint;
  logs: Prisma.InputJsonValue;
  logsDropped: number;
}

/** Invocations as tenants see them; workers claim and finish them through InvocationWorkRepository. */
export class InvocationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** A direct invocation of a plugin version with its own input, queued. */
  createDirect(invocation: {
    tenantId: string;
    pluginId: string;
    version: number;
    exportName: string;
    input: Uint8Array;
    config: Prisma.InputJsonValue;
    traceId: string | null;
  }): Promise<Invocation> {
    return this.prisma.invocation.create({ data: { ...invocation, input: invocation.input as Uint8Array<ArrayBuffer> } });
  }

  /** Newest first, after `page.after` (the place of the last invocation of the previous page) when given. */
  list(
    tenantId: string,
    filter: { eventId?: string | undefined; pluginId?: string | undefined; status?: string | undefined; since?: Date | undefined },
    page: ListPage,
  ): Promise<Invocation[]> {
    const cursor = page.after === undefined ? undefined : { createdAt: page.after.at, id: page.after.id };
    return this.prisma.invocation.findMany({
      where: {
        tenantId,
        ...(filter.eventId ? { eventId: filter.eventId } : {}),
        ...(filter.pluginId ? { pluginId: filter.pluginId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.since ? { createdAt: { gte: filter.since } } : {}),
        ...(cursor === undefined ? {} : { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.take,
    });
  }

  /**
   * The status of each invocation asked for, or of an event's invocations:
   * what streams poll, without the rows' input, output and logs.
   */
  statuses(tenantId: string, where: { ids: string[] } | { eventId: string }): Promise<Array<{ id: string; status: string }>> {
    return this.prisma.invocation.findMany({
      where: { tenantId, ...('ids' in where ? { id: { in: where.ids } } : { eventId: where.eventId }) },
      select: { id: true, status: true },
    });
  }

  findManyById(tenantId: string, ids: string[]): Promise<Invocation[]> {
    return this.prisma.invocation.findMany({ where: { tenantId, id: { in: ids } } });
  }

  findById(tenantId: string, id: string): Promise<Invocation | null> {
    return this.prisma.invocation.findFirst({ where: { id, tenantId } });
  }

  /**
   * For each of these dead letters that a replay ran successfully, the latest such replay's id. Replays make a tree:
   * a dead letter, its replays, theirs when they were dead-lettered in turn. The work is one, so a success anywhere
   * in the tree resolves every dead letter of it.
   */
  async successfulReplays(tenantId: string, deadLetterIds: readonly string[], client: Pick<PrismaClient, '$queryRaw'> = this.prisma): Promise<Map<string, string>> {
    const trees = await this.replayTrees(tenantId, deadLetterIds, client);
    return new Map([...trees].flatMap(([id, tree]) => (tree.resolvedBy === null ? [] : [[id, tree.resolvedBy] as const])));
  }

  /**
   * The replay tree of each of these invocations: its root (the first invocation of the work, kept or deleted by
   * retention), the latest replay in it that succeeded, and one still queued or running. An invocation not found
   * (deleted meanwhile) has no entry.
   */
  private async replayTrees(
    tenantId: string,
    ids: readonly string[],
    client: Pick<PrismaClient, '$queryRaw'>,
  ): Promise<Map<string, { root: string; resolvedBy: string | null; pending: { id: string; status: string } | null }>> {
    if (ids.length === 0) return new Map();
    const rows = await client.$queryRaw<Array<{ start: string; root: string; resolved_by: string | null; pending_id: string | null; pending_status: string | null }>>`
      WITH RECURSIVE up (start, id, replay_of, depth) AS (
        SELECT i.id, i.id, i.replay_of, 0 FROM invocations i
         WHERE i.tenant_id = ${tenantId}::uuid AND i.id IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})
        UNION ALL
        SELECT u.start, i.id, i.replay_of, u.depth + 1 FROM invocations i JOIN up u ON i.id = u.replay_of
         WHERE i.tenant_id = ${tenantId}::uuid
      ),
      -- The first invocation of the work, or the id it replays when retention deleted that one: its replays (siblings
      -- once their parent is gone) still share the root by the id they name.
      roots AS (SELECT DISTINCT ON (start) start, COALESCE(replay_of, id) AS root FROM up ORDER BY start, depth DESC),
      down (root, id, status, created_at) AS (
        SELECT r.root, i.id, i.status, i.created_at FROM invocations i JOIN (SELECT DISTINCT root FROM roots) r ON i.replay_of = r.root
         WHERE i.tenant_id = ${tenantId}::uuid
        UNION ALL
        SELECT d.root, i.id, i.status, i.created_at FROM invocations i JOIN down d ON i.replay_of = d.id
         WHERE i.tenant_id = ${tenantId}::uuid
      )
      SELECT r.start, r.root, ok.id AS resolved_by, pending.id AS pending_id, pending.status AS pending_status
        FROM roots r
        LEFT JOIN LATERAL (SELECT d.id FROM down d WHERE d.root = r.root AND d.status = 'ok' ORDER BY d.created_at DESC, d.id DESC LIMIT 1) ok ON true
        LEFT JOIN LATERAL (SELECT d.id, d.status FROM down d WHERE d.root = r.root AND d.status IN ('queued', 'running') ORDER BY d.created_at, d.id LIMIT 1) pending ON true`;
    return new Map(
      rows.map((row) => [
        row.start,
        { root: row.root, resolvedBy: row.resolved_by, pending: row.pending_id === null ? null : { id: row.pending_id, status: row.pending_status! } },
      ]),
    );
  }

  /** Newest first by the time they were dead-lettered. */
  listDeadLetters(tenantId: string, page: ListPage): Promise<Invocation[]> {
    const { after } = page;
    return this.prisma.invocation.findMany({
      where: {
        tenantId,
        deadLetteredAt: { not: null },
        ...(after ? { OR: [{ deadLetteredAt: { lt: after.at } }, { deadLetteredAt: after.at, id: { lt: after.id } }] } : {}),
      },
      orderBy: [{ deadLetteredAt: 'desc' }, { id: 'desc' }],
      take: page.take,
    });
  }

  /**
   * A new queued invocation that runs a dead letter again, optionally on
   * another version of its plugin, recorded with its audit entry in one
   * transaction: a replay is never made unaudited, nor audited unmade (a
   * caller told of a failure may replay again; it must not run twice). Not
   * while a replay of the same work (anywhere in its replay tree) is queued or
   * running (`pending` then): replays of one work take turns, so two sent at
   * once, of the dead letter and of its dead-lettered replay, make one. Nor,
   * unless `again`, once a replay of the work succeeded (`resolved` then): a
   * client that retries a replay it was not told the outcome of does not run
   * it twice.
   */
  replay(
    original: Invocation,
    version: number,
    traceId: string | null,
    audit: { actor: string },
    again = false,
  ): Promise<{ replay: Invocation } | { pending: { id: string; status: string } } | { resolved: string } | { gone: true }> {
    return this.prisma.$transaction(async (tx) => {
      const found = (await this.replayTrees(original.tenantId, [original.id], tx)).get(original.id);
      if (found === undefined) return { gone: true as const };
      await takeTurn(tx, 'replays', found.root);
      // Read again in turn: a replay made meanwhile is seen.
      const tree = (await this.replayTrees(original.tenantId, [original.id], tx)).get(original.id);
      if (tree === undefined) return { gone: true as const };
      if (tree.pending !== null) return { pending: tree.pending };
      if (!again && tree.resolvedBy !== null) return { resolved: tree.resolvedBy };
      const id = randomUUID();
      const replay = await tx.invocation.create({
        data: {
          id,
          tenantId: original.tenantId,
          eventId: original.eventId,
          bindingId: original.bindingId,
          pluginId: original.pluginId,
          version,
          exportName: original.exportName,
          input: original.input as Uint8Array<ArrayBuffer> | null,
          config: original.config as Prisma.InputJsonValue,
          replayOf: original.id,
          traceId,
        },
      });
      await tx.auditEvent.create({
        data: { tenantId: original.tenantId, actor: audit.actor, action: 'dead_letter.replayed', target: original.id, details: { replay: id, version } },
      });
      return { replay };
    });
  }

  /**
   * Finished invocations per UTC day and status, with their fuel, run time and
   * egress, in [from, to) (both UTC midnights): those still kept, plus what the
   * retention sweep rolled up of those it deleted (usage_days).
   */
  async usageByDay(tenantId: string, from: Date, to: Date): Promise<Array<{ day: string; status: string; count: number; fuel: bigint; runMs: number; egressBytes: bigint }>> {
    const rows = await this.prisma.$queryRaw<Array<{ day: Date; status: string; count: bigint; fuel: bigint | null; run_ms: number | null; egress: bigint | null }>>`
      SELECT day, status, sum(count)::bigint AS count, sum(fuel)::bigint AS fuel, sum(run_ms) AS run_ms, sum(egress)::bigint AS egress
        FROM (
          SELECT (finished_at AT TIME ZONE 'UTC')::date AS day, status, count(*) AS count,
                 sum(fuel_used) AS fuel, sum(duration_ms) AS run_ms, sum(egress_bytes) AS egress
            FROM invocations
           WHERE tenant_id = ${tenantId}::uuid AND finished_at >= ${from} AND finished_at < ${to}
           GROUP BY 1, 2
          UNION ALL
          SELECT day, status, invocations, fuel, run_ms, egress_bytes
            FROM usage_days
           WHERE tenant_id = ${tenantId}::uuid AND day >= (${from}::timestamptz AT TIME ZONE 'UTC')::date AND day < (${to}::timestamptz AT TIME ZONE 'UTC')::date
        ) AS kept_and_rolled_up
       GROUP BY 1, 2
       ORDER BY 1, 2`;
    return rows.map((row) => ({
      day: row.day.toISOString().slice(0, 10),
      status: row.status,
      count: Number(row.count),
      fuel: row.fuel ?? 0n,
      runMs: row.run_ms ?? 0,
      egressBytes: row.egress ?? 0n,
    }));
  }
}
