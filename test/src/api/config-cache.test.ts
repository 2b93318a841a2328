import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiProcess } from '../support/airlock-processes.js';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { HttpClient, type HttpResult } from '../support/http-client.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { compileTemplate } from '../support/pdk.js';
import { publishAndBind } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

/**
 * Each API process keeps keys and binding plans in memory (the event path reads
 * them on every request). A change made through one process must hold on every
 * other at once, not when its cache entry expires (30 s).
 */
describe('cached tenant configuration across API processes', () => {
  let api: ApiHarness;
  let other: { process: LauncherProcess; baseUrl: string };
  let otherHttp: HttpClient;
  let alice: TenantSession;
  let pluginId: string;
  let bindingId: string;

  /** Room for the events sent here (a new tenant's tier allows a few a second). */
  const ROOMY = { eventsPerSecond: 1_000, invocationsPerDay: 1_000, concurrentRuns: 1_000 };
  const setQuota = (tenantId: string, overrides: object) => api.http.request('PUT', `/v1/admin/tenants/${tenantId}/quota`, { token: api.adminToken, body: { overrides } });

  before(async () => {
    api = await startApi();
    other = await startApiProcess(api);
    otherHttp = new HttpClient(other.baseUrl);
    alice = await createTenantSession(api, 'Alice');
    await setQuota(alice.tenantId, ROOMY);
    ({ pluginId, bindingId } = await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' }));
  });
  after(async () => {
    await other?.process.stop();
    await api?.close();
  });

  const emitOnOther = (token = alice.key) => otherHttp.post('/v1/events', { token, body: { type: 'order.created', payload: { n: 1 } } });
  /** Asks the other process until `accept` holds, for at most a second: far less than the entries' lifetime. */
  async function otherProcessSoon(ask: () => Promise<HttpResult>, accept: (result: HttpResult) => boolean): Promise<HttpResult> {
    const deadline = Date.now() + 1_000;
    for (;;) {
      const result = await ask();
      if (accept(result) || Date.now() > deadline) return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('fans out to a binding created through another process', async () => {
    // Warm the other process's entries for this key and event type.
    for (let i = 0; i < 3; i++) assert.equal((await emitOnOther()).body.invocations.length, 1);
    const second = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'order.created', pluginId, export: 'greet', config: { second: 'yes' } } });
    assert.equal(second.status, 201, second.text);
    const event = await otherProcessSoon(emitOnOther, (result) => result.body.invocations?.length === 2);
    assert.equal(event.status, 202, event.text);
    assert.deepEqual(event.body.invocations.map((invocation: { bindingId: string }) => invocation.bindingId).sort(), [bindingId, second.body.id].sort());

    const disabled = await api.http.request('PATCH', `/v1/bindings/${second.body.id}`, { token: alice.key, body: { enabled: false } });
    assert.equal(disabled.status, 200, disabled.text);
    const afterDisable = await otherProcessSoon(emitOnOther, (result) => result.body.invocations?.length === 1);
    assert.deepEqual(afterDisable.body.invocations.map((invocation: { bindingId: string }) => invocation.bindingId), [bindingId]);
  });

  it('stops fanning out to a version unpublished through another process', async () => {
    assert.equal((await emitOnOther()).body.invocations.length, 1);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/unpublish`, { token: alice.key })).status, 200);
    const event = await otherProcessSoon(emitOnOther, (result) => result.body.invocations?.length === 0);
    assert.deepEqual(event.body.invocations, []);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: alice.key })).status, 200);
    assert.equal((await otherProcessSoon(emitOnOther, (result) => result.body.invocations?.length === 1)).body.invocations.length, 1);
  });

  it("applies an admin's quota change made through another process", async () => {
    assert.equal((await emitOnOther()).status, 202);
    const quota = await setQuota(alice.tenantId, { ...ROOMY, invocationsPerDay: 1 });
    assert.equal(quota.status, 200, quota.text);
    const refused = await otherProcessSoon(emitOnOther, (result) => result.status === 429);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.error.details.limit, 'invocationsPerDay');
    await setQuota(alice.tenantId, ROOMY);
  });

  it('refuses a key revoked through another process', async () => {
    const bob = await createTenantSession(api, 'Bob');
    await setQuota(bob.tenantId, ROOMY);
    await publishAndBind(api, bob, { name: 'greeter', template: '', wasm: await compileTemplate('hello'), event: 'order.created', exportName: 'greet' });
    assert.equal((await emitOnOther(bob.key)).status, 202);
    const revoked = await api.http.delete(`/v1/admin/tenants/${bob.tenantId}/keys/${bob.keyId}`, { token: api.adminToken });
    assert.ok(revoked.status < 300, revoked.text);
    const refused = await otherProcessSoon(() => emitOnOther(bob.key), (result) => result.status === 401);
    assert.equal(refused.status, 401, refused.text);
    // Alice's key, cached in the same process, still works.
    assert.equal((await emitOnOther()).status, 202);
  });
});
