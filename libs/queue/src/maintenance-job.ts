import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { quietQueue } from './quiet-queue.js';

export const MAINTENANCE_QUEUE = 'maintenance';

/** Deletes what is older than each tenant's retention. Scheduled (a BullMQ job scheduler), one at a time. */
export const retentionJob = {
  name: 'retention.sweep',
  version: 1,
  schema: z.strictObject({ v: z.literal(1) }),
  /** The scheduler's id: every worker upserts the same one, so there is one schedule however many workers run. */
  schedulerId: 'retention',
} as const;

/** Repairs unfinished invocations the queue no longer runs (see InvocationReconciler). Scheduled like retention. */
export const reconcileJob = {
  name: 'invocations.reconcile',
  version: 1,
  schema: z.strictObject({ v: z.literal(1) }),
  schedulerId: 'reconcile',
} as const;

/** Seals again what an older secrets key sealed (see SecretResealer). Scheduled like retention; workers also run it as they start. */
export const resealJob = {
  name: 'secrets.reseal',
  version: 1,
  schema: z.strictObject({ v: z.literal(1) }),
  schedulerId: 'reseal',
} as const;

export function createMaintenanceQueue(connection: Redis, prefix: string): Queue {
  return quietQueue(new Queue(MAINTENANCE_QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: 100, removeOnFail: 100 } }));
}

/**
 * Schedules the retention sweep, the resealing of secrets and the reconciler
 * (replacing earlier schedules). The first two run at once; the reconciler
 * first one interval from now: at start, the jobs of a worker that went away
 * are still BullMQ's to recover as stalled.
 */
export async function scheduleMaintenance(queue: Queue, every: { retentionMs: number; reconcileMs: number }): Promise<void> {
  await queue.upsertJobScheduler(retentionJob.schedulerId, { every: every.retentionMs }, { name: retentionJob.name, data: { v: retentionJob.version } });
  await queue.upsertJobScheduler(resealJob.schedulerId, { every: every.retentionMs }, { name: resealJob.name, data: { v: resealJob.version } });
  await queue.upsertJobScheduler(
    reconcileJob.schedulerId,
    { every: every.reconcileMs, startDate: Date.now() + every.reconcileMs },
    { name: reconcileJob.name, data: { v: reconcileJob.version } },
  );
}
