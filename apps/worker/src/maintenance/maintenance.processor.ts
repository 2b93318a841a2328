import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { InvocationReconciler, RetentionSweeper, SecretResealer } from '@airlock/execution';
import { createMaintenanceQueue, MAINTENANCE_QUEUE, reconcileJob, resealJob, retentionJob, scheduleMaintenance } from '@airlock/queue';
import { type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_CONFIG, WORKER_REDIS } from '../worker-dependencies.js';

/**
 * Schedules and runs the maintenance jobs, each on one worker at a time:
 * every `retentionIntervalMs` the retention sweep deletes what is older than
 * each tenant's retention; every `reconcileIntervalMs` the reconciler repairs
 * invocations the queue lost track of; every `retentionIntervalMs` too, and
 * as each worker starts, secrets sealed with an older key (or in the older
 * form) are sealed again with the current one.
 */
@Injectable()
export class MaintenanceProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | undefined;
  private queue: Queue | undefined;
  private readonly logger = new Logger('Maintenance');
  /** The sweep a worker runs as it starts: awaited at shutdown, so it is not cut off mid-way. */
  private startupReseal: Promise<string> | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: AirlockConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly sweeper: RetentionSweeper,
    private readonly reconciler: InvocationReconciler,
    private readonly resealer: SecretResealer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queue = createMaintenanceQueue(this.redis, this.config.redisPrefix);
    await scheduleMaintenance(this.queue, { retentionMs: this.config.retentionIntervalMs, reconcileMs: this.config.reconcileIntervalMs });
    this.worker = new Worker(MAINTENANCE_QUEUE, (job) => this.process(job), { connection: this.redis, prefix: this.config.redisPrefix, concurrency: 1 });
    this.worker.on('error', (error) => this.logger.warn(`queue error: ${error.message}`));
    this.worker.on('failed', (job, error) => this.logger.warn(`${job?.name ?? 'maintenance job'} failed: ${error.message}`));
    // Keys are rotated by restarting workers with a new one first, and the schedule outlives a restart: each worker
    // reseals once as it starts too, in the background (concurrent sweeps are safe: each value is compared and set).
    this.startupReseal = this.reseal().catch((error: unknown) => {
      this.logger.warn(`sealing secrets again failed: ${error instanceof Error ? error.message : String(error)}`);
      return '';
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.startupReseal;
    await this.worker?.close();
    await this.queue?.close();
  }

  private async process(job: Job): Promise<string> {
    if (job.name === retentionJob.name) {
      retentionJob.schema.parse(job.data);
      return this.sweepRetention();
    }
    if (job.name === reconcileJob.name) {
      reconcileJob.schema.parse(job.data);
      return this.reconcile();
    }
    if (job.name === resealJob.name) {
      resealJob.schema.parse(job.data);
      return this.reseal();
    }
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  private async sweepRetention(): Promise<string> {
    const deleted = await this.sweeper.sweep();
    const summary = `${deleted.tenants} tenant(s): deleted ${deleted.invocations} invocation(s), ${deleted.events} event(s), ${deleted.spans} span(s), ${deleted.webhookDeliveries} webhook deliveries, ${deleted.kvEntries} key-value entries of plugins gone`;
    if (deleted.failed > 0) {
      const named = deleted.failures.map((failure) => `${failure.tenantId} (${failure.reason})`).join('; ');
      const failures = `${deleted.failed} tenant(s) not swept: ${named}${deleted.failed > deleted.failures.length ? '; ...' : ''}`;
      this.logger.warn(`${summary}; ${failures}`);
      return `${summary}; ${failures}`;
    }
    if (deleted.invocations + deleted.events + deleted.spans + deleted.webhookDeliveries + deleted.kvEntries > 0) this.logger.log(summary);
    return summary;
  }

  /** Always logged: after a key rotation, the operator waits for a sweep that leaves nothing under an older key. */
  private async reseal(): Promise<string> {
    const { resealed, unopenable, unopenableOwners } = await this.resealer.sweep();
    const named = `${unopenableOwners.join(', ')}${unopenable > unopenableOwners.length ? ', ...' : ''}`;
    const rest = unopenable === 0 ? 'every stored secret is sealed with the current key' : `${unopenable} open with no key held (${named}): set a binding's secrets again, register a webhook again`;
    const summary = `secrets: ${resealed} sealed again with the current key; ${rest}`;
    // Those stay unusable until set again, and the key that sealed them may have been dropped too soon.
    if (unopenable > 0) this.logger.warn(summary);
    else this.logger.log(summary);
    return summary;
  }

  private async reconcile(): Promise<string> {
    const repaired = await this.reconciler.sweep();
    const summary = `${repaired.tenants} tenant(s), ${repaired.inspected} unfinished invocation(s) looked at: ${repaired.requeued} queued again, ${repaired.lost} recorded as lost, ${repaired.settled} settled after their job failed, ${repaired.inFlightReleased} in-flight slot(s) released`;
    // Each of these means the usual path broke somewhere: worth a warning.
    if (repaired.requeued + repaired.lost + repaired.settled + repaired.inFlightReleased > 0) this.logger.warn(summary);
    return summary;
  }
}
