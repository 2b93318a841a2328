import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivateRedis, startPrivateRedis } from '@airlock/launcher/private-redis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { createRedisConnection } from '@airlock/queue';
import { SPIN_PLUGIN, startApiProcess, startWorkerProcess, tenantWithLongCalls } from '../support/airlock-processes.js';
import { HttpClient } from '../support/http-client.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('events while Redis is down or refusing writes', () => {
  let dir: string;
  let redis: PrivateRedis;
  let api: ApiHarness;
  let alice: TenantSession;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-outage-'));
    redis = await startPrivateRedis({ dir, appendOnly: false });
    api = await startApi({ redisUrl: redis.url });
    alice = await createTenantSession(api, 'Alice');
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
  });
  after(async () => {
    await api.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 within a second, recording nothing, and runs the event once when sent again after Redis is back', async () => {
    const port = redis.port;
    await redis.stop();
    const body = { type: 'order.created', payloadBase64: Buffer.from('Ada').toString('base64'), idempotencyKey: 'during-outage' };
    const started = Date.now();
    const refused = await api.http.post('/v1/events', { token: alice.key, body });
    assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'not_ready');
    assert.match(refused.body.error.message, /nothing was recorded/);

    redis = await startPrivateRedis({ dir, appendOnly: false, port });
    let accepted = await api.http.post('/v1/events', { token: alice.key, body });
    for (let tries = 0; accepted.status === 503 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the API's connection reconnects
      accepted = await api.http.post('/v1/events', { token: alice.key, body });
    }
    assert.equal(accepted.status, 202, accepted.text);
    const worker = await startWorker(api, { redisUrl: redis.url });
    try {
      const id = accepted.body.invocations[0].id;
      let result;
      for (let tries = 0; tries < 200; tries++) {
        result = (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body;
        if (result.status === 'ok') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(result.status, 'ok');
      assert.equal(result.output, 'hello, Ada');
      assert.equal(result.attempts, 1);
      const ofEvent = await api.http.get(`/v1/invocations?event=${accepted.body.eventId}`, { token: alice.key });
      assert.deepEqual(ofEvent.body.items.map((item: { id: string }) => item.id), [id], 'one invocation: the refused request left nothing behind');
    } finally {
      await worker.close();
    }
  });

  it('answers 503 within a second when Redis hangs rather than refuses (a stopped process), and serves again once it answers', async () => {
    const admin = createRedisConnection(redis.url, 'consumer', 'outage-test-pid');
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))![1]);
    admin.disconnect();
    const body = { type: 'order.created', payloadBase64: Buffer.from('Bo').toString('base64'), idempotencyKey: 'while-hung' };
    process.kill(pid, 'SIGSTOP');
    try {
      for (const request of [() => api.http.post('/v1/events', { token: alice.key, body }), () => api.http.get('/v1/quota', { token: alice.key })]) {
        const started = Date.now();
        const answered = await request();
        const tookMs = Date.now() - started;
        assert.ok(tookMs < 1000, `answered in ${tookMs} ms`);
        if (answered.status !== 200) {
          assert.equal(answered.status, 503, answered.text);
          assert.match(answered.body.error.message, /nothing was recorded/);
        } else {
          assert.equal(answered.body.today, null, 'the limits still show, the counts do not');
        }
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let accepted = await api.http.post('/v1/events', { token: alice.key, body });
    for (let tries = 0; accepted.status === 503 && tries < 50; tries++) {
      await sleep(100);
      accepted = await api.http.post('/v1/events', { token: alice.key, body });
    }
    assert.equal(accepted.status, 202, accepted.text);
    const ofEvent = await api.http.get(`/v1/invocations?event=${accepted.body.eventId}`, { token: alice.key });
    assert.equal(ofEvent.body.items.length, 1, 'the refused request recorded nothing');
  });

  it('tells of an outage in its JSON log lines and answers, never as raw errors on the console', async () => {
    // An API process of its own, on a Redis of its own that goes away under it.
    const own = await startPrivateRedis({ dir: await mkdtemp(join(dir, 'own-')), appendOnly: false });
    const started = await startApiProcess(api, { REDIS_URL: own.url, LOG_LEVEL: 'info' });
    try {
      await own.stop();
      const client = new HttpClient(started.baseUrl);
      for (let attempt = 0; attempt < 3; attempt++) {
        const refused = await client.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: { attempt } } });
        assert.equal(refused.status, 503, refused.text);
      }
      // The connections' attempts to reconnect meanwhile.
      await sleep(1_500);
      const output = `${started.process.stdout()}\n${started.process.stderr()}`;
      const raw = output.split('\n').filter((line) => /ECONNREFUSED|Error\b/.test(line) && !line.startsWith('{'));
      assert.deepEqual(raw, [], `lines that are not JSON in:\n${output}`);
      // Each refusal is one warning line saying what happened, not a fault's stack.
      const refusals = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, any>)
        .filter((entry) => entry.context === 'Errors');
      assert.equal(refusals.length, 3, output);
      for (const entry of refusals) {
        assert.equal(entry.level, 40, JSON.stringify(entry));
        assert.match(entry.msg, /^POST \/v1\/events answered 503 not_ready: The quota store \(Redis\) is unavailable/);
        assert.equal(entry.err, undefined, 'no stack');
      }
    } finally {
      started.process.child.kill('SIGKILL');
      await own.stop();
    }
  });

  it('settles a finished run even when Redis refused the settle for a moment', async () => {
    const bob = await tenantWithLongCalls(api, SPIN_PLUGIN, 'spin');
    await api.http.request('PUT', `/v1/admin/tenants/${bob.tenantId}/quota`, {
      token: api.adminToken,
      body: { tier: 'standard', overrides: { fuelPerCall: 1_000_000_000_000, timeoutMs: 60_000, concurrentRuns: 1 } },
    });
    const emit = () => api.http.post('/v1/events', { token: bob.key, body: { type: 'job.run', payloadBase64: Buffer.from('400000000').toString('base64') } });
    const admin = createRedisConnection(redis.url, 'consumer', 'outage-test-admin');
    const worker = await startWorker(api, { redisUrl: redis.url });
    try {
      const accepted = await emit();
      assert.equal(accepted.status, 202, accepted.text);
      const id = accepted.body.invocations[0].id;
      const status = async () => (await api.http.get(`/v1/invocations/${id}`, { token: bob.key })).body.status as string;
      for (let tries = 0; tries < 200 && (await status()) !== 'running'; tries++) await sleep(25);
      // Out of memory, Redis refuses every write, the settle of the run about to finish among them.
      await admin.config('SET', 'maxmemory', '1');
      for (let tries = 0; tries < 400 && ['queued', 'running'].includes(await status()); tries++) await sleep(25);
      assert.equal(await status(), 'ok', 'the outcome is in PostgreSQL');
      await sleep(1000);
      await admin.config('SET', 'maxmemory', '0');

      let next = await emit();
      for (let tries = 0; tries < 100 && next.status === 429; tries++) {
        await sleep(100);
        next = await emit();
      }
      assert.equal(next.status, 202, `the run's slot came back: ${next.text}`);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
      admin.disconnect();
      await worker.close();
    }
  });
});

