import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InvocationRunner, type InvocationRunnerDeps } from '@airlock/execution';
import { createInvocationQueue, createRedisConnection, enqueueInvocations, INVOCATIONS_QUEUE, invocationJobKey, invocationRetryPolicy, TenantQuotaGateRepository } from '@airlock/queue';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { compileSource } from '../support/pdk.js';
import { wat } from '../support/wasm.js';
import { testEnvironment } from '../support/test-environment.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SWEEP_MS = 300;

describe('invocations the usual path does not finish: lost jobs, leaked slots, deleted plugins', () => {
  let api: ApiHarness;
  let redis: Redis;
  let worker: InProcessWorker | undefined;

  before(async () => {
    api = await startApi({ env: { AIRLOCK_RECONCILE_INTERVAL_MS: String(SWEEP_MS) } });
    redis = createRedisConnection(api.config.redisUrl!, 'request', 'reconciler-test');
  });
  after(async () => {
    await worker?.close();
    redis.disconnect();
    await api.close();
  });

  /** A tenant with `greet` of the hello template bound to order.created, allowed `concurrentRuns` at once. */
  async function tenantWith(name: string, concurrentRuns: number): Promise<TenantSession> {
    const session = await createTenantSession(api, name);
    await api.http.request('PUT', `/v1/admin/tenants/${session.tenantId}/quota`, { token: api.adminToken, body: { overrides: { concurrentRuns } } });
    await publishAndBind(api, session, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    return session;
  }
  const emit = (session: TenantSession, name: string) =>
    api.http.post('/v1/events', { token: session.key, body: { type: 'order.created', payloadBase64: Buffer.from(name).toString('base64') } });

  /** Emits an event while no worker runs, so its invocation stays queued; returns that invocation. */
  async function emitWithoutWorker(tenant: TenantSession, name: string): Promise<{ id: string; pluginId: string }> {
    await worker?.close();
    worker = undefined;
    const emitted = await emit(tenant, name);
    assert.equal(emitted.status, 202, emitted.text);
    return emitted.body.invocations[0];
  }

  /** Takes the next queued job as a bare consumer would (checking it is `invocationId`'s), and does `act` with it. */
  async function withJobTaken(invocationId: string, act: (job: Job, token: string) => Promise<unknown>): Promise<void> {
    const connection = createRedisConnection(api.config.redisUrl!, 'consumer', 'reconciler-test-consumer');
    const consumer = new Worker(INVOCATIONS_QUEUE, null, { connection, prefix: api.redisPrefix });
    try {
      const token = randomUUID();
      const job = await consumer.getNextJob(token);
      assert.equal(job?.id, invocationId);
      await act(job!, token);
    } finally {
      await consumer.close();
      await connection.quit();
    }
  }

  /** Polls `check` until it returns something other than undefined, for up to `timeoutMs`. */
  async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined || Date.now() > deadline) return value;
      await sleep(50);
    }
  }

  it('records a job the queue failed outside any run (stalled too often) as crashed and dead-lettered, and gives its slot back', async () => {
    const tenant = await tenantWith('Stalled', 1);
    const emitted = await emit(tenant, 'Ada');
    assert.equal(emitted.status, 202, emitted.text);
    const lostId: string = emitted.body.invocations[0].id;

    // What BullMQ's stalled-job check does to a job whose worker died twice during it: it fails the job, never
    // running it again and telling no worker. Here a consumer takes the job and fails it the same way.
    await withJobTaken(lostId, (job, token) => job.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), token));

    assert.equal((await emit(tenant, 'Bob')).status, 429, 'the lost invocation still holds the only slot');

    worker = await startWorker(api);
    const lost = await waitUntilFinished(api, tenant.key, lostId);
    assert.equal(lost.status, 'crashed');
    assert.match(lost.error.message, /lost: job stalled more than allowable limit/);
    const deadLetters = (await api.http.get('/v1/dead-letters', { token: tenant.key })).body.items;
    assert.deepEqual(deadLetters.map((item: { id: string }) => item.id), [lostId], 'dead-lettered, where it can be replayed');

    const next = await eventually(async () => {
      const response = await emit(tenant, 'Bob');
      return response.status === 202 ? response : undefined;
    });
    assert.equal(next?.status, 202, 'the slot came back');
    assert.equal((await waitUntilFinished(api, tenant.key, next!.body.invocations[0].id)).output, 'hello, Bob');

    const replay = await api.http.post(`/v1/dead-letters/${lostId}/replay`, { token: tenant.key });
    assert.equal(replay.status, 202, replay.text);
    assert.equal((await waitUntilFinished(api, tenant.key, replay.body.invocationId)).output, 'hello, Ada', 'the replay runs the lost input');
  });

  it('settles an invocation whose job failed after its outcome was written: slot back, fuel charged, webhook planned, once', async () => {
    // What settling that keeps failing through a job's last attempt (Redis away longer than its retries) leaves: the
    // outcome written, the job failed, nothing charged, the slot held, no webhook planned.
    const tenant = await tenantWith('Unsettled', 1);
    const hook = await api.http.post('/v1/webhooks', { token: tenant.key, body: { url: 'https://hooks.example.com/results', events: [] } });
    assert.equal(hook.status, 201, hook.text);
    const { id } = await emitWithoutWorker(tenant, 'Mo');
    await withJobTaken(id, async (job, token) => {
      worker = await startWorker(api);
      const runner = worker.app.get(InvocationRunner);
      const deps = (runner as unknown as { deps: InvocationRunnerDeps }).deps;
      const settle = deps.settle;
      deps.settle = () => Promise.reject(new Error('Redis is away (the test)'));
      try {
        await assert.rejects(runner.run(tenant.tenantId, id, 1, 1), /Redis is away/);
      } finally {
        deps.settle = settle;
      }
      // Its last attempt: the queue will not deliver it again.
      await job.moveToFailed(new UnrecoverableError('Redis is away (the test)'), token);
    });
    const finished = await waitUntilFinished(api, tenant.key, id);
    assert.deepEqual([finished.status, finished.output], ['ok', 'hello, Mo'], 'the outcome was written');

    const fuelToday = async () => BigInt((await redis.get(`${api.redisPrefix}:quota:${tenant.tenantId}:fuel:${new Date().toISOString().slice(0, 10)}`)) ?? 0);
    assert.ok(finished.fuelUsed > 0);
    assert.equal(await eventually(async () => ((await fuelToday()) > 0n ? fuelToday() : undefined)), BigInt(finished.fuelUsed), 'its fuel counts against the day');
    const planned = (await api.http.get(`/v1/webhooks/${hook.body.id}/deliveries`, { token: tenant.key })).body.items;
    assert.deepEqual(planned.map((delivery: { invocationId: string }) => delivery.invocationId), [id], 'its result is posted');
    await sleep(3 * SWEEP_MS);
    assert.equal(await fuelToday(), BigInt(finished.fuelUsed), 'later sweeps charge nothing again');
    assert.equal((await emit(tenant, 'Nell')).status, 202, 'the slot came back');
  });

  it('queues again an invocation that was recorded but whose job never reached the queue', async () => {
    const tenant = await tenantWith('Unqueued', 10);
    const { id } = await emitWithoutWorker(tenant, 'Cy');
    // The state an enqueue that failed after the event was recorded leaves: a queued row, no job.
    const queue = createInvocationQueue(redis, api.redisPrefix);
    assert.equal(await queue.remove(id), 1);
    await queue.close();

    worker = await startWorker(api);
    const finished = await waitUntilFinished(api, tenant.key, id);
    assert.equal(finished.status, 'ok');
    assert.equal(finished.output, 'hello, Cy');
    assert.equal(finished.attempts, 1);
  });

  it('does not run what a plugin deleted since had queued', async () => {
    const tenant = await tenantWith('Deleting', 10);
    const { id, pluginId } = await emitWithoutWorker(tenant, 'Flo');
    assert.equal((await api.http.delete(`/v1/plugins/${pluginId}?force=true`, { token: tenant.key })).status, 200);

    worker = await startWorker(api);
    const finished = await waitUntilFinished(api, tenant.key, id);
    assert.equal(finished.status, 'invalid_module');
    assert.equal(finished.error.message, 'the plugin was deleted');
    assert.equal(finished.output, '', 'it did not run');
  });

  it('runs an invocation delivered again to the worker running it once: the second delivery waits for the first run', async () => {
    // What a live worker sees when Redis was away longer than a job's lock: the job comes back while its run goes on.
    const tenant = await tenantWith('Redelivered', 10);
    const { id } = await emitWithoutWorker(tenant, 'Hal');
    const sandboxRun = api.sandbox.run.bind(api.sandbox);
    let runsOfIt = 0;
    api.sandbox.run = (artifact, exportName, input, context) => {
      if (Buffer.from(input).toString() === 'Hal') runsOfIt++;
      return sandboxRun(artifact, exportName, input, context);
    };
    try {
      worker = await startWorker(api);
      const runner = worker.app.get(InvocationRunner);
      // Its queued job is delivered to the worker as well: three deliveries at once in all.
      const outcomes = await Promise.all([runner.run(tenant.tenantId, id), runner.run(tenant.tenantId, id)]);
      const finished = await waitUntilFinished(api, tenant.key, id);
      assert.deepEqual([finished.status, finished.output, finished.attempts], ['ok', 'hello, Hal', 1]);
      // Whichever delivery came first ran it (the worker's own, or one of these); the others found it finished.
      assert.ok(outcomes.every((outcome) => outcome.kind === 'finished' || outcome.kind === 'already_finished'), JSON.stringify(outcomes));
      await sleep(300);
      assert.equal(runsOfIt, 1, 'the plugin ran once');
    } finally {
      api.sandbox.run = sandboxRun;
    }
  });

  it('runs the plugin one delivery at a time when the first run of several ends transiently', async () => {
    // Three deliveries of one job to the worker running it; the first run crashes (retried), so the invocation is
    // queued again when the other two go on: they take turns, one runs it, the other finds it finished.
    const tenant = await tenantWith('Crashed first', 10);
    const { id } = await emitWithoutWorker(tenant, 'Ike');
    const queue = createInvocationQueue(redis, api.redisPrefix);
    await queue.pause(); // the worker's own delivery waits: the three below are the only ones
    const sandboxRun = api.sandbox.run.bind(api.sandbox);
    let runs = 0;
    let running = 0;
    let mostAtOnce = 0;
    api.sandbox.run = async (artifact, exportName, input, context) => {
      if (Buffer.from(input).toString() !== 'Ike') return sandboxRun(artifact, exportName, input, context);
      runs++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      try {
        await sleep(200);
        if (runs === 1) return { ...(await sandboxRun(artifact, exportName, input, context)), status: 'crashed', error: { kind: 'crashed', message: 'the executor died (the test)' } };
        return await sandboxRun(artifact, exportName, input, context);
      } finally {
        running--;
      }
    };
    try {
      worker = await startWorker(api);
      const runner = worker.app.get(InvocationRunner);
      const outcomes = await Promise.all([1, 2, 3].map(() => runner.run(tenant.tenantId, id, 1, 3)));
      assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['retry', 'finished', 'already_finished']);
      assert.deepEqual([runs, mostAtOnce], [2, 1], 'the plugin ran twice, never two at once');
      const finished = await waitUntilFinished(api, tenant.key, id);
      assert.deepEqual([finished.status, finished.output], ['ok', 'hello, Ike']);
    } finally {
      api.sandbox.run = sandboxRun;
      await queue.resume();
      await queue.close();
    }
  });

  it('does not run what a version unpublished since had queued: unpublishing stops a bad version at once', async () => {
    const tenant = await tenantWith('Unpublishing', 10);
    const { id, pluginId } = await emitWithoutWorker(tenant, 'Gus');
    const unpublished = await api.http.post(`/v1/plugins/${pluginId}/versions/1/unpublish`, { token: tenant.key });
    assert.equal(unpublished.status, 200, unpublished.text);

    worker = await startWorker(api);
    const finished = await waitUntilFinished(api, tenant.key, id);
    assert.equal(finished.status, 'invalid_module');
    assert.equal(finished.error.message, 'version 1 was unpublished after this was queued');
    assert.equal(finished.output, '', 'it did not run');
  });

  it('releases an in-flight count that nothing queued or running accounts for', async () => {
    const tenant = await tenantWith('Leaky', 2);
    // Two runs whose quota settle was lost (a worker that died between recording and settling).
    await redis.incrby(`${api.redisPrefix}:quota:${tenant.tenantId}:in-flight`, 2);
    assert.equal((await emit(tenant, 'Di')).status, 429);
    worker ??= await startWorker(api);
    const accepted = await eventually(async () => {
      const response = await emit(tenant, 'Di');
      return response.status === 202 ? response : undefined;
    });
    assert.equal(accepted?.status, 202, 'the leaked slots came back');
    assert.equal((await waitUntilFinished(api, tenant.key, accepted!.body.invocations[0].id)).output, 'hello, Di');
  });
});

