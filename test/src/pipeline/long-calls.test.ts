import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { createRedisConnection } from '@airlock/queue';
import { createWorkerApp } from '@airlock/worker/worker-app';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileTemplate } from '../support/pdk.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

describe('a plugin busy for longer than the job lock, calling out over HTTP', () => {
  let api: ApiHarness;
  let worker: INestApplicationContext;
  let consumer: Redis;
  let alice: TenantSession;
  let slow: Server;
  let requests = 0;
  const connections: Socket[] = [];

  before(async () => {
    slow = createServer((_request, response) => {
      requests++;
      setTimeout(() => response.setHeader('content-type', 'application/json').end('{"name":"slow"}'), 2_600).unref();
    });
    slow.on('connection', (socket) => connections.push(socket));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    // A 1 s lock: the call below takes 2.6 s, over twice the lock.
    api = await startApi({
      env: { AIRLOCK_JOB_LOCK_MS: '1000', AIRLOCK_JOB_ATTEMPTS: '3' },
      sandboxHttp: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (_address, host) => host === 'crm.example.test' },
    });
    consumer = createRedisConnection(api.config.redisUrl!, 'consumer', 'airlock-test-worker');
    worker = await createWorkerApp({ config: api.config, prisma: api.database.prisma, sql: api.database.keyedSql, redis: consumer, sandbox: api.sandbox, secrets: api.secretBox });
    alice = await createTenantSession(api, 'Alice');
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, {
      token: api.adminToken,
      body: { tier: 'standard', overrides: { allowedHosts: ['crm.example.test'], timeoutMs: 10_000 } },
    });
  });
  after(async () => {
    await worker.close();
    await consumer.quit();
    await api.close();
    slow.close();
  });

  let enricher: string;

  it('runs once: the worker keeps renewing its lock while the plugin works elsewhere', async () => {
    const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'enricher' } })).body.id;
    enricher = plugin;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { token: alice.key, rawBody: { data: await compileTemplate('http-enrichment'), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: alice.key });
    const config = { lookupUrl: `http://crm.example.test:${(slow.address() as AddressInfo).port}/customers/` };
    const result = await api.http.post(`/v1/plugins/${plugin}/invoke`, { token: alice.key, body: { export: 'enrich', input: '{"customerId":"c-1"}', config, wait: 15_000 } });
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.status, 'ok', JSON.stringify(result.body.error));
    assert.ok(result.body.durationMs >= 2_500, `took ${result.body.durationMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // long enough for a lapsed lock to bring it back
    assert.equal(requests, 1, 'the plugin ran once');
    const recorded = (await api.http.get(`/v1/invocations/${result.body.id}`, { token: alice.key })).body;
    assert.equal(recorded.attempts, 1);

    // Egress: what the plugin's request put on the wire, as the server read it, in the invocation and the usage.
    const wire = connections.reduce((sum, socket) => sum + socket.bytesRead, 0);
    assert.ok(wire > 0);
    assert.equal(recorded.egressBytes, wire);
    const today = (await api.http.get('/v1/usage', { token: alice.key })).body.days.find((day: { day: string }) => day.day === new Date().toISOString().slice(0, 10));
    assert.equal(today.egressBytes, wire);
  });

  it('charges the fuel of every attempt of a call retried for a failing host, in the invocation and the day\'s budget', async () => {
    // Nothing listens there: the request fails, a host failure, retried until the attempts run out.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const call = { export: 'enrich', input: '{"customerId":"c-2"}', config: { lookupUrl: `http://crm.example.test:${port}/customers/` } };
    const once = await api.http.post(`/v1/plugins/${enricher}/versions/1/test`, { token: alice.key, body: call });
    assert.equal(once.body.results[0].status, 'host_error', JSON.stringify(once.body));
    const perAttempt: number = once.body.results[0].fuelUsed;
    assert.ok(perAttempt > 0);

    const fuelToday = async () => Number(await consumer.get(`${api.redisPrefix}:quota:${alice.tenantId}:fuel:${new Date().toISOString().slice(0, 10)}`));
    const before = await fuelToday();
    const queued = await api.http.post(`/v1/plugins/${enricher}/invoke`, { token: alice.key, body: call });
    assert.equal(queued.status, 202, queued.text);
    let recorded;
    for (let tries = 0; tries < 300; tries++) {
      recorded = (await api.http.get(`/v1/invocations/${queued.body.id}`, { token: alice.key })).body;
      if (!['queued', 'running'].includes(recorded.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(recorded.status, 'host_error');
    assert.equal(recorded.attempts, 3);
    assert.ok(recorded.deadLetteredAt);
    assert.equal(recorded.fuelUsed, 3 * perAttempt, 'the fuel of all three attempts');
    assert.equal((await fuelToday()) - before, 3 * perAttempt, 'all of it counts against the day');
  });
});