// Its own Redis and API: a worker of the tests above, with the default 30 s lock, would hold off
// the next check for stalled jobs (BullMQ runs one per interval across workers) for as long.
describe('a worker that dies between writing an outcome and settling it', () => {
  let dir: string;
  let redis: PrivateRedis;
  let api: ApiHarness;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-settle-'));
    redis = await startPrivateRedis({ dir, appendOnly: false });
    api = await startApi({ redisUrl: redis.url });
  });
  after(async () => {
    await api.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('settles a run whose worker died after writing its outcome, when its job comes back', async () => {
    const carol = await tenantWithLongCalls(api, SPIN_PLUGIN, 'spin');
    // One run at a time, and a day's fuel that one run uses up: what settling it changes shows in the next event's answer.
    const setQuota = (fuelPerDay: number) =>
      api.http.request('PUT', `/v1/admin/tenants/${carol.tenantId}/quota`, {
        token: api.adminToken,
        body: { tier: 'standard', overrides: { fuelPerCall: 1_000_000_000_000, timeoutMs: 60_000, concurrentRuns: 1, fuelPerDay } },
      });
    assert.equal((await setQuota(1000)).status, 200);
    const emit = () => api.http.post('/v1/events', { token: carol.key, body: { type: 'job.run', payloadBase64: Buffer.from('100000000').toString('base64') } });
    const admin = createRedisConnection(redis.url, 'consumer', 'outage-test-admin');
    const workers: LauncherProcess[] = [];
    try {
      workers.push(await startWorkerProcess(api));
      const accepted = await emit();
      assert.equal(accepted.status, 202, accepted.text);
      const id = accepted.body.invocations[0].id;
      const invocation = async () => (await api.http.get(`/v1/invocations/${id}`, { token: carol.key })).body;
      for (let tries = 0; tries < 200 && (await invocation()).status !== 'running'; tries++) await sleep(25);
      // Redis refuses the settle; the worker dies while it tries again.
      await admin.config('SET', 'maxmemory', '1');
      for (let tries = 0; tries < 400 && ['queued', 'running'].includes((await invocation()).status); tries++) await sleep(25);
      const finished = await invocation();
      assert.equal(finished.status, 'ok', 'the outcome is in PostgreSQL');
      workers[0]!.child.kill('SIGKILL');
      await workers[0]!.exited();
      await admin.config('SET', 'maxmemory', '0');
      const held = await emit();
      assert.equal(held.status, 429, held.text);
      assert.equal(held.body.error.details.limit, 'concurrentRuns', 'the finished run still holds the only slot');

      // Another worker takes the job back once its lock lapses, finds the invocation finished, and settles it.
      workers.push(await startWorkerProcess(api));
      let next = await emit();
      for (let tries = 0; tries < 100 && next.body.error?.details?.limit === 'concurrentRuns'; tries++) {
        await sleep(100);
        next = await emit();
      }
      assert.equal(next.status, 429, next.text);
      assert.equal(next.body.error.details.limit, 'fuelPerDay', `the run's ${finished.fuelUsed} fuel is charged, and its slot is free`);
      assert.equal((await invocation()).attempts, 1, 'the run was not run again');
      assert.equal((await setQuota(1_000_000_000_000)).status, 200);
      const afterwards = await emit();
      assert.equal(afterwards.status, 202, afterwards.text);
      assert.equal((await waitUntilFinished(api, carol.key, afterwards.body.invocations[0].id)).status, 'ok');
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
      admin.disconnect();
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  });
});
