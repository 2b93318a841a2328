import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInvocationQueue, createRedisConnection, newcomerChannel } from '@airlock/queue';
import { type ApiHarness, type ApiHarnessOptions, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

/**
 * An API and a worker with two tenants: Alice's plugin looks customers up on
 * `lookups` (as crm.example.test, with `aliceOverrides` on her standard tier),
 * Bob's answers at once.
 */
async function startTwoTenants(lookups: Server, harness: ApiHarnessOptions, aliceOverrides: Record<string, unknown> = {}) {
  const api = await startApi({
    ...harness,
    sandboxHttp: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (_address, host) => host === 'crm.example.test' },
  });
  const worker = await startWorker(api);
  const alice = await createTenantSession(api, 'Alice');
  const bob = await createTenantSession(api, 'Bob');
  await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, {
    token: api.adminToken,
    body: { tier: 'standard', overrides: { allowedHosts: ['crm.example.test'], ...aliceOverrides } },
  });
  const { bindingId } = await publishAndBind(api, alice, { name: 'enricher', template: 'http-enrichment', event: 'customer.seen', exportName: 'enrich' });
  const lookupUrl = `http://crm.example.test:${(lookups.address() as AddressInfo).port}/customers/`;
  const patched = await api.http.request('PATCH', `/v1/bindings/${bindingId}`, { token: alice.key, body: { config: { lookupUrl } } });
  assert.equal(patched.status, 200, patched.text);
  await publishAndBind(api, bob, { name: 'greeter', template: 'hello', event: 'user.greeted', exportName: 'greet' });
  return { api, worker, alice, bob };
}

/** Sends `count` of Alice's events and returns their invocation ids. */
async function aliceFlood(api: ApiHarness, alice: TenantSession, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'customer.seen', payload: { customerId: `c-${i}` } } });
    assert.equal(accepted.status, 202, accepted.text);
    ids.push(accepted.body.invocations[0].id);
  }
  return ids;
}

