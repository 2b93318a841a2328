import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivateRedis, startPrivateRedis } from '@airlock/launcher/private-redis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { publishAndBind, startWorker } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

describe('events while Redis is down', () => {
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
});
