import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationReconciler, type QueuedJobState } from './invocation-reconciler.js';

const NOW = 1_000_000;
const id = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

/** A tenant's unfinished invocations (by id, as the repository pages them) and what the queue holds for each. */
function reconcilerOver(unfinished: Array<{ id: string; createdAt: Date; job: QueuedJobState }>, graceMs = 60_000) {
  const done = { requeued: [] as string[], lost: [] as string[], idle: [] as boolean[] };
  const reconciler = new InvocationReconciler({
    tenants: async () => [{ id: 'tenant' }],
    unfinished: async (_tenantId, afterId, limit) =>
      unfinished
        .filter((row) => afterId === null || row.id > afterId)
        .sort((a, b) => a.id.localeCompare(b.id))
        .slice(0, limit)
        .map(({ id, createdAt }) => ({ id, createdAt })),
    inspectJobs: async (ids) => new Map(ids.map((invocationId) => [invocationId, unfinished.find((row) => row.id === invocationId)!.job])),
    requeue: async (_tenantId, invocationId) => void done.requeued.push(invocationId),
    recordLost: async (_tenantId, invocationId) => (done.lost.push(invocationId), true),
    releaseIfIdle: async (_tenantId, idle) => (done.idle.push(idle), 0),
    unsettledFailed: async () => [],
    settleFinished: async () => false,
    graceMs,
    pageSize: 10,
  });
  return { reconciler, done };
}

describe('InvocationReconciler', () => {
  it('looks past the first page, and acts only on invocations older than the grace', async () => {
    const old = new Date(NOW - 120_000);
    const rows = Array.from({ length: 35 }, (_, n) => ({ id: id(n), createdAt: old, job: { state: 'live' } as QueuedJobState }));
    rows[3]!.job = { state: 'missing' };
    rows[27]!.job = { state: 'failed', reason: 'job stalled more than allowable limit' };
    rows[34]!.job = { state: 'missing' };
    rows[34]!.createdAt = new Date(NOW - 1_000); // its request may still be queueing it
    const { reconciler, done } = reconcilerOver(rows);
    const result = await reconciler.sweep(NOW);
    assert.deepEqual(done.requeued, [id(3)]);
    assert.deepEqual(done.lost, [id(27)]);
    assert.deepEqual(done.idle, [false], 'a tenant with unfinished invocations is not idle');
    assert.deepEqual({ inspected: result.inspected, requeued: result.requeued, lost: result.lost }, { inspected: 34, requeued: 1, lost: 1 });
  });

  it('reports a tenant with nothing unfinished as idle', async () => {
    const { reconciler, done } = reconcilerOver([]);
    await reconciler.sweep(NOW);
    assert.deepEqual(done.idle, [true]);
  });
});
