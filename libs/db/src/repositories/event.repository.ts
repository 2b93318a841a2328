import { randomUUID } from 'node:crypto';
import type { Event, Invocation, Prisma, PrismaClient } from '../generated/prisma/client.js';

export interface PlannedInvocation {
  bindingId: string;
  pluginId: string;
  version: number;
  exportName: string;
  config: Prisma.InputJsonValue;
}

export type EventWithInvocations = Event & { invocations: Invocation[] };

/** What accepting an event tells its sender: the event and its invocations, with their states. */
export interface AcceptedEvent {
  id: string;
  invocations: Array<Pick<Invocation, 'id' | 'bindingId' | 'pluginId' | 'version' | 'status'>>;
}

/** A tenant's events and the invocations each fanned out to. */
export class EventRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Records an event and its invocations in one statement (one round trip,
   * atomic). With an idempotency key already used by this tenant, records
   * nothing and returns the earlier event instead (`created` false).
   */
  async record(
    tenantId: string,
    event: { type: string; payload: Uint8Array; idempotencyKey?: string | undefined; traceId?: string | null },
    invocations: PlannedInvocation[],
  ): Promise<{ event: AcceptedEvent; created: boolean }> {
    const eventId = randomUUID();
    const ids = invocations.map(() => randomUUID());
    const at = new Date();
    const [row] = await this.prisma.$queryRaw<Array<{ created: bigint }>>`
      WITH event AS (
        INSERT INTO events (id, tenant_id, type, payload, idempotency_key, created_at)
        VALUES (${eventId}::uuid, ${tenantId}::uuid, ${event.type}, decode(${Buffer.from(event.payload).toString('base64')}, 'base64'), ${event.idempotencyKey ?? null}, ${at})
        ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
        RETURNING id
      ), invocations AS (
        INSERT INTO invocations (id, tenant_id, event_id, binding_id, plugin_id, version, export_name, config, trace_id, created_at)
        SELECT p.id, ${tenantId}::uuid, event.id, p.binding_id, p.plugin_id, p.version, p.export_name, p.config, ${event.traceId ?? null}, ${at}
          FROM event, unnest(
                 ${ids}::uuid[], ${invocations.map((i) => i.bindingId)}::uuid[], ${invocations.map((i) => i.pluginId)}::uuid[],
                 ${invocations.map((i) => i.version)}::int[], ${invocations.map((i) => i.exportName)}::text[],
                 ${invocations.map((i) => JSON.stringify(i.config))}::jsonb[]
               ) AS p(id, binding_id, plugin_id, version, export_name, config)
        RETURNING id
      )
      SELECT count(*) AS created FROM event`;
    if (row !== undefined && Number(row.created) === 1) {
      return {
        event: { id: eventId, invocations: invocations.map((planned, index) => ({ id: ids[index]!, ...planned, status: 'queued' })) },
        created: true,
      };
    }
    // The key was used before (or by a concurrent request just now): the first event stands.
    const existing = event.idempotencyKey === undefined ? null : await this.findByIdempotencyKey(tenantId, event.idempotencyKey);
    if (existing === null) throw new Error('the event was neither recorded nor found by its idempotency key');
    return { event: existing, created: false };
  }

  findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findUnique({
      where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } },
      include: { invocations: { orderBy: { createdAt: 'asc' } } },
    });
  }

  findById(tenantId: string, id: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findFirst({ where: { id, tenantId }, include: { invocations: { orderBy: { createdAt: 'asc' } } } });
  }
}
