import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivateRedis, startPrivateRedis } from '@airlock/launcher/private-redis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { createRedisConnection } from '@airlock/queue';
import { SPIN_PLUGIN, tenantWithLongCalls } from '../support/airlock-processes.js';
import { publishAndBind, startWorker } from '../support/pipeline.js';
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

  it('answers 503 within a second, and runs the event once when sent again after Redis is back', async () => {
    const port = redis.port;
    await redis.stop();
    const body = { type: 'order.created', payloadBase64: Buffer.from('Ada').toString('base64'), idempotencyKey: 'during-outage' };
    const started = Date.now();
    const refused = await api.http.post('/v1/events', { token: alice.key, body });
    assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'not_ready');
    assert.match(refused.body.error.message, /unavailable/);

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
      assert.equal(result.output, 'hello, Ada', 'the event recorded during the outage ran, once');
    } finally {
      await worker.close();
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
