import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { InvocationRunner } from '@airlock/execution';
import { TENANT_SHARING_WINDOW_MS } from '@airlock/sandbox';
import { ALL_TENANTS, INVOCATIONS_QUEUE, invocationJob, invocationJobData, newcomerChannel, tenantConfigChannel } from '@airlock/queue';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ATTR, contextFromCarrier, SPAN, withSpan } from '@airlock/telemetry';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_CONFIG, WORKER_REDIS } from '../worker-dependencies.js';
import { TenantShareGate } from './tenant-share-gate.js';

const tracer = trace.getTracer('airlock-worker');

/**
 * How long a worker keeps listening for newcomers after it stopped needing to (see `updateNewcomerListening`): under
 * a steady flood it goes in and out of that state job by job, and a subscription changed each time would cost more
 * than the announcements it spares.
 */
const NEWCOMER_LISTENING_LINGER_MS = 5_000;

/**
 * Consumes invocation jobs. Plugin code runs in executor processes, so this
 * event loop stays free to renew job locks however long a plugin runs.
 */
@Injectable()
export class InvocationsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private worker: Worker | undefined;
  private readonly logger = new Logger('Invocations');
  /** Jobs being processed, so shutdown knows what it waits for. */
  private readonly inProgress = new Set<Promise<unknown>>();
  private stopping = false;
  private readonly gate: TenantShareGate;
  private readonly concurrency: number;
  /** Hears of tenants' configuration changes (`tenantConfigChannel`) and, while it listens, of newcomer jobs. */
  private subscriber: Redis | undefined;
  private readonly newcomers: string;
  /** Whether this worker is subscribed to `newcomers` (or subscribing). */
  private listeningForNewcomers = false;
  private stopListeningTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: AirlockConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly runner: InvocationRunner,
  ) {
    this.gate = new TenantShareGate(config.tenantShare, TENANT_SHARING_WINDOW_MS);
    // Many more jobs than executors: while some wait for the database, others run (the
    // executor pool queues the calls), and claims and results share round trips. The
    // pipeline bench drained 203/s at 4 per executor, 294/s at 16, 305/s at 64.
    this.concurrency = config.executors * 16;
    this.newcomers = newcomerChannel(config.redisPrefix);
  }

  onApplicationBootstrap(): void {
    this.worker = new Worker(INVOCATIONS_QUEUE, (job, token) => this.track(this.process(job, token)), {
      connection: this.redis,
      prefix: this.config.redisPrefix,
      concurrency: this.concurrency,
      lockDuration: this.config.jobLockMs,
      // Look for lapsed locks as often as they can lapse: a dead worker's jobs come back within a lock's time.
      stalledInterval: this.config.jobLockMs,
      // A job stalls when its worker dies or shuts down late, never because of its plugin (that runs in an
      // executor): it may stall as often as it may fail. Past that BullMQ fails it unrun, and the reconciler
      // records it as lost.
      maxStalledCount: this.config.jobAttempts,
    });
    this.worker.on('failed', (job, error) => this.logger.warn(`job ${job?.id} failed: ${error.message}`));
    this.worker.on('error', (error) => this.logger.warn(`queue error: ${error.message}`));
    // Missing an announcement (Redis away) only means the newcomer waits for a slot to free itself, or a run
    // claimed before a change waits for an executor and runs, as it would have had it started sooner.
    const subscriber = this.redis.duplicate({ connectionName: 'airlock-worker-announcements' });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.newcomers) this.makeRoomForNewcomer();
      else this.recheckClaimed(message);
    });
    subscriber
      .subscribe(tenantConfigChannel(this.config.redisPrefix))
      .catch((error: unknown) => this.logger.warn(`not hearing of configuration changes: ${String(error)}`));
  }

  /**
   * Listens for newcomers only while it could make room for one: every slot taken and some jobs held back. At
   * other times an announcement would wake this worker (and every other) for nothing, once per event of a tenant
   * with nothing under way, which is every event when events come apart.
   */
  private updateNewcomerListening(): void {
    const subscriber = this.subscriber;
    if (subscriber === undefined) return;
    const canMakeRoom = !this.stopping && this.inProgress.size >= this.concurrency && this.gate.heldCount > 0;
    if (canMakeRoom) {
      clearTimeout(this.stopListeningTimer);
      this.stopListeningTimer = undefined;
      if (this.listeningForNewcomers) return;
      this.listeningForNewcomers = true;
      subscriber.subscribe(this.newcomers).catch((error: unknown) => {
        this.listeningForNewcomers = false;
        this.logger.warn(`not hearing of newcomer jobs: ${String(error)}`);
      });
    } else if (this.listeningForNewcomers && this.stopListeningTimer === undefined) {
      this.stopListeningTimer = setTimeout(() => {
        this.stopListeningTimer = undefined;
        this.listeningForNewcomers = false;
        subscriber.unsubscribe(this.newcomers).catch(() => undefined);
      }, NEWCOMER_LISTENING_LINGER_MS);
      this.stopListeningTimer.unref();
    }
  }

  /** A tenant's configuration changed: its runs claimed here and not started yet are checked again. */
  private recheckClaimed(tenantId: string): void {
    this.runner.recheckClaimed(tenantId === ALL_TENANTS ? null : tenantId).catch((error: unknown) => this.logger.warn(`could not check claimed runs again: ${String(error)}`));
  }

  /**
   * A tenant with nothing queued or running has queued a job. If every slot
   * here is taken and some hold jobs back for fairness, one of those goes back
   * to the queue: the slot it frees fetches the highest-priority job, the
   * newcomer's (its place in its tenant's line is first).
   */
  private makeRoomForNewcomer(): void {
    if (!this.stopping && this.inProgress.size >= this.concurrency) this.gate.handBackOne();
  }

  /**
   * Stops taking jobs as soon as shutdown begins. Nest runs every provider's
   * `beforeApplicationShutdown` before any `onApplicationShutdown`, and those in
   * dependency order: the maintenance worker closes (waiting for its sweep)
   * before this drains, and jobs queued meanwhile are for other workers.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined || this.stopping) return;
    this.stopping = true;
    // The subscription stays through the drain: runs waiting for an executor meanwhile may still be withdrawn.
    // Jobs held back for fairness have not started: they go back to the queue untouched.
    this.gate.handBackAll();
    await worker.pause(true);
    this.logger.log(`Stopped taking jobs; draining ${this.inProgress.size} running for up to ${this.config.shutdownDrainMs} ms`);
  }

  /**
   * A bounded drain: running jobs get `shutdownDrainMs` to finish. Calls still
   * running then are abandoned unrecorded and the worker closes without them:
   * their locks lapse and another worker runs them again.
   */
  async onApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    await this.beforeApplicationShutdown();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.config.shutdownDrainMs)));
    const drained = await Promise.race([Promise.allSettled([...this.inProgress]).then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (drained === 'late') {
      this.logger.warn(`${this.inProgress.size} job(s) still running after the ${this.config.shutdownDrainMs} ms drain: left for another worker`);
      this.runner.abandonRunning();
    }
    await worker.close(drained === 'late');
    clearTimeout(this.stopListeningTimer);
    this.subscriber?.disconnect();
  }

  /** Called with a job's work once it has started, which is when the gate holds it back if it does. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inProgress.add(work);
    this.updateNewcomerListening();
    void work
      .finally(() => {
        this.inProgress.delete(work);
        this.updateNewcomerListening();
      })
      .catch(() => undefined);
    return work;
  }

  private async process(job: Job, token: string | undefined): Promise<string> {
    if (job.name !== invocationJob.name) throw new UnrecoverableError(`unknown job ${job.name}`);
    if (this.stopping) return this.handBack(job, token);
    const data = invocationJobData(job);
    // The run continues the trace of the request that queued it.
    const attributes = { [ATTR.tenantId]: data.tenantId, [ATTR.invocationId]: data.invocationId, [ATTR.attempt]: job.attemptsMade + 1 };
    // While other tenants are about, a tenant's jobs beyond its share wait here, not in PostgreSQL, Redis or the executors.
    if (!(await this.gate.enter(data.tenantId))) return this.handBack(job, token);
    let outcome;
    try {
      if (this.stopping) return await this.handBack(job, token);
      outcome = await context.with(contextFromCarrier(data.trace), () =>
        withSpan(tracer, SPAN.job, { kind: SpanKind.CONSUMER, attributes }, () => this.runner.run(data.tenantId, data.invocationId, job.attemptsMade + 1, job.opts.attempts ?? 1)),
      );
    } finally {
      this.gate.leave(data.tenantId);
    }
    // Failing the job makes BullMQ retry it after its backoff; the invocation is queued again.
    if (outcome.kind === 'retry') throw new Error(`transient failure, will retry: ${outcome.reason}`);
    // Abandoned at shutdown: nothing was recorded. It goes back to the queue as it was, without using up an
    // attempt; if the connection is already closing, its lock lapses and it comes back as stalled.
    if (outcome.kind === 'abandoned') return this.handBack(job, token);
    return outcome.kind === 'finished' ? outcome.status : outcome.kind;
  }

  /** Puts a job that has not started back in the queue, untouched, for another worker. */
  private async handBack(job: Job, token: string | undefined): Promise<never> {
    await job.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  }
}
