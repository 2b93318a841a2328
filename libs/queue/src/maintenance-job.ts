import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const MAINTENANCE_QUEUE = 'maintenance';

/** Deletes what is older than each tenant's retention. Scheduled (a BullMQ job scheduler), one at a time. */
export const retentionJob = {
  name: 'retention.sweep',
  version: 1,
  schema: z.strictObject({ v: z.literal(1) }),
  /** The scheduler's id: every worker upserts the same one, so there is one schedule however many workers run. */
  schedulerId: 'retention',
} as const;

export function createMaintenanceQueue(connection: Redis, prefix: string): Queue {
  return new Queue(MAINTENANCE_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: 100, removeOnFail: 100 } });
}

/** Schedules the retention sweep every `everyMs` (replacing an earlier schedule). */
export async function scheduleRetention(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(retentionJob.schedulerId, { every: everyMs }, { name: retentionJob.name, data: { v: retentionJob.version } });
}
