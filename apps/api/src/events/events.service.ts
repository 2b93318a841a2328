import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AcceptedEvent, BindingRepository, type EventToRecord, type EventWithInvocations, EventRepository, type PlannedInvocation, type RecordedEvent, type Tenant } from '@airlock/db';
import { CoalescingBatcher } from '@airlock/execution';
import { AppError, AppErrorCode } from '@airlock/errors';
import { enqueueInvocations, type InvocationJobData, invocationRetryPolicy, newcomerChannel, type QuotaLimits, TenantQuotaGateRepository } from '@airlock/queue';
import { SpanKind, trace } from '@opentelemetry/api';
import { ATTR, currentTraceCarrier, currentTraceId, SPAN, withSpan } from '@airlock/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { AirlockConfig } from '@airlock/config';
import { API_CONFIG, INVOCATION_QUEUE, REDIS } from '../infrastructure/api-dependencies.js';
import { passQuotaGate } from '../policies/quota-verdicts.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { TenantConfigCache } from '../tenant-config/tenant-config-cache.js';
import { notFound } from '../validation/id-param.pipe.js';
import type { createEventSchema } from './event.schema.js';
import { payloadText, samePayload } from './payload-text.js';

const tracer = trace.getTracer('airlock-api');

/**
 * An idempotency key names one event: sent again with another type or
 * payload, it is a mistake (a key reused for a new event), which answering
 * with the first event would hide while the new one is dropped.
 */
function refuseReusedKey(recorded: { id: string; type: string; payload: Uint8Array }, type: string, payload: Uint8Array): void {
  const differs = recorded.type !== type ? 'type' : samePayload(recorded.payload, payload) ? null : 'payload';
  if (differs === null) return;
  throw new AppError(
    AppErrorCode.IdempotencyKeyReused,
    `This idempotency key recorded event ${recorded.id} with another ${differs}; an event sent again must be the same, and a new event needs a new key.`,
    { details: { eventId: recorded.id, differs } },
  );
}

@Injectable()
export class EventsService {
  private readonly logger = new Logger('Events');
  /**
   * Events arriving while a statement is in flight are recorded together by the
   * next one, up to 16 MiB of payloads a statement (each event may carry
   * megabytes, and a statement's parameters are one string on each side).
   */
  private readonly recorder = new CoalescingBatcher<EventToRecord, PromiseSettledResult<RecordedEvent>>((events) => this.events.recordMany(events), 128, 2, {
    of: (event) => event.payload.length,
    max: 16 * 1024 * 1024,
  });

