import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { linePriority } from './tenant-line.js';

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

// A tenant's deliveries queued or being retried: the length of its line. Kept a
// day after its last delivery joined: a count left behind by a worker that died
// between a delivery's end and its leaving the line only lowers its own tenant's
// priorities, and not for long.
const JOIN_LINE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 86400)
return total
`;
const LEAVE_LINE = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

const lineKey = (prefix: string, tenantId: string) => `${prefix}:${WEBHOOKS_QUEUE}:line:${tenantId}`;

/**
 * Queues deliveries of one tenant, each at its place in the tenant's line of
 * deliveries (`linePriority`): a tenant whose endpoints are slow, or many,
 * does not hold up another tenant's deliveries behind its own. `redis` is the
 * queue's connection, which keeps the lines.
 */
export async function enqueueDeliveries(queue: Queue<WebhookJobData>, redis: Redis, tenantId: string, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  const total = Number(await redis.eval(JOIN_LINE, 1, lineKey(queue.opts.prefix ?? 'bull', tenantId), deliveryIds.length));
  const ahead = total - deliveryIds.length;
  await queue.addBulk(
    deliveryIds.map((deliveryId, index) => ({
      name: webhookJob.name,
      data: { v: webhookJob.version, tenantId, deliveryId },
      opts: {
        jobId: deliveryId,
        attempts: webhookJob.attempts,
        backoff: { type: 'exponential', delay: webhookJob.firstBackoffMs },
        priority: linePriority(ahead + index),
      },
    })),
  );
}

/** A delivery has ended (delivered, or failed for good): it leaves its tenant's line. */
export async function leaveDeliveryLine(redis: Redis, prefix: string, tenantId: string): Promise<void> {
  await redis.eval(LEAVE_LINE, 1, lineKey(prefix, tenantId));
}
