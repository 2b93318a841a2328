import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { quietQueue } from './quiet-queue.js';
import { redisScript } from './redis-script.js';
import { linePriority } from './tenant-line.js';

export const WEBHOOKS_QUEUE = 'webhooks';

/**
 * How long a delivery waits before each retry: quick ones for a blip, then longer, for about 20 hours in all, so
 * that a receiver down for a deploy or a night still gets its results.
 */
const WEBHOOK_RETRY_DELAYS_MS = [1_000, 10_000, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000] as const;

/** Posts one delivery; its id is the delivery's. Retried on that schedule until the receiver answers 2xx. */
export const webhookJob = {
  name: 'webhook.deliver',
  version: 1,
  schema: z.strictObject({ v: z.literal(1), tenantId: z.uuid(), deliveryId: z.uuid() }),
  attempts: WEBHOOK_RETRY_DELAYS_MS.length + 1,
  /** The wait after a delivery's `attemptsMade`-th attempt failed (the queue's custom backoff strategy). */
  retryDelayMs: (attemptsMade: number): number => WEBHOOK_RETRY_DELAYS_MS[Math.min(Math.max(attemptsMade, 1), WEBHOOK_RETRY_DELAYS_MS.length) - 1]!,
} as const;

export type WebhookJobData = z.output<typeof webhookJob.schema>;

export function createWebhookQueue(connection: Redis, prefix: string): Queue<WebhookJobData> {
  return quietQueue(new Queue<WebhookJobData>(WEBHOOKS_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: 10_000, removeOnFail: 10_000 } }));
}

// A tenant's place in the line of deliveries: how many it queued this minute and
// the last (each minute's count expires after the next). Nothing has to leave the
// line, so nothing lost (a worker that died, a delivery queued twice) can leave a
// tenant behind for longer than two minutes.
const JOIN_LINE = `
local now = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], 180)
return now + tonumber(redis.call('GET', KEYS[2]) or '0')
`;

const lineKey = (prefix: string, tenantId: string, minute: number) => `${prefix}:${WEBHOOKS_QUEUE}:line:${tenantId}:${minute}`;

/**
 * Queues deliveries of one tenant, each at its place in the tenant's line of
 * deliveries (`linePriority`, after what the tenant queued in the last minute
 * or two): a tenant whose endpoints are slow, or many, does not hold up
 * another tenant's deliveries behind its own. `redis` is the queue's
 * connection, which keeps the counts.
 */
export async function enqueueDeliveries(queue: Queue<WebhookJobData>, redis: Redis, tenantId: string, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  const prefix = queue.opts.prefix ?? 'bull';
  const minute = Math.floor(Date.now() / 60_000);
  const recent = Number(await redisScript(redis, 'airlockWebhookJoinLine', JOIN_LINE)(2, lineKey(prefix, tenantId, minute), lineKey(prefix, tenantId, minute - 1), deliveryIds.length));
  const ahead = recent - deliveryIds.length;
  await queue.addBulk(
    deliveryIds.map((deliveryId, index) => ({
      name: webhookJob.name,
      data: { v: webhookJob.version, tenantId, deliveryId },
      opts: {
        jobId: deliveryId,
        attempts: webhookJob.attempts,
        backoff: { type: 'custom' },
        priority: linePriority(ahead + index),
      },
    })),
  );
}