describe("a tenant's share of a worker while another tenant is active", () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let bob: TenantSession;
  let lookups: Server;
  /** How long the lookup server takes to answer. */
  let lookupMs = 150;

  before(async () => {
    lookups = createServer((_request, response) => {
      setTimeout(() => response.setHeader('content-type', 'application/json').end('{"name":"slow"}'), lookupMs).unref();
    });
    await new Promise<void>((resolve) => lookups.listen(0, '127.0.0.1', resolve));
    ({ api, worker, alice, bob } = await startTwoTenants(lookups, { env: { AIRLOCK_TENANT_SHARE: '1' } }));
  });
  after(async () => {
    await worker.close();
    await api.close();
    lookups.close();
  });

  /** Alice's invocations claimed by the worker at once, at most, until `ids` are all finished. */
  async function mostRunning(ids: string[]): Promise<number> {
    let most = 0;
    for (;;) {
      const running = (await api.http.get('/v1/invocations?status=running&limit=100', { token: alice.key })).body.items.length as number;
      most = Math.max(most, running);
      const queued = (await api.http.get('/v1/invocations?status=queued&limit=100', { token: alice.key })).body.items.length as number;
      if (running === 0 && queued === 0) break;
      await sleep(10);
    }
    for (const id of ids) assert.equal((await waitUntilFinished(api, alice.key, id)).status, 'ok');
    return most;
  }

  it('holds a busy tenant to its share once another is about, and never before', async () => {
    // Alone, Alice's jobs are all taken up at once (they wait for the one executor together).
    const alone = await aliceFlood(api, alice, 4);
    assert.ok((await mostRunning(alone)) >= 2, 'alone, several of her runs were under way at once');

    // Bob is about now: Alice may have one run under way; her others wait, queued.
    const greeted = await api.http.post('/v1/events', { token: bob.key, body: { type: 'user.greeted', payload: 'Bob' } });
    assert.equal((await waitUntilFinished(api, bob.key, greeted.body.invocations[0].id)).status, 'ok');
    const shared = await aliceFlood(api, alice, 4);
    const bobsTurn = await api.http.post('/v1/events', { token: bob.key, body: { type: 'user.greeted', payload: 'Bob again' } });
    const bobsRun = waitUntilFinished(api, bob.key, bobsTurn.body.invocations[0].id).then(async (run) => {
      const aliceUnfinished = await Promise.all(shared.map(async (id) => (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body.status));
      return { run, aliceUnfinished: aliceUnfinished.filter((status) => status === 'queued' || status === 'running').length };
    });
    assert.equal(await mostRunning(shared), 1, 'one of her runs at a time while Bob is about');
    const { run, aliceUnfinished } = await bobsRun;
    assert.equal(run.status, 'ok');
    assert.ok(aliceUnfinished >= 2, `Bob's run did not wait for Alice's flood (${aliceUnfinished} of hers were left when it finished)`);
  });

  it('hands the jobs it holds back to the queue untouched when the worker shuts down', async () => {
    const greeted = await api.http.post('/v1/events', { token: bob.key, body: { type: 'user.greeted', payload: 'Bob' } });
    assert.equal((await waitUntilFinished(api, bob.key, greeted.body.invocations[0].id)).status, 'ok');
    // Her run under way is still waiting on its lookup when the worker starts shutting down, and ends within the drain.
    lookupMs = 2_000;
    const flood = await aliceFlood(api, alice, 4);
    const statuses = async () => Promise.all(flood.map(async (id) => (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body as { status: string; attempts: number }));
    // One of hers runs; the worker holds the others back (taken from the queue, not started).
    while ((await statuses()).every((invocation) => invocation.status === 'queued')) await sleep(10);
    await worker.close();
    const afterShutdown = await statuses();
    const started = afterShutdown.filter((invocation) => invocation.attempts > 0);
    assert.equal(started.length, 1, 'only the run under way was started');
    assert.equal(started[0]!.status, 'ok', 'and it finished within the drain');
    assert.deepEqual(
      afterShutdown.filter((invocation) => invocation.attempts === 0).map((invocation) => invocation.status),
      ['queued', 'queued', 'queued'],
    );
    lookupMs = 150;
    worker = await startWorker(api);
    for (const id of flood) {
      const finished = await waitUntilFinished(api, alice.key, id);
      assert.deepEqual({ status: finished.status, attempts: finished.attempts }, { status: 'ok', attempts: 1 }, 'each ran once, on the next worker');
    }
  });
});

describe('a newcomer while a worker holds a busy tenant back', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let bob: TenantSession;
  let lookups: Server;
  /** Lookups answer only once released: Alice's runs stay under way until then. */
  const waiting: Array<() => void> = [];
  let released = false;

  before(async () => {
    lookups = createServer((_request, response) => {
      const answer = () => response.setHeader('content-type', 'application/json').end('{"name":"slow"}');
      if (released) answer();
      else waiting.push(answer);
    });
    await new Promise<void>((resolve) => lookups.listen(0, '127.0.0.1', resolve));
    // 16 job slots (one executor's worth of config), two executors: one for Alice's run, one kept for others.
    ({ api, worker, alice, bob } = await startTwoTenants(lookups, { executors: 2, env: { AIRLOCK_EXECUTORS: '1', AIRLOCK_TENANT_SHARE: '1' } }, { timeoutMs: 20_000 }));
  });
  after(async () => {
    released = true;
    for (const answer of waiting.splice(0)) answer();
    await worker.close();
    await api.close();
    lookups.close();
  });

  it("is fetched at once, though every slot holds one of the busy tenant's jobs", async () => {
    const connection = createRedisConnection(api.config.redisUrl!, 'request', 'tenant-share-test');
    // Workers listening for newcomers: only one that could make room for one is woken by its announcement.
    const listeners = async () => Number(((await connection.pubsub('NUMSUB', newcomerChannel(api.redisPrefix))) as [string, number])[1]);
    const first = await api.http.post('/v1/events', { token: bob.key, body: { type: 'user.greeted', payload: 'Bob' } });
    assert.equal((await waitUntilFinished(api, bob.key, first.body.invocations[0].id)).status, 'ok');
    assert.equal(await listeners(), 0, 'a worker with free slots does not listen for newcomers');
    // Alice's flood fills the worker's 16 slots: one run waits on its lookup, 15 jobs are held back, 2 stay queued.
    const flood = await aliceFlood(api, alice, 18);
    while (waiting.length === 0) await sleep(10);
    // The worker has taken up its 16 slots once only 2 of the 18 jobs are left in the queue.
    const queue = createInvocationQueue(connection, api.redisPrefix);
    try {
      const queued = async () => Object.values(await queue.getJobCounts('waiting', 'prioritized')).reduce((sum, count) => sum + count, 0);
      for (let tries = 0; tries < 200 && (await queued()) > 2; tries++) await sleep(10);
      assert.equal(await queued(), 2, 'every slot holds one of her jobs');
    } finally {
      await queue.close();
    }
    for (let tries = 0; tries < 100 && (await listeners()) === 0; tries++) await sleep(10);
    assert.equal(await listeners(), 1, 'the full worker listens for newcomers');

    const newcomer = await api.http.post('/v1/events', { token: bob.key, body: { type: 'user.greeted', payload: 'Bob again' } });
    // Without room made for it, it would wait for Alice's run to end: at her lookup's 5 s request timeout.
    const run = await waitUntilFinished(api, bob.key, newcomer.body.invocations[0].id, 2_000);
    assert.equal(run.status, 'ok', "Bob's job did not wait for one of Alice's runs to end");
    assert.equal(waiting.length, 1, "Alice's first run is still waiting on its lookup");

    released = true;
    for (const answer of waiting.splice(0)) answer();
    for (const id of flood) {
      const finished = await waitUntilFinished(api, alice.key, id);
      assert.deepEqual({ status: finished.status, attempts: finished.attempts }, { status: 'ok', attempts: 1 }, 'the job handed back ran later, once');
    }
    // A few seconds after its slots free up, it stops listening.
    for (let tries = 0; tries < 100 && (await listeners()) > 0; tries++) await sleep(100);
    assert.equal(await listeners(), 0, 'the worker stopped listening once it had free slots again');
    connection.disconnect();
  });
});
