import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { InvocationRunner } from '@airlock/execution';
import { INVOCATIONS_QUEUE, invocationJob, invocationJobData } from '@airlock/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_CONFIG, WORKER_REDIS } from '../worker-dependencies.js';

/**
 * Consumes invocation jobs. Plugin code runs in executor processes, so this
 * event loop stays free to renew job locks however long a plugin runs.
 */
@Injectable()
export class InvocationsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | undefined;
  private readonly logger = new Logger('Invocations');

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: AirlockConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly runner: InvocationRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker(INVOCATIONS_QUEUE, (job) => this.process(job), {
      connection: this.redis,
      prefix: this.config.redisPrefix,
      // More jobs than executors: while one waits for the database, another runs; the
      // executor pool queues the calls themselves.
      concurrency: this.config.executors * 4,
      lockDuration: this.config.jobLockMs,
      // Look for lapsed locks as often as they can lapse: a dead worker's jobs come back within a lock's time.
      stalledInterval: this.config.jobLockMs,
    });
    this.worker.on('failed', (job, error) => this.logger.warn(`job ${job?.id} failed: ${error.message}`));
    this.worker.on('error', (error) => this.logger.warn(`queue error: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  private async process(job: Job): Promise<string> {
    if (job.name !== invocationJob.name) throw new UnrecoverableError(`unknown job ${job.name}`);
    const data = invocationJobData(job);
    const outcome = await this.runner.run(data.tenantId, data.invocationId, job.attemptsMade + 1, job.opts.attempts ?? 1);
    // Failing the job makes BullMQ retry it after its backoff; the invocation is queued again.
    if (outcome.kind === 'retry') throw new Error(`transient failure, will retry: ${outcome.reason}`);
    return outcome.kind === 'finished' ? outcome.status : outcome.kind;
  }
}