  constructor(
    private readonly events: EventRepository,
    private readonly bindings: BindingRepository,
    private readonly policies: TenantPolicyService,
    @Inject(INVOCATION_QUEUE) private readonly queue: Queue<InvocationJobData>,
    @Inject(API_CONFIG) private readonly config: AirlockConfig,
    private readonly quotaGate: TenantQuotaGateRepository,
    private readonly cache: TenantConfigCache,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The invocations an event of `type` fans out to: the tenant's enabled, runnable bindings of that type. */
  /**
   * Plans are cached per event type only for types the tenant has bindings of (one cached list per tenant says
   * which): events of any other type plan nothing, and a tenant sending thousands of such types would otherwise
   * push every other tenant's keys and plans out of the shared cache.
   */
  private async planFor(tenantId: string, type: string): Promise<PlannedInvocation[]> {
    const bound = await this.cache.get(`bound-types:${tenantId}`, async () => new Set(await this.bindings.boundEventTypes(tenantId)), () => tenantId);
    if (!bound.has(type)) return [];
    return this.cache.get(`plan:${tenantId}:${type}`, () => this.bindings.planFor(tenantId, type), () => tenantId);
  }

  /**
   * Counts a request that creates `invocations` invocations against the
   * tenant's quotas, or refuses it (429). Returns their place in the tenant's
   * line (how many of its invocations are ahead), for `enqueue`.
   */
  async admit(tenant: Tenant, invocations: number, quotas: QuotaLimits): Promise<number> {
    // More than a limit itself: a 429 would have the caller retry forever.
    for (const limit of ['concurrentRuns', 'invocationsPerDay'] as const) {
      if (invocations > quotas[limit]) {
        throw new AppError(
          AppErrorCode.QuotaTooSmall,
          `This request makes ${invocations} invocation(s), more than the tenant's ${limit} quota (${quotas[limit]}) ever admits at once; raise the quota or disable bindings of this event.`,
          { details: { limit, max: quotas[limit], requested: invocations } },
        );
      }
    }
    return passQuotaGate(() => this.quotaGate.admit(tenant.id, invocations, quotas));
  }

  /**
   * Records what `admit` just counted. If recording fails, nothing will run, so
   * the count is given back: a tenant retrying a request that keeps failing
   * would otherwise use up its concurrent runs for a day.
   */
  async recordAdmitted<T>(tenantId: string, invocations: number, record: () => Promise<T>): Promise<T> {
    try {
      return await record();
    } catch (error) {
      await this.quotaGate.release(tenantId, invocations).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Queues invocations; a Redis failure is a 503 that says what was kept. What
   * is recorded is not lost: the workers' reconciler queues it once Redis is
   * back (`sooner` says how the caller can have it queued at once).
   */
  async enqueue(tenantId: string, invocationIds: string[], placeInLine: number | null, recovery: { recorded: string; sooner?: string }): Promise<void> {
    try {
      await withSpan(tracer, SPAN.enqueue, { kind: SpanKind.PRODUCER, attributes: { [ATTR.tenantId]: tenantId } }, () =>
        enqueueInvocations(this.queue, tenantId, invocationIds, invocationRetryPolicy(this.config.jobAttempts), placeInLine ?? 0, currentTraceCarrier()),
      );
      // The tenant had nothing queued or running: workers whose slots are all taken by jobs they hold back make room.
      // Not awaited, and harmless if lost: the newcomer then waits for a slot to free itself. A replay (null: its
      // jobs, if still queued, exist already) announces nothing.
      if (placeInLine === 0 && invocationIds.length > 0) void this.redis.publish(newcomerChannel(this.config.redisPrefix), tenantId).catch(() => undefined);
    } catch (error) {
      this.logger.warn(`${recovery.recorded}: queueing failed: ${error instanceof Error ? error.message : String(error)}`);
      const sooner = recovery.sooner === undefined ? '' : `; ${recovery.sooner}`;
      throw new AppError(AppErrorCode.NotReady, `The queue is unavailable; ${recovery.recorded} is recorded and runs once the queue is back${sooner}.`, {
        cause: error,
      });
    }
  }

  /**
   * Records the event with one invocation per enabled binding of its type, then
   * queues them. A replay with the same idempotency key returns the first event
   * and queues again only what is still queued (job ids make that a no-op when
   * the jobs exist), so a request that failed after recording heals on retry.
   * `sent` is the request's bytes and Content-Type, from which the payload is read as it was written (see payloadText).
   */
  async accept(tenant: Tenant, input: z.output<typeof createEventSchema>, sent: Parameters<typeof payloadText>[1] = {}): Promise<AcceptedEvent> {
    const payload =
      input.payloadBase64 !== undefined
        ? new Uint8Array(Buffer.from(input.payloadBase64, 'base64'))
        : new TextEncoder().encode(payloadText(input.payload, sent));
    const policy = await this.policies.forTenant(tenant);
    if (payload.length > policy.maxInputBytes) {
      throw new AppError(AppErrorCode.PayloadTooLarge, `The payload is ${payload.length} bytes; this tenant's plugins take at most ${policy.maxInputBytes}.`);
    }
    const standing = input.idempotencyKey === undefined ? null : await this.events.findByIdempotencyKey(tenant.id, input.idempotencyKey);
    if (standing !== null) refuseReusedKey(standing, input.type, payload);
    const replay = standing !== null;
    const planned = replay ? [] : await this.planFor(tenant.id, input.type);
    // A replay's invocations were counted the first time (and its jobs, if queued, keep their place); the request
    // itself still counts as an event per second, or replays would be a way past that limit.
    const placeInLine = await this.admit(tenant, planned.length, policy.quotas);
    trace.getActiveSpan()?.setAttribute(ATTR.eventType, input.type);
    const { event, created } = await this.recordAdmitted(tenant.id, planned.length, async () => {
      const recorded = await this.recorder.submit({
        tenantId: tenant.id,
        type: input.type,
        payload,
        idempotencyKey: input.idempotencyKey,
        traceId: currentTraceId(),
        invocations: planned,
      });
      if (recorded.status === 'rejected') throw recorded.reason;
      return recorded.value;
    });
    // Another request with the same key won the race: what this one was admitted for will never run.
    if (!created && !replay) {
      await this.quotaGate.release(tenant.id, planned.length).catch(() => undefined);
      const winner = await this.events.findByIdempotencyKey(tenant.id, input.idempotencyKey!);
      if (winner !== null) refuseReusedKey(winner, input.type, payload);
    }
    trace.getActiveSpan()?.setAttribute(ATTR.eventId, event.id);
    const queued = event.invocations.filter((invocation) => invocation.status === 'queued').map((invocation) => invocation.id);
    await this.enqueue(tenant.id, queued, replay || !created ? null : placeInLine, {
      recorded: `event ${event.id}`,
      ...(input.idempotencyKey === undefined ? {} : { sooner: 'send it again with the same idempotencyKey to queue it at once' }),
    });
    return event;
  }

  /** Whether the tenant has this event (it may have been deleted by the retention sweep). */
  async exists(tenantId: string, id: string): Promise<boolean> {
    return (await this.events.findById(tenantId, id)) !== null;
  }

  async get(tenantId: string, id: string): Promise<EventWithInvocations> {
    const event = await this.events.findById(tenantId, id);
    if (event === null) throw notFound('event');
    return event;
  }
}