describe('runs claimed before a change that stops them, waiting for an executor', () => {
  let api: ApiHarness;
  let worker: InProcessWorker | undefined;
  let spinner: Uint8Array;

  // An API of its own, with its one executor. A tenant's share of the worker is raised so that the worker claims all
  // it is given, as it does for a tenant alone: the tenants of earlier tests are still "about" for a while.
  before(async () => {
    api = await startApi({ env: { AIRLOCK_TENANT_SHARE: '16' } });
    worker = await startWorker(api);
    spinner = await compileSource(`import { Host } from "@airlock/plugin-pdk";
export function spin(): i32 { let x: u32 = 1; while (x != 0) x = x * 1664525 + 1013904223 | 1; Host.outputString(x.toString()); return 0; }
`);
  });
  after(async () => {
    await worker?.close();
    await api.close();
  });

  const eventually = async (check: () => Promise<boolean>): Promise<boolean> => {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(20)) if (await check()) return true;
    return false;
  };

  /**
   * A tenant whose spinner holds the executor until its time limit (however fast the machine), and
   * `emit` to send it events; returns once the spinner runs and `waiting` events' runs are claimed
   * (running) with their calls queued behind it.
   */
  async function spinnerAhead(tenant: TenantSession, waiting: () => Promise<string[]>): Promise<{ spinning: string; waiting: string[]; statusOf: (id: string) => Promise<string> }> {
    const overrides = { concurrentRuns: 10, eventsPerSecond: 100, fuelPerCall: 1e15, timeoutMs: 8000 };
    const quota = await api.http.request('PUT', `/v1/admin/tenants/${tenant.tenantId}/quota`, { token: api.adminToken, body: { overrides } });
    assert.equal(quota.status, 200, quota.text);
    await publishAndBind(api, tenant, { name: 'spinner', template: '', wasm: spinner, event: 'report.requested', exportName: 'spin' });
    const statusOf = async (id: string): Promise<string> => (await api.http.get(`/v1/invocations/${id}`, { token: tenant.key })).body.status;
    const spun = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'report.requested', payload: {} } });
    assert.equal(spun.status, 202, spun.text);
    const spinning: string = spun.body.invocations[0].id;
    assert.ok(await eventually(async () => (await statusOf(spinning)) === 'running'), 'the spinner runs');
    // Claimed is not yet in the executor: the waiting runs are sent once the spinner's call holds it, or one of them
    // could reach the executor first on a busy machine.
    assert.ok(await eventually(async () => api.sandbox.stats().busy === 1), 'the spinner holds the executor');
    const ids = await waiting();
    assert.ok(await eventually(async () => (await Promise.all(ids.map(statusOf))).every((status) => status === 'running')), 'the waiting runs were claimed');
    return { spinning, waiting: ids, statusOf };
  }

  async function emit(tenant: TenantSession, payload: string): Promise<string> {
    const emitted = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', payload } });
    assert.equal(emitted.status, 202, emitted.text);
    return emitted.body.invocations[0].id;
  }

  /** Each of `ids` ended with `status` and `message` without running, while the spinner still held the executor. */
  async function endedWithoutRunning(tenant: TenantSession, run: Awaited<ReturnType<typeof spinnerAhead>>, status: string, message: string): Promise<void> {
    for (const id of run.waiting) {
      const finished = await waitUntilFinished(api, tenant.key, id);
      assert.deepEqual([finished.status, finished.error?.message], [status, message], JSON.stringify(finished));
      assert.deepEqual([finished.output, finished.fuelUsed], ['', 0], 'it did not run');
    }
    assert.equal(await run.statusOf(run.spinning), 'running', 'they ended while the executor was still busy, without waiting for it');
    assert.equal((await waitUntilFinished(api, tenant.key, run.spinning)).status, 'timeout');
  }

  it('withdraws those of a version unpublished since (a tenant\'s change)', async () => {
    const tenant = await createTenantSession(api, 'Unpublisher');
    const { pluginId } = await publishAndBind(api, tenant, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    const run = await spinnerAhead(tenant, async () => [await emit(tenant, 'Ida'), await emit(tenant, 'Jo')]);

    const unpublished = await api.http.post(`/v1/plugins/${pluginId}/versions/1/unpublish`, { token: tenant.key });
    assert.equal(unpublished.status, 200, unpublished.text);
    await endedWithoutRunning(tenant, run, 'invalid_module', 'version 1 was unpublished after this was queued');
  });

  it("withdraws those of a version whose approval an admin withdrew since (an admin's change)", async () => {
    const tenant = await createTenantSession(api, 'Reviewed');
    // The free tier grants no HTTP: a version that may call out needs an admin's approval.
    const caller = wat('(module (import "extism:host/env" "http_request" (func (param i64 i64) (result i64))) (func (export "run") (result i32) (i32.const 0)))');
    const as = { token: tenant.key };
    const pluginId: string = (await api.http.post('/v1/plugins', { ...as, body: { name: 'caller' } })).body.id;
    const uploaded = await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as, rawBody: { data: caller, contentType: 'application/wasm' } });
    assert.equal(uploaded.body.approvalStatus, 'pending', uploaded.text);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as)).status, 200);
    const request = (await api.http.get('/v1/admin/approvals?status=pending', { token: api.adminToken })).body.items.find((item: { pluginId: string }) => item.pluginId === pluginId);
    const decide = (body: object) => api.http.post(`/v1/admin/approvals/${request.id}`, { token: api.adminToken, body });
    assert.equal((await decide({ decision: 'approve' })).status, 200);
    const bound = await api.http.post('/v1/bindings', { ...as, body: { event: 'order.created', pluginId, export: 'run' } });
    assert.equal(bound.status, 201, bound.text);
    const run = await spinnerAhead(tenant, async () => [await emit(tenant, 'Kim'), await emit(tenant, 'Lou')]);

    assert.equal((await decide({ decision: 'reject', revise: true, note: 'not this one' })).status, 200);
    await endedWithoutRunning(tenant, run, 'forbidden_import', "version 1's permissions were refused by an admin");
  });
});

