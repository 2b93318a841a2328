import { type Job, Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { quietQueue } from './quiet-queue.js';
import { redisScript } from './redis-script.js';
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

// KEYS[1] the queue's failed set; ARGV[1] the oldest failure to look at (ms), ARGV[2] how many at most, ARGV[3] the
// prefix of its jobs' keys. Returns id, data pairs of the failed jobs that carry no settle mark, newest first.
const UNSETTLED_FAILED = `
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local found = {}
for _, id in ipairs(ids) do
  local job = ARGV[3] .. id
  if redis.call('HEXISTS', job, 'airlockSettled') == 0 then
    local data = redis.call('HGET', job, 'data')
    if data then
      found[#found + 1] = id
      found[#found + 1] = data
    end
  end
end
return found
`;

/**
 * Failed invocation jobs, newest first, that failed since `since` and were never settled (see
 * TenantQuotaGateRepository.settleMany, which marks the job it settles). A job fails with its outcome written and
 * not settled when settling kept failing on its last attempt; or the queue failed it outside any run, and its
 * invocation is then unfinished. Reads at most `limit` of the failed set: it keeps the last 10,000 failures.
 */
export async function unsettledFailedInvocationJobs(
  queue: Queue<InvocationJobData>,
  redis: Redis,
  since: number,
  limit: number,
): Promise<Array<{ tenantId: string; invocationId: string }>> {
  const failedKey = queue.keys.failed!;
  const found = (await redisScript(redis, 'airlockUnsettledFailed', UNSETTLED_FAILED)(1, failedKey, since, limit, queue.toKey(''))) as string[];
  const jobs: Array<{ tenantId: string; invocationId: string }> = [];
  for (let index = 0; index < found.length; index += 2) {
    const data = invocationJob.schema.safeParse(parseJsonOrNull(found[index + 1]!));
    // A job of another shape never ran an invocation (the worker refuses it): nothing to settle.
    if (data.success && data.data.invocationId === found[index]) jobs.push({ tenantId: data.data.tenantId, invocationId: data.data.invocationId });
  }
  return jobs;
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Validates a job's data; a job of an unknown shape is a bug, never retried. */
export function invocationJobData(job: Job): InvocationJobData {
  return invocationJob.schema.parse(job.data);
}
