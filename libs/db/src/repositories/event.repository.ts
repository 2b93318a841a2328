import { randomUUID } from 'node:crypto';
import type { Event, Invocation, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { SqlExecutor } from '../sql-executor.js';

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

/** An event to record, with the invocations its bindings planned. */
export interface EventToRecord {
  tenantId: string;
  type: string;
  payload: Uint8Array;
  idempotencyKey?: string | undefined;
  traceId?: string | null;
  invocations: PlannedInvocation[];
}

export interface RecordedEvent {
  event: AcceptedEvent;
  /** False when an earlier event with the same idempotency key stands instead. */
  created: boolean;
}

/**
 * The order of an event's invocations in every answer about it (the first, a
 * send again with its idempotency key, a read): made together, they share their
 * creation time, so their bindings order them (lowercase UUID text sorts as the
 * database sorts UUIDs); replays, made later, come after.
 */
const ANSWER_ORDER: Prisma.InvocationOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { bindingId: 'asc' }, { id: 'asc' }];
function inAnswerOrder(a: { id: string; bindingId: string | null }, b: { id: string; bindingId: string | null }): number {
  const byText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return byText(a.bindingId ?? '', b.bindingId ?? '') || byText(a.id, b.id);
}

/** A tenant's events and the invocations each fanned out to. */
export class EventRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: SqlExecutor,
  ) {}

  /**
   * Records events and their invocations in one statement (one round trip,
   * atomic), for many requests at once. An event whose idempotency key this
   * tenant used before (or another event of the same batch uses) records
   * nothing: its result is the earlier event (`created` false). Each event has
   * its own outcome, so one that fails after the statement (its earlier event
   * cannot be read back) fails alone, not the others recorded with it.
   */
  async recordMany(items: EventToRecord[]): Promise<Array<PromiseSettledResult<RecordedEvent>>> {
    const at = new Date();
    const events = items.map((item) => ({ ...item, id: randomUUID(), invocationIds: item.invocations.map(() => randomUUID()) }));
    const planned = events.flatMap((event) => event.invocations.map((invocation, index) => ({ ...invocation, id: event.invocationIds[index]!, eventId: event.id, traceId: event.traceId ?? null })));
    const inserted = await this.sql.query<{ id: string }>(
      `WITH event AS (
         INSERT INTO events (id, tenant_id, type, payload, idempotency_key, created_at)
         SELECT e.id, e.tenant_id, e.type, decode(e.payload, 'base64'), e.idempotency_key, $6
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS e(id, tenant_id, type, payload, idempotency_key)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
         RETURNING id, tenant_id
       ), invocations AS (
         INSERT INTO invocations (id, tenant_id, event_id, binding_id, plugin_id, version, export_name, config, trace_id, created_at)
         SELECT p.id, event.tenant_id, event.id, p.binding_id, p.plugin_id, p.version, p.export_name, p.config, p.trace_id, $6
           FROM unnest($7::uuid[], $8::uuid[], $9::uuid[], $10::uuid[], $11::int[], $12::text[], $13::jsonb[], $14::text[])
                  AS p(id, event_id, binding_id, plugin_id, version, export_name, config, trace_id)
           JOIN event ON event.id = p.event_id
         RETURNING id
       )
       SELECT id FROM event`,
      [
        events.map((event) => event.id),
        events.map((event) => event.tenantId),
        events.map((event) => event.type),
        events.map((event) => Buffer.from(event.payload).toString('base64')),
        events.map((event) => event.idempotencyKey ?? null),
        at,
        planned.map((invocation) => invocation.id),
        planned.map((invocation) => invocation.eventId),
        planned.map((invocation) => invocation.bindingId),
        planned.map((invocation) => invocation.pluginId),
        planned.map((invocation) => invocation.version),
        planned.map((invocation) => invocation.exportName),
        planned.map((invocation) => JSON.stringify(invocation.config)),
        planned.map((invocation) => invocation.traceId),
      ],
      'airlock_record_events',
    );
    const created = new Set(inserted.map((row) => row.id));
    return Promise.allSettled(
      events.map(async (event): Promise<RecordedEvent> => {
        if (created.has(event.id)) {
          const invocations = event.invocations
            .map((invocation, index) => ({ id: event.invocationIds[index]!, ...invocation, status: 'queued' as const }))
            .sort(inAnswerOrder);
          return { event: { id: event.id, invocations }, created: true };
        }
        // The key was used before (or by a concurrent request just now): the first event stands.
        const existing = event.idempotencyKey === undefined ? null : await this.findByIdempotencyKey(event.tenantId, event.idempotencyKey);
        if (existing === null) throw new Error('the event was neither recorded nor found by its idempotency key');
        return { event: existing, created: false };
      }),
    );
  }

  /**
   * The event recorded with this key, with the invocations it made: a replay of
   * one of them (a dead letter run again) belongs to the event but is not part
   * of the first answer, which a send with the same key gets again.
   */
  findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findUnique({
      where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } },
      include: { invocations: { where: { replayOf: null }, orderBy: ANSWER_ORDER } },
    });
  }

  findById(tenantId: string, id: string): Promise<EventWithInvocations | null> {
    return this.prisma.event.findFirst({ where: { id, tenantId }, include: { invocations: { orderBy: ANSWER_ORDER } } });
  }
}
