import { type Event, type Invocation, Prisma, type PrismaClient } from '../generated/prisma/client.js';

export interface PlannedInvocation {
  bindingId: string;
  pluginId: string;
  version: number;
  exportName: string;
  config: Prisma.InputJsonValue;
}

export type EventWithInvocations = Event & { invocations: Invocation[] };

/** A tenant's events and the invocations each fanned out to. */
export class EventRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records an event and its invocations in one transaction. With an idempotency
   * key already used by this tenant, returns the earlier event instead (`created` false).
   */
  async record(
    tenantId: string,
    event: { type: string; payload: Uint8Array; idempotencyKey?: string | undefined },
    invocations: PlannedInvocation[],
  ): Promise<{ event: EventWithInvocations; created: boolean }> {
    if (event.idempotencyKey !== undefined) {
      const existing = await this.findByIdempotencyKey(tenantId, event.idempotencyKey);
      if (existing !== null) return { event: existing, created: false };
    }
    try {
      const created = await this.prisma.event.create({
        data: {
          tenantId,
          type: event.type,
          payload: event.payload as Uint8Array<ArrayBuffer>,
          idempotencyKey: event.idempotencyKey ?? null,
          invocations: { create: invocations.map((planned) => ({ tenantId, ...planned })) },
        },
        include: { invocations: { orderBy: { createdAt: 'asc' } } },
      });
      return { event: created, created: true };
    } catch (error) {
      // Two requests with the same key at once: the loser returns the winner's event.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && event.idempotencyKey !== undefined) {
        const existing = await this.findByIdempotencyKey(tenantId, event.idempotencyKey);
        if (existing !== null) return { event: existing, created: false };
      }
      throw error;
    }
  }

  findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findUnique({
      where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } },
      include: { invocations: { orderBy: { createdAt: 'asc' } } },
    });
  }

  async typeOf(tenantId: string, id: string): Promise<string | null> {
    return (await this.prisma.event.findFirst({ where: { id, tenantId }, select: { type: true } }))?.type ?? null;
  }

  findById(tenantId: string, id: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findFirst({ where: { id, tenantId }, include: { invocations: { orderBy: { createdAt: 'asc' } } } });
  }
}
