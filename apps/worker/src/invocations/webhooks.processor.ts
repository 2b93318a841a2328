import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { WebhookSender } from '@airlock/execution';
import { WEBHOOKS_QUEUE, webhookJob } from '@airlock/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_CONFIG, WORKER_REDIS } from '../worker-dependencies.js';

/** Posts invocation results to tenants' webhooks, retrying with backoff until a 2xx. */
@Injectable()
export class WebhooksProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | undefined;
  private readonly logger = new Logger('Webhooks');

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: AirlockConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly sender: WebhookSender,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker(WEBHOOKS_QUEUE, (job) => this.process(job), {
      connection: this.redis,
      prefix: this.config.redisPrefix,
      concurrency: 8,
      settings: { backoffStrategy: (attemptsMade) => webhookJob.retryDelayMs(attemptsMade) },
    });
    this.worker.on('error', (error) => this.logger.warn(`queue error: ${error.message}`));
    this.worker.on('failed', (job, error) => {
      if (job !== undefined) void this.endIfFinal(job, error).catch((cause: unknown) => this.logger.warn(`delivery ${job.id} failed for good and could not be marked so: ${String(cause)}`));
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  /**
   * A delivery's job failed and will not run again (its last attempt threw): unless `deliver` recorded its end, the
   * delivery would be shown pending forever. (A job the queue fails for stalling too often, its workers dying during
   * it each time, is not announced to this worker: that delivery stays pending.)
   */
  private async endIfFinal(job: Job, error: Error): Promise<void> {
    if (!(await job.isFailed())) return; // retried after its backoff
    const data = webhookJob.schema.safeParse(job.data);
    if (data.success) await this.sender.giveUp(data.data.tenantId, data.data.deliveryId, error.message);
  }

  private async process(job: Job): Promise<string> {
    if (job.name !== webhookJob.name) throw new UnrecoverableError(`unknown job ${job.name}`);
    const data = webhookJob.schema.parse(job.data);
    const outcome = await this.sender.deliver(data.tenantId, data.deliveryId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
    if (outcome === 'retry') throw new Error('the webhook did not accept the delivery; will retry');
    return outcome;
  }
}
