import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { RetentionSweeper } from '@airlock/execution';
import { createMaintenanceQueue, MAINTENANCE_QUEUE, retentionJob, scheduleRetention } from '@airlock/queue';
import { type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_CONFIG, WORKER_REDIS } from '../worker-dependencies.js';

/**
 * Schedules and runs the retention sweep: every `retentionIntervalMs`, one
 * worker deletes what is older than each tenant's retention.
 */
@Injectable()
export class RetentionProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | undefined;
  private queue: Queue | undefined;
  private readonly logger = new Logger('Retention');

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: AirlockConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly sweeper: RetentionSweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queue = createMaintenanceQueue(this.redis, this.config.redisPrefix);
    await scheduleRetention(this.queue, this.config.retentionIntervalMs);
    this.worker = new Worker(MAINTENANCE_QUEUE, (job) => this.process(job), { connection: this.redis, prefix: this.config.redisPrefix, concurrency: 1 });
    this.worker.on('error', (error) => this.logger.warn(`queue error: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }

  private async process(job: Job): Promise<string> {
    if (job.name !== retentionJob.name) throw new UnrecoverableError(`unknown job ${job.name}`);
    retentionJob.schema.parse(job.data);
    const deleted = await this.sweeper.sweep();
    const summary = `${deleted.tenants} tenant(s): deleted ${deleted.invocations} invocation(s), ${deleted.events} event(s), ${deleted.spans} span(s), ${deleted.webhookDeliveries} webhook deliveries`;
    if (deleted.invocations + deleted.events + deleted.spans + deleted.webhookDeliveries > 0) this.logger.log(summary);
    return summary;
  }
}
