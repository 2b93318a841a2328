import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileTemplate } from '../support/pdk.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';

describe('quotas, effective policies and the audit log', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let bob: TenantSession;
  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
  });
  after(() => api.close());

  const admin = () => ({ token: api.adminToken });
  const putQuota = (tenantId: string, body: unknown) => api.http.request('PUT', `/v1/admin/tenants/${tenantId}/quota`, { ...admin(), body });

  it('shows the tier, overrides and effective policy to admins and to the tenant', async () => {
    const initial = await api.http.get(`/v1/admin/tenants/${alice.tenantId}/quota`, admin());
    assert.equal(initial.status, 200);
    assert.equal(initial.body.tier, 'free');
    assert.deepEqual(initial.body.overrides, {});
    assert.equal(initial.body.effective.fuelPerCall, 50_000_000);

    const updated = await putQuota(alice.tenantId, { tier: 'standard', overrides: { fuelPerCall: 1234, allowedHosts: ['api.example.com'], maxPlugins: 1 } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.tier, 'standard');
    assert.equal(updated.body.effective.fuelPerCall, 1234);
    assert.equal(updated.body.effective.timeoutMs, 5000, 'the rest comes from the standard tier');
    assert.deepEqual(updated.body.effective.http.allowedHosts, ['api.example.com']);
    assert.equal(updated.body.effective.quotas.maxPlugins, 1);

    const own = await api.http.get('/v1/quota', { token: alice.key });
    assert.deepEqual(own.body, updated.body);
    assert.equal((await api.http.get('/v1/me', { token: alice.key })).body.tier, 'standard');
  });

  it('refuses invalid overrides, naming the field', async () => {
    const zero = await putQuota(alice.tenantId, { overrides: { memoryPages: 0 } });
    assert.equal(zero.status, 400);
    assert.equal(zero.body.error.details.issues[0].field, 'overrides.memoryPages');
    const host = await putQuota(alice.tenantId, { overrides: { allowedHosts: ['not a host!'] } });
    assert.equal(host.status, 400);
    assert.equal(host.body.error.details.issues[0].field, 'overrides.allowedHosts.0', 'named as sent');
    const fraction = await putQuota(alice.tenantId, { overrides: { eventsPerSecond: 0.5 } });
    assert.equal(fraction.status, 400, 'events are counted whole, per second');
    assert.equal(fraction.body.error.details.issues[0].field, 'overrides.eventsPerSecond');
    const unknown = await putQuota(alice.tenantId, { overrides: { fuel: 1 } });
    assert.equal(unknown.status, 400);
    // Past what a double counts exactly: said once.
    const huge = await putQuota(alice.tenantId, { overrides: { fuelPerCall: 1e30 } });
    assert.equal(huge.status, 400);
    assert.deepEqual(huge.body.error.details.issues.map((issue: { field: string }) => issue.field), ['overrides.fuelPerCall']);
    assert.equal((await api.http.get('/v1/quota', { token: alice.key })).body.effective.fuelPerCall, 1234, 'nothing changed');
  });

  it('refuses a body that names neither tier nor overrides, rather than erase every override', async () => {
    const dave = await createTenantSession(api, 'Dave');
    assert.equal((await putQuota(dave.tenantId, { overrides: { maxPlugins: 42 } })).status, 200);
    for (const body of [undefined, {}]) {
      const empty = await putQuota(dave.tenantId, body);
      assert.equal(empty.status, 400, empty.text);
      assert.equal(empty.body.error.code, 'validation_failed');
      assert.match(empty.body.error.message, /names neither tier nor overrides: nothing to change/);
    }
    const kept = await api.http.get(`/v1/admin/tenants/${dave.tenantId}/quota`, admin());
    assert.deepEqual(kept.body.overrides, { maxPlugins: 42 }, 'nothing erased');
    const audited = await api.http.get(`/v1/admin/audit?tenantId=${dave.tenantId}`, admin());
    assert.equal(audited.body.items.filter((entry: { action: string }) => entry.action === 'quota.updated').length, 1, 'nothing audited');
  });

  it('keeps a tier changed while overrides-only changes run at once: they never write back the tier they read', async () => {
    const erin = await createTenantSession(api, 'Erin');
    for (let round = 0; round < 5; round++) {
      assert.equal((await putQuota(erin.tenantId, { tier: 'free', overrides: {} })).status, 200);
      const overridesOnly = Array.from({ length: 8 }, (_, index) => putQuota(erin.tenantId, { overrides: { maxPlugins: index + 1 } }));
      const responses = await Promise.all([...overridesOnly, putQuota(erin.tenantId, { tier: 'enterprise' })]);
      assert.deepEqual(responses.map((response) => response.status), Array(9).fill(200));
      const now = await api.http.get(`/v1/admin/tenants/${erin.tenantId}/quota`, admin());
      assert.equal(now.body.tier, 'enterprise', `round ${round}: the tier change was undone`);
    }
  });

  it('keeps allowed hosts as the sandbox compares them, and refuses hosts that could never be called', async () => {
    const hosts = ['API.Example.com.', '010.8.8.8', '0x8.8.8.8', '2606:4700:4700:0:0::1111', '[::ffff:8.8.8.8]', '*.Example.ORG'];
    const saved = await putQuota(bob.tenantId, { tier: 'standard', overrides: { allowedHosts: hosts } });
    assert.equal(saved.status, 200, saved.text);
    assert.deepEqual(saved.body.overrides.allowedHosts, ['api.example.com', '8.8.8.8', '2606:4700:4700::1111', '::ffff:808:808', '*.example.org'], 'each host once');
    assert.deepEqual(saved.body.effective.http.allowedHosts, saved.body.overrides.allowedHosts);
    for (const [index, entry] of [[0, '999.1.1.1'], [1, 'exa mple.com'], [1, 'user@example.com']] as const) {
      const refused = await putQuota(bob.tenantId, { tier: 'standard', overrides: { allowedHosts: [...(index === 1 ? ['api.example.com'] : []), entry] } });
      assert.equal(refused.status, 400, entry);
      assert.equal(refused.body.error.details.issues[0].field, `overrides.allowedHosts.${index}`, entry);
    }
    // Hosts a plugin's request is always refused: saved, they would only look like a grant.
    for (const entry of ['127.0.0.1', '2130706433', '169.254.169.254', '[::1]', '10.1.2.3', 'localhost', 'db.localhost', '*.localhost']) {
      const refused = await putQuota(bob.tenantId, { tier: 'standard', overrides: { allowedHosts: [entry] } });
      assert.equal(refused.status, 400, entry);
      assert.match(refused.body.error.details.issues[0].message, /plugins can never reach/, entry);
    }
    assert.deepEqual((await api.http.get(`/v1/admin/tenants/${bob.tenantId}/quota`, admin())).body.overrides.allowedHosts, saved.body.overrides.allowedHosts, 'nothing changed');
  });

  it('refuses allowed hosts on a tier without HTTP unless its requests are allowed too', async () => {
    const carol = await createTenantSession(api, 'Carol');
    const ineffective = await putQuota(carol.tenantId, { overrides: { allowedHosts: ['crm.example.com'] } });
    assert.equal(ineffective.status, 400, ineffective.text);
    assert.equal(ineffective.body.error.details.issues[0].field, 'overrides.allowedHosts');
    assert.match(ineffective.body.error.details.issues[0].message, /has no effect: the policy allows no HTTP requests \(maxRequestsPerCall 0\)/);
    assert.deepEqual((await api.http.get(`/v1/admin/tenants/${carol.tenantId}/quota`, admin())).body.overrides, {}, 'nothing saved');
    const granted = await putQuota(carol.tenantId, { overrides: { allowedHosts: ['crm.example.com'], maxRequestsPerCall: 3, maxResponseBytes: 65_536 } });
    assert.equal(granted.status, 200, granted.text);
    assert.equal(granted.body.tier, 'free');
    assert.deepEqual(granted.body.effective.http, { ...granted.body.effective.http, allowedHosts: ['crm.example.com'], maxRequestsPerCall: 3, maxResponseBytes: 65_536 });
    const negative = await putQuota(carol.tenantId, { overrides: { maxRequestsPerCall: -1 } });
    assert.equal(negative.status, 400);
    assert.equal(negative.body.error.details.issues[0].field, 'overrides.maxRequestsPerCall');
  });

  it('enforces counts on creation with 409 limit_reached naming the limit (waiting cannot help, unlike a 429)', async () => {
    assert.equal((await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'first' } })).status, 201);
    const second = await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'second' } });
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'limit_reached');
    assert.equal(second.headers.get('retry-after'), null);
    assert.deepEqual(second.body.error.details, { limit: 'maxPlugins', max: 1 });

    await putQuota(bob.tenantId, { overrides: { maxVersionsPerPlugin: 1 } });
    const plugin = (await api.http.post('/v1/plugins', { token: bob.key, body: { name: 'p' } })).body.id;
    const one = wat('(module (func (export "one") (result i32) (i32.const 0)))');
    const two = wat('(module (func (export "two") (result i32) (i32.const 0)))');
    const upload = (bytes: Uint8Array) => api.http.post(`/v1/plugins/${plugin}/versions`, { token: bob.key, rawBody: { data: bytes, contentType: 'application/wasm' } });
    assert.equal((await upload(one)).status, 201);
    assert.equal((await upload(one)).status, 200, 'the same bytes again is not a new version');
    const over = await upload(two);
    assert.equal(over.status, 409);
    assert.equal(over.body.error.details.limit, 'maxVersionsPerPlugin');
    assert.match(over.body.error.message, /kept for good: an admin can raise the limit/);
  });

  it('runs plugins under the effective policy', async () => {
    await putQuota(bob.tenantId, { overrides: { maxVersionsPerPlugin: 5, fuelPerCall: 100 } });
    const plugin = (await api.http.post('/v1/plugins', { token: bob.key, body: { name: 'hungry' } })).body.id;
    const version = await api.http.post(`/v1/plugins/${plugin}/versions`, { token: bob.key, rawBody: { data: await compileTemplate('hello'), contentType: 'application/wasm' } });
    assert.equal(version.status, 201, version.text);
    const run = await api.http.post(`/v1/plugins/${plugin}/versions/1/test`, { token: bob.key, body: { export: 'greet', input: 'x' } });
    assert.equal(run.body.results[0].status, 'fuel_exhausted', 'a 100-unit budget cannot run the AssemblyScript runtime');
    // The counters the day's limits are checked against show the test run's fuel, which usage by day does not.
    const quota = await api.http.get('/v1/quota', { token: bob.key });
    assert.equal(quota.body.today.day, new Date().toISOString().slice(0, 10));
    assert.equal(quota.body.today.fuel, run.body.results[0].fuelUsed);
    assert.deepEqual([quota.body.today.invocations, quota.body.today.inFlight], [0, 0]);
    assert.deepEqual((await api.http.get('/v1/usage', { token: bob.key })).body.days, []);
    assert.deepEqual((await api.http.get(`/v1/admin/tenants/${bob.tenantId}/quota`, { token: api.adminToken })).body.today, quota.body.today);
  });

  it('records who did what, for the tenant and for admins', async () => {
    const own = await api.http.get('/v1/audit', { token: alice.key });
    assert.equal(own.status, 200);
    const actions = own.body.items.map((entry: { action: string }) => entry.action);
    assert.deepEqual(actions, ['plugin.created', 'quota.updated', 'key.issued', 'tenant.created'], 'newest first, only Alice\'s');
    assert.equal(own.body.items[0].actor, `key:${alice.keyId}`);
    assert.equal(own.body.items[1].actor, 'admin');
    assert.ok(own.body.items.every((entry: { tenantId: string }) => entry.tenantId === alice.tenantId));

    const page = await api.http.get(`/v1/audit?limit=2&before=${own.body.items[1].createdAt}`, { token: alice.key });
    assert.deepEqual(page.body.items.map((entry: { action: string }) => entry.action), ['key.issued', 'tenant.created']);

    // Entries recorded in the same millisecond: paging one at a time with nextCursor skips none and repeats none.
    const at = new Date(Date.now() + 1000);
    await api.database.prisma.auditEvent.createMany({ data: ['a', 'b', 'c'].map((name) => ({ tenantId: alice.tenantId, actor: 'admin', action: `same.ms.${name}`, createdAt: at })) });
    const everything = (await api.http.get('/v1/audit?limit=200', { token: alice.key })).body;
    assert.equal(everything.nextCursor, null, 'one page holds it all');
    const paged: string[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const next: { items: Array<{ id: string }>; nextCursor: string | null } = (await api.http.get(`/v1/audit?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: alice.key })).body;
      paged.push(...next.items.map((entry) => entry.id));
      cursor = next.nextCursor;
      assert.ok(paged.length <= everything.items.length, 'paging ends');
    }
    assert.deepEqual(paged, everything.items.map((entry: { id: string }) => entry.id));
    const forged = await api.http.get('/v1/audit?cursor=nonsense', { token: alice.key });
    assert.equal(forged.status, 400);
    assert.equal(forged.body.error.details.issues[0].field, 'cursor');

    const all = await api.http.get('/v1/admin/audit?limit=200', admin());
    const tenants = new Set(all.body.items.map((entry: { tenantId: string }) => entry.tenantId));
    assert.ok(tenants.has(alice.tenantId) && tenants.has(bob.tenantId));
    const bobsOnly = await api.http.get(`/v1/admin/audit?tenantId=${bob.tenantId}`, admin());
    assert.ok(bobsOnly.body.items.some((entry: { action: string }) => entry.action === 'version.created'));
    assert.ok(bobsOnly.body.items.every((entry: { tenantId: string }) => entry.tenantId === bob.tenantId));
    assert.equal((await api.http.get('/v1/admin/audit', { token: alice.key })).status, 403);
  });

  it('keeps the admin quota routes admin-only, and 404s unknown tenants', async () => {
    assert.equal((await api.http.get(`/v1/admin/tenants/${alice.tenantId}/quota`, { token: alice.key })).status, 403);
    assert.equal((await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: alice.key, body: {} })).status, 403);
    assert.equal((await api.http.get(`/v1/admin/tenants/${alice.tenantId}/quota`)).status, 401);
    assert.equal((await putQuota('00000000-0000-4000-8000-000000000000', { tier: 'free' })).status, 404);
    assert.equal((await api.http.get('/v1/quota')).status, 401);
  });
});
