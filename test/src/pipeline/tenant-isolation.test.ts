import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

// What another tenant's key sees of a tenant's lists, filters, cursors, quota, events and webhooks: nothing.
// (Routes on one resource by id answer another tenant 404; plugin-lifecycle and the pipeline tests check those.)
describe("tenant isolation: lists, filters, cursors, quota, fan-out and webhooks", () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let bob: TenantSession;
  let alicePlugin: string;

  before(async () => {
    api = await startApi();
    worker = await startWorker(api);
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
    ({ pluginId: alicePlugin } = await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' }));
  });
  after(async () => {
    await worker.close();
    await api.close();
  });

  const get = async (url: string, token: string) => {
    const response = await api.http.get(url, { token });
    assert.equal(response.status, 200, `${url}: ${response.text}`);
    return response.body;
  };

  it("shows another tenant's quota, bindings and invocations to no one else, whatever the filter", async () => {
    const set = await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { tier: 'standard', overrides: { retentionDays: 9 } } });
    assert.equal(set.status, 200, set.text);
    const bobsQuota = await get('/v1/quota', bob.key);
    assert.deepEqual([bobsQuota.tier, bobsQuota.overrides], ['free', {}]);
    assert.equal((await get('/v1/quota', alice.key)).overrides.retentionDays, 9, 'the override is there, for Alice');

    // Bob's event of the type Alice binds starts nothing of Alice's.
    const bobsEvent = await api.http.post('/v1/events', { token: bob.key, body: { type: 'order.created', payload: { from: 'Bob' } } });
    assert.equal(bobsEvent.status, 202, bobsEvent.text);
    assert.deepEqual(bobsEvent.body.invocations, []);
    const alicesEvent = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: { from: 'Alice' } } });
    const invocationId = alicesEvent.body.invocations[0].id as string;
    assert.equal((await waitUntilFinished(api, alice.key, invocationId)).status, 'ok');

    for (const url of ['/v1/bindings', `/v1/bindings?pluginId=${alicePlugin}`, '/v1/bindings?event=order.created']) {
      assert.deepEqual((await get(url, bob.key)).items, [], url);
    }
    for (const url of ['/v1/invocations', `/v1/invocations?pluginId=${alicePlugin}`, '/v1/invocations?status=ok', `/v1/invocations?event=${alicesEvent.body.eventId}`]) {
      assert.deepEqual((await get(url, bob.key)).items, [], url);
    }
    assert.equal((await get(`/v1/invocations?pluginId=${alicePlugin}`, alice.key)).items.length, 1, 'Alice sees hers');
  });

  it("plans no deliveries on one tenant's webhooks for another tenant's results", async () => {
    // Neither address answers here; a delivery is recorded (and listed) as soon as it is planned.
    const bobsHook = await api.http.post('/v1/webhooks', { token: bob.key, body: { url: 'https://hooks.example.com/bob', events: ['order.created'] } });
    const alicesHook = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'https://hooks.example.com/alice', events: ['order.created'] } });
    assert.equal(bobsHook.status, 201, bobsHook.text);
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: {} } });
    const invocationId = accepted.body.invocations[0].id as string;
    assert.equal((await waitUntilFinished(api, alice.key, invocationId)).status, 'ok');
    let alicesDeliveries: Array<{ invocationId: string }> = [];
    for (let tries = 0; tries < 100 && alicesDeliveries.length === 0; tries++) {
      alicesDeliveries = (await get(`/v1/webhooks/${alicesHook.body.id}/deliveries`, alice.key)).items;
      if (alicesDeliveries.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(
      alicesDeliveries.map((delivery) => delivery.invocationId),
      [invocationId],
    );
    assert.deepEqual((await get(`/v1/webhooks/${bobsHook.body.id}/deliveries`, bob.key)).items, []);
  });

  it("places another tenant's cursor in the caller's own list, showing none of the other's rows", async () => {
    const { prisma } = api.database;
    // Rows as runs leave them, written directly: two dead-lettered invocations of Alice's, with a log line each.
    const at = new Date(Date.UTC(2026, 0, 1));
    const failed = [randomUUID(), randomUUID()].map((id) => ({
      id,
      tenantId: alice.tenantId,
      pluginId: alicePlugin,
      version: 1,
      exportName: 'greet',
      status: 'crashed',
      deadLetteredAt: at,
      finishedAt: at,
      startedAt: at,
      logs: [{ level: 'info', message: `line of ${id}`, atMs: 1 }],
    }));
    await prisma.invocation.createMany({ data: failed });
    // Audit entries: Alice's key changes.
    for (let n = 0; n < 2; n++) await api.http.post(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken, body: { name: `extra-${n}` } });

    for (const list of ['/v1/invocations', '/v1/dead-letters', '/v1/logs', '/v1/audit']) {
      const alicesFirst = await get(`${list}?limit=1`, alice.key);
      assert.equal(alicesFirst.items.length, 1, list);
      assert.notEqual(alicesFirst.nextCursor, null, `${list} has a second page for Alice`);
      const bobsPage = await get(`${list}?cursor=${encodeURIComponent(alicesFirst.nextCursor)}`, bob.key);
      const bobsWhole = await get(list, bob.key);
      const text = JSON.stringify(bobsPage.items);
      assert.ok(!text.includes(alice.tenantId) && !failed.some((row) => text.includes(row.id)), `${list}: ${text}`);
      assert.ok(bobsPage.items.length <= bobsWhole.items.length, `${list}: only Bob's own rows`);
    }
  });

  it("refuses a tenant's key on admin decisions", async () => {
    const decided = await api.http.post(`/v1/admin/approvals/${randomUUID()}`, { token: alice.key, body: { decision: 'approve' } });
    assert.equal(decided.status, 403, decided.text);
    assert.equal(decided.body.error.code, 'forbidden');
  });
});
