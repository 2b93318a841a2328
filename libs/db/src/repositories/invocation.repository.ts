import type { Invocation, Prisma, PrismaClient } from '../generated/prisma/client.js';

/** Statuses of an invocation not finished yet. */
const UNFINISHED = ['queued', 'running'];

export interface InvocationOutcome {
  status: string;
  output: Uint8Array;
  errorMessage: string | null;
  fuelUsed: bigint;
  memoryPeakBytes: bigint;
  durationMs: number;
  logs: Prisma.InputJsonValue;
  logsDropped: number;
}

/** Invocations: claimed by a worker, finished once. Writes are guarded so a job run twice records once. */
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
  }): Promise<Invocation> {
    return this.prisma.invocation.create({ data: { ...invocation, input: invocation.input as Uint8Array<ArrayBuffer> } });
  }

  /** Newest first; `after` is the id of the last invocation of the previous page. */
  list(
    tenantId: string,
    filter: { eventId?: string | undefined; pluginId?: string | undefined; status?: string | undefined; since?: Date | undefined },
    page: { limit: number; after?: string | undefined },
  ): Promise<Invocation[]> {
    return this.prisma.invocation.findMany({
      where: {
        tenantId,
        ...(filter.eventId ? { eventId: filter.eventId } : {}),
        ...(filter.pluginId ? { pluginId: filter.pluginId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.since ? { createdAt: { gte: filter.since } } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
      ...(page.after === undefined ? {} : { cursor: { id: page.after }, skip: 1 }),
    });
  }

  findById(tenantId: string, id: string): Promise<Invocation | null> {
    return this.prisma.invocation.findFirst({ where: { id, tenantId } });
  }

  /**
   * Marks the invocation running and counts the attempt. Null when it is already
   * finished (a job delivered again after its result was written).
   */
  async claim(tenantId: string, id: string, at: Date): Promise<Invocation | null> {
    const { count } = await this.prisma.invocation.updateMany({
      where: { id, tenantId, status: { in: UNFINISHED } },
      data: { status: 'running', attempts: { increment: 1 }, startedAt: at },
    });
    return count === 0 ? null : this.findById(tenantId, id);
  }

  /**
   * Writes the outcome unless one is written already; true when this call wrote
   * it. `deadLettered` marks a transient failure that outlasted its retries.
   */
  async finish(tenantId: string, id: string, outcome: InvocationOutcome, at: Date, deadLettered = false): Promise<boolean> {
    const { count } = await this.prisma.invocation.updateMany({
      where: { id, tenantId, status: { in: UNFINISHED } },
      data: { ...outcome, output: outcome.output as Uint8Array<ArrayBuffer>, finishedAt: at, deadLetteredAt: deadLettered ? at : null },
    });
    return count === 1;
  }

  /** Puts a running invocation back in the queue state after a transient failure, keeping what went wrong. */
  async requeue(tenantId: string, id: string, lastError: string): Promise<void> {
    await this.prisma.invocation.updateMany({ where: { id, tenantId, status: 'running' }, data: { status: 'queued', errorMessage: lastError } });
  }

  listDeadLetters(tenantId: string, limit: number): Promise<Invocation[]> {
    return this.prisma.invocation.findMany({
      where: { tenantId, deadLetteredAt: { not: null } },
      orderBy: [{ deadLetteredAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }

  /** A new queued invocation that runs a dead letter again, optionally on another version of its plugin. */
  replay(original: Invocation, version: number): Promise<Invocation> {
    return this.prisma.invocation.create({
      data: {
        tenantId: original.tenantId,
        eventId: original.eventId,
        bindingId: original.bindingId,
        pluginId: original.pluginId,
        version,
        exportName: original.exportName,
        input: original.input as Uint8Array<ArrayBuffer> | null,
        config: original.config as Prisma.InputJsonValue,
        replayOf: original.id,
      },
    });
  }

  /** Finished invocations per UTC day and status, with their fuel and run time, in [from, to). */
  async usageByDay(tenantId: string, from: Date, to: Date): Promise<Array<{ day: string; status: string; count: number; fuel: bigint; runMs: number }>> {
    const rows = await this.prisma.$queryRaw<Array<{ day: Date; status: string; count: bigint; fuel: bigint | null; run_ms: number | null }>>`
      SELECT date_trunc('day', finished_at AT TIME ZONE 'UTC') AS day, status, count(*) AS count,
             sum(fuel_used)::bigint AS fuel, sum(duration_ms) AS run_ms
        FROM invocations
       WHERE tenant_id = ${tenantId}::uuid AND finished_at >= ${from} AND finished_at < ${to}
       GROUP BY 1, 2
       ORDER BY 1, 2`;
    return rows.map((row) => ({
      day: row.day.toISOString().slice(0, 10),
      status: row.status,
      count: Number(row.count),
      fuel: row.fuel ?? 0n,
      runMs: row.run_ms ?? 0,
    }));
  }

  /** The event payload or direct input a call runs on. */
  async inputOf(invocation: Invocation): Promise<Uint8Array> {
    if (invocation.input !== null) return invocation.input;
    if (invocation.eventId === null) return new Uint8Array(0);
    const event = await this.prisma.event.findUnique({ where: { id: invocation.eventId }, select: { payload: true } });
    return event?.payload ?? new Uint8Array(0);
  }
}