describe('quota counts given back (against Redis)', () => {
  let redis: Redis;
  const prefix = `airlock-test-${randomUUID()}`;
  const limits = { eventsPerSecond: 1000, invocationsPerDay: 1000, fuelPerDay: 1e12, concurrentRuns: 1000 };

  before(() => {
    redis = createRedisConnection(testEnvironment.redisUrl, 'consumer', 'reconciler-quota-test');
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('needs the same count, with nothing admitted, at two sweeps in a row where the tenant was idle', async () => {
    const quotas = new TenantQuotaGateRepository(redis, prefix);
    const tenantId = randomUUID();
    const inFlight = async () => Number(await redis.get(`${prefix}:quota:${tenantId}:in-flight`));
    await quotas.admit(tenantId, 3, limits);

    assert.equal(await quotas.releaseIfIdle(tenantId, false, 1000), 0, 'busy: nothing released');
    assert.equal(await quotas.releaseIfIdle(tenantId, true, 1000), 0, 'first idle sweep: only noted');
    assert.equal(await quotas.releaseIfIdle(tenantId, false, 1000), 0, 'busy again: the note is dropped');
    assert.equal(await quotas.releaseIfIdle(tenantId, true, 1000), 0);
    await quotas.admit(tenantId, 1, limits); // admitted, not recorded yet: the database cannot see it
    assert.equal(await quotas.releaseIfIdle(tenantId, true, 1000), 0, 'a count that moved is not stale');
    assert.equal(await inFlight(), 4);
    assert.equal(await quotas.releaseIfIdle(tenantId, true, 1000), 4, 'unchanged across two idle sweeps: released');
    assert.equal(await inFlight(), 0);
    assert.equal(await quotas.releaseIfIdle(tenantId, true, 1000), 0, 'nothing left to release');
  });

  it('settles a finished invocation once, however often its settle is repeated', async () => {
    const quotas = new TenantQuotaGateRepository(redis, prefix);
    const queue = createInvocationQueue(redis, prefix);
    const tenantId = randomUUID();
    const [first, second, removed] = [randomUUID(), randomUUID(), randomUUID()];
    await enqueueInvocations(queue, tenantId, [first, second], invocationRetryPolicy(1));
    await quotas.admit(tenantId, 3, limits);
    const inFlight = async () => Number(await redis.get(`${prefix}:quota:${tenantId}:in-flight`));
    const fuelToday = async () => Number(await redis.get(`${prefix}:quota:${tenantId}:fuel:${new Date().toISOString().slice(0, 10)}`));
    const settlement = (id: string, fuelUsed: bigint) => ({ tenantId, fuelUsed, jobKey: invocationJobKey(prefix, id) });

    assert.equal(await quotas.settleMany([settlement(first, 100n)]), 1);
    assert.deepEqual([await inFlight(), await fuelToday()], [2, 100]);
    // The same invocation again (its job came back after its worker died past the settle), in a batch with another.
    assert.equal(await quotas.settleMany([settlement(first, 100n), settlement(second, 20n)]), 1, 'only the second is new');
    assert.deepEqual([await inFlight(), await fuelToday()], [1, 120]);
    // A job already removed cannot come back: its invocation is settled, and no mark is left behind.
    assert.equal(await quotas.settleMany([settlement(removed, 3n)]), 1);
    assert.deepEqual([await inFlight(), await fuelToday()], [0, 123]);
    assert.equal(await redis.exists(invocationJobKey(prefix, removed)), 0);
    // A run the reconciler already released (its tenant was idle at two sweeps) takes the count no lower.
    assert.equal(await quotas.settleMany([settlement(randomUUID(), 1n)]), 1);
    assert.deepEqual([await inFlight(), await fuelToday()], [0, 124]);
    await queue.close();
  });

  it('gives back admitted invocations into a day key that expires, even one the release creates (past midnight)', async () => {
    const quotas = new TenantQuotaGateRepository(redis, prefix);
    const tenantId = randomUUID();
    await quotas.release(tenantId, 1);
    const dayKey = `${prefix}:quota:${tenantId}:invocations:${new Date().toISOString().slice(0, 10)}`;
    assert.equal(await redis.get(dayKey), '-1');
    assert.ok((await redis.ttl(dayKey)) > 86_400, 'it expires after the day, as admitted counts do');
  });
});
