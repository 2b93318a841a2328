import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivateRedis, startPrivateRedis } from '@airlock/launcher/private-redis';
import { startApiProcess } from '../support/airlock-processes.js';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { HttpClient } from '../support/http-client.js';
import { type InProcessWorker, publishAndBind, startWorker } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

describe('chaos: Redis restarted under load', () => {
  let dir: string;
  let redis: PrivateRedis;
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-redis-restart-'));
    // Append-only file on: what Redis acknowledged survives its restart.
    redis = await startPrivateRedis({ dir, appendOnly: true });
    api = await startApi({ redisUrl: redis.url });
    worker = await startWorker(api);
    alice = await createTenantSession(api, 'Alice');
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { tier: 'enterprise' } });
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
  });
  after(async () => {
    await worker.close();
    await api.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged event: the worker resumes without a restart of its own', async () => {
    const acknowledged: string[] = [];
    let refused = 0;
    const send = async (i: number) => {
      const response = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from(`n${i}`).toString('base64') } });
      if (response.status === 202) acknowledged.push(response.body.invocations[0].id);
      else {
        assert.equal(response.status, 503, response.text);
        refused++;
      }
    };
    for (let i = 0; i < 40; i++) await send(i);
    const port = redis.port;
    await redis.stop(); // a clean shutdown: the append-only file has everything acknowledged
    for (let i = 40; i < 50; i++) await send(i);
    redis = await startPrivateRedis({ dir, appendOnly: true, port });
    for (let i = 50; i < 90; i++) {
      await send(i);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(refused >= 10, `events sent while Redis was down were refused (${refused})`);
    assert.ok(acknowledged.length >= 60, `${acknowledged.length} acknowledged`);

    const pending = new Set(acknowledged);
    const deadline = Date.now() + 60_000;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending]) {
        const status = (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body.status;
        if (status === 'ok') pending.delete(id);
        else assert.ok(['queued', 'running'].includes(status), `invocation ${id}: ${status}`);
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(pending.size, 0, `${pending.size} acknowledged events never ran`);
  });

  it('keeps every API process hearing of configuration changes once Redis is back', async () => {
    const other = await startApiProcess(api);
    try {
      const otherHttp = new HttpClient(other.baseUrl);
      const bob = await createTenantSession(api, 'Bob');
      await api.http.request('PUT', `/v1/admin/tenants/${bob.tenantId}/quota`, { token: api.adminToken, body: { tier: 'enterprise' } });
      const { pluginId } = await publishAndBind(api, bob, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
      const emit = () => otherHttp.post('/v1/events', { token: bob.key, body: { type: 'order.created', payload: {} } });
      assert.equal((await emit()).body.invocations.length, 1); // the other process has Bob's key and plan cached now

      const port = redis.port;
      await redis.stop();
      redis = await startPrivateRedis({ dir, appendOnly: true, port });
      const backBy = Date.now() + 15_000;
      while ((await emit()).status !== 202 && Date.now() < backBy) await new Promise((resolve) => setTimeout(resolve, 100));

      // Changed through the harness's API: the other process hears of it on its re-made subscription.
      const added = await api.http.post('/v1/bindings', { token: bob.key, body: { event: 'order.created', pluginId, export: 'greet' } });
      assert.equal(added.status, 201, added.text);
      const deadline = Date.now() + 1_000;
      let fannedOut = 0;
      while (fannedOut !== 2 && Date.now() < deadline) fannedOut = (await emit()).body.invocations?.length ?? 0;
      assert.equal(fannedOut, 2, 'the new binding is seen by the other process within a second');
    } finally {
      await other.process.stop();
    }
  });
});
