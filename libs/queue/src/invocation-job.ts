import { type Job, Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const INVOCATIONS_QUEUE = 'invocations';

/** The job that runs one invocation. Its id is the invocation's, so enqueueing twice queues once. */
export const invocationJob = {
  name: 'invocation.run',
  version: 1,
  schema: z.strictObject({ v: z.literal(1), tenantId: z.uuid(), invocationId: z.uuid() }),
} as const;

export type InvocationJobData = z.output<typeof invocationJob.schema>;

export function createInvocationQueue(connection: Redis, prefix: string, options: Partial<QueueOptions> = {}): Queue<InvocationJobData> {
  return new Queue<InvocationJobData>(INVOCATIONS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: 10_000, removeOnFail: 10_000 },
    ...options,
  });
}

/** How often a transient failure is retried, and from how long a first wait (doubling each time). */
export interface RetryPolicy {
  attempts: number;
  firstBackoffMs: number;
}

export async function enqueueInvocations(
  queue: Queue<InvocationJobData>,
  tenantId: string,
  invocationIds: readonly string[],
  retry: RetryPolicy,
): Promise<void> {
  if (invocationIds.length === 0) return;
  await queue.addBulk(
    invocationIds.map((invocationId) => ({
      name: invocationJob.name,
      data: { v: invocationJob.version, tenantId, invocationId },
      opts: { jobId: invocationId, attempts: retry.attempts, backoff: { type: 'exponential', delay: retry.firstBackoffMs } },
    })),
  );
}

/** Validates a job's data; a job of an unknown shape is a bug, never retried. */
export function invocationJobData(job: Job): InvocationJobData {
  return invocationJob.schema.parse(job.data);
}
