import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const WEBHOOKS_QUEUE = 'webhooks';

/** Posts one delivery; its id is the delivery's. Retried with backoff until the receiver answers 2xx. */
export const webhookJob = {
  name: 'webhook.deliver',
  version: 1,
  schema: z.strictObject({ v: z.literal(1), tenantId: z.uuid(), deliveryId: z.uuid() }),
  attempts: 6,
  firstBackoffMs: 1000,
} as const;

export type WebhookJobData = z.output<typeof webhookJob.schema>;

export function createWebhookQueue(connection: Redis, prefix: string): Queue<WebhookJobData> {
  return new Queue<WebhookJobData>(WEBHOOKS_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: 10_000, removeOnFail: 10_000 } });
}

export async function enqueueDeliveries(queue: Queue<WebhookJobData>, tenantId: string, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await queue.addBulk(
    deliveryIds.map((deliveryId) => ({
      name: webhookJob.name,
      data: { v: webhookJob.version, tenantId, deliveryId },
      opts: { jobId: deliveryId, attempts: webhookJob.attempts, backoff: { type: 'exponential', delay: webhookJob.firstBackoffMs } },
    })),
  );
}
