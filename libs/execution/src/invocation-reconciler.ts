import type { UnfinishedInvocation } from '@airlock/db';

/** What the queue holds for an unfinished invocation (mirrors the queue library's inspection). */
export type QueuedJobState = { state: 'live' } | { state: 'missing' } | { state: 'failed'; reason: string };

export interface InvocationReconcilerDeps {
  tenants(): Promise<ReadonlyArray<{ id: string }>>;
  unfinished(tenantId: string, afterId: string | null, limit: number): Promise<UnfinishedInvocation[]>;
  inspectJobs(invocationIds: readonly string[]): Promise<Map<string, QueuedJobState>>;
  /** Queues the invocation's job again (a no-op if one exists: the job id is the invocation's). */
  requeue(tenantId: string, invocationId: string): Promise<void>;
  /** Records the invocation as crashed and dead-lettered, settling its quota; false if it finished meanwhile. */
  recordLost(tenantId: string, invocationId: string, message: string): Promise<boolean>;
  /** Failed jobs never settled, newest first, that failed since `since` (ms). */
  unsettledFailed(since: number): Promise<ReadonlyArray<{ tenantId: string; invocationId: string }>>;
  /** Settles a finished invocation that was not settled (what was is not settled twice); false if it is unfinished or gone. */
  settleFinished(tenantId: string, invocationId: string): Promise<boolean>;
  /** Releases a tenant's in-flight count that its unfinished invocations cannot account for; returns how much. */
  releaseIfIdle(tenantId: string, idle: boolean): Promise<number>;
  /** How old an unfinished invocation must be before its job is looked at (its request may still be queueing it). */
  graceMs: number;
  pageSize: number;
}

export interface ReconcileResult {
  tenants: number;
  /** Unfinished invocations whose job was looked at. */
  inspected: number;
  /** Queued again: their job never reached the queue (an enqueue that failed) or was removed. */
  requeued: number;
  /** Recorded `crashed` and dead-lettered: the queue had failed their job outside any run. */
  lost: number;
  /** Finished, their job failed before settling them: settled now (fuel charged, slot back, webhooks planned). */
  settled: number;
  /** In-flight count released for tenants with nothing queued or running. */
  inFlightReleased: number;
}

/** How far back failed jobs are looked at for a settle they missed. */
export const UNSETTLED_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * Makes sure every invocation finishes and every quota slot comes back, when
 * the usual path broke. The database says which invocations are unfinished;
 * the queue says whether a job will still run each of them:
 * - no job at all (the request recorded it, then failed to queue it): queued again;
 * - a failed job (BullMQ fails a job that stalled more than it allows, without
 *   running it, so nothing was recorded): recorded `crashed` and dead-lettered,
 *   where the tenant can replay it;
 * - otherwise a run is still to come, and nothing is done.
 * Then a finished invocation whose job failed before settling it (settling kept failing through its last attempt:
 * Redis away for longer than its retries) is settled: its fuel charged, its slot given back, its webhooks planned.
 * Everything here is idempotent, so two sweeps at once do no harm.
 */
export class InvocationReconciler {
  constructor(private readonly deps: InvocationReconcilerDeps) {}

  async sweep(now = Date.now()): Promise<ReconcileResult> {
    const { deps } = this;
    const result: ReconcileResult = { tenants: 0, inspected: 0, requeued: 0, lost: 0, settled: 0, inFlightReleased: 0 };
    for (const tenant of await deps.tenants()) {
      result.tenants++;
      let idle = true;
      for (let afterId: string | null = null; ; ) {
        const page = await deps.unfinished(tenant.id, afterId, deps.pageSize);
        if (page.length === 0) break;
        idle = false;
        afterId = page.at(-1)!.id;
        const old = page.filter((invocation) => invocation.createdAt.getTime() <= now - deps.graceMs).map((invocation) => invocation.id);
        result.inspected += old.length;
        for (const [id, job] of await deps.inspectJobs(old)) {
          if (job.state === 'missing') {
            await deps.requeue(tenant.id, id);
            result.requeued++;
          } else if (job.state === 'failed' && (await deps.recordLost(tenant.id, id, `its job was lost: ${job.reason}`))) {
            result.lost++;
          }
        }
        if (page.length < deps.pageSize) break;
      }
      result.inFlightReleased += await deps.releaseIfIdle(tenant.id, idle);
    }
    // After the unfinished ones: a job the queue failed outside any run has no mark either, and was recorded above.
    for (const { tenantId, invocationId } of await deps.unsettledFailed(now - UNSETTLED_LOOKBACK_MS)) {
      if (await deps.settleFinished(tenantId, invocationId)) result.settled++;
    }
    return result;
  }
}
