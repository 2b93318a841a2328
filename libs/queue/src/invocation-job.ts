import { type Job, Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { quietQueue } from './quiet-queue.js';
import { linePriority } from './tenant-line.js';

export const INVOCATIONS_QUEUE = 'invocations';

/** The job that runs one invocation. Its id is the invocation's, so enqueueing twice queues once. */
export const invocationJob = {
  name: 'invocation.run',
  version: 1,
  schema: z.strictObject({
    v: z.literal(1),
    tenantId: z.uuid(),
    invocationId: z.uuid(),
    /**
     * The W3C trace context of the request that queued it, so the run continues
     * its trace. One that is not what this expects is dropped, not a reason to
     * refuse the job: the run then starts a trace of its own.
     */
    trace: z.record(z.string().max(64), z.string().max(512)).optional().catch(undefined),
  }),
} as const;

export type InvocationJobData = z.output<typeof invocationJob.schema>;

export function createInvocationQueue(connection: Redis, prefix: string, options: Partial<QueueOptions> = {}): Queue<InvocationJobData> {
  return quietQueue(
    new Queue<InvocationJobData>(INVOCATIONS_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: 10_000, removeOnFail: 10_000 },
      ...options,
    }),
  );
}

/**
 * The Redis key of an invocation's job (BullMQ's hash of it, where settling a
 * finished invocation leaves its mark).
 */
export function invocationJobKey(prefix: string, invocationId: string): string {
  return `${prefix}:${INVOCATIONS_QUEUE}:${invocationId}`;
}

/**
 * The channel on which an API announces a job of a tenant that had nothing
 * queued or running: a worker whose every slot is taken (by jobs it holds back
 * for fairness) hands one of those back, so the newcomer is fetched at once
 * rather than when one of the held tenant's runs ends.
 */
export function newcomerChannel(prefix: string): string {
  return `${prefix}:invocations:newcomer`;
}

/** Every tenant, in an announcement on `tenantConfigChannel` (an admin's change may concern any of them). */
export const ALL_TENANTS = '*';

/**
 * The channel on which an API announces that a tenant's configuration changed
 * (the message is its id, or ALL_TENANTS): API processes drop what they cached
 * of it, workers check again the runs they claimed and have not started (a
 * version unpublished, an approval withdrawn, a plugin or binding deleted).
 */
export function tenantConfigChannel(prefix: string): string {
  return `${prefix}:tenant-config-changed`;
}

/** How often a transient failure is retried, and from how long a first wait (doubling each time). */
export interface RetryPolicy {
  attempts: number;
  firstBackoffMs: number;
}

/** Transient failures are retried `jobAttempts` - 1 times, after 1 s, 2 s, 4 s… */
export function invocationRetryPolicy(jobAttempts: number): RetryPolicy {
  return { attempts: jobAttempts, firstBackoffMs: 1000 };
}

/**
 * Queues invocations of one tenant. `placeInLine` is how many of the tenant's
 * invocations are queued or running already (the quota gate counts them):
 * each job's priority is its place in its tenant's line (`linePriority`), so
 * tenants are served fairly.
 */
export async function enqueueInvocations(
  queue: Queue<InvocationJobData>,
  tenantId: string,
  invocationIds: readonly string[],
  retry: RetryPolicy,
  placeInLine = 0,
  trace?: Record<string, string>,
): Promise<void> {
  const jobs = invocationIds.map((invocationId, index) => ({
    name: invocationJob.name,
    data: { v: invocationJob.version, tenantId, invocationId, ...(trace === undefined ? {} : { trace }) },
    opts: {
      jobId: invocationId,
      attempts: retry.attempts,
      backoff: { type: 'exponential' as const, delay: retry.firstBackoffMs },
      priority: linePriority(placeInLine + index),
    },
  }));
  // Most events have one binding: one job is one script call, where addBulk wraps even one in a transaction.
  if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
  else if (jobs.length > 1) await queue.addBulk(jobs);
}

/** What the queue holds for an invocation: a job still to run or running, none at all, or one it gave up on. */
export type InvocationJobInspection = { state: 'live' } | { state: 'missing' } | { state: 'failed'; reason: string };

/**
 * The queue's side of invocations the database says are unfinished. A
 * completed job counts as live: its run recorded the outcome after the
 * database was read.
 */
export async function inspectInvocationJobs(queue: Queue<InvocationJobData>, invocationIds: readonly string[]): Promise<Map<string, InvocationJobInspection>> {
  // Concurrent commands on one connection share round trips (ioredis pipelines them).
  const states = await Promise.all(invocationIds.map((id) => queue.getJobState(id)));
  const inspections = new Map<string, InvocationJobInspection>();
  await Promise.all(
    invocationIds.map(async (id, index) => {
      const state = states[index];
      if (state === 'unknown') inspections.set(id, { state: 'missing' });
      else if (state !== 'failed') inspections.set(id, { state: 'live' });
      else inspections.set(id, { state: 'failed', reason: (await queue.getJob(id))?.failedReason ?? 'unknown reason' });
    }),
  );
  return inspections;
}

/** Validates a job's data; a job of an unknown shape is a bug, never retried. */
export function invocationJobData(job: Job): InvocationJobData {
  return invocationJob.schema.parse(job.data);
}
