import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { startWorker, waitUntilFinished } from '../support/pipeline.js';
import { compileTemplate } from '../support/pdk.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';

const KV = '(import "airlock:host/env" "kv_delete" (func (param i64)))';
const HTTP = '(import "extism:host/env" "http_request" (func (param i64 i64) (result i64)))';
const plugin = (...imports: string[]) => wat(`(module ${imports.join(' ')} (func (export "run") (result i32) (i32.const 0)))`);
/** Another module with the same imports: an extra export `name` makes its bytes differ. */
const variant = (name: string, ...imports: string[]) => wat(`(module ${imports.join(' ')} (func (export "run") (result i32) (i32.const 0)) (func (export "${name}") (result i32) (i32.const 1)))`);

describe('permission review and admin approvals', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
  });
  after(() => api.close());

  const as = { get token() { return alice.key; } };
  const admin = () => ({ token: api.adminToken });
  const newPlugin = async (name: string) => (await api.http.post('/v1/plugins', { ...as, body: { name } })).body.id as string;
  const upload = (pluginId: string, bytes: Uint8Array) => api.http.post(`/v1/plugins/${pluginId}/versions`, { ...as, rawBody: { data: bytes, contentType: 'application/wasm' } });
  const bind = (pluginId: string, version: number) => api.http.post('/v1/bindings', { ...as, body: { event: 'order.created', pluginId, version, export: 'run' } });
  const pending = async () => (await api.http.get('/v1/admin/approvals?status=pending', admin())).body.items as Array<Record<string, any>>;
  /** A new tenant on the standard tier (key-value data; HTTP to api.example.com) with one plugin, and how to add and publish its versions. */
  const standardTenantPlugin = async (tenantName: string, pluginName: string) => {
    const session = await createTenantSession(api, tenantName);
    const token = { token: session.key };
    await api.http.request('PUT', `/v1/admin/tenants/${session.tenantId}/quota`, { ...admin(), body: { tier: 'standard', overrides: { allowedHosts: ['api.example.com'] } } });
    const pluginId = (await api.http.post('/v1/plugins', { ...token, body: { name: pluginName } })).body.id as string;
    const put = async (bytes: Uint8Array) => (await api.http.post(`/v1/plugins/${pluginId}/versions`, { ...token, rawBody: { data: bytes, contentType: 'application/wasm' } })).body;
    const publish = (number: number) => api.http.post(`/v1/plugins/${pluginId}/versions/${number}/publish`, token);
    return { session, token, pluginId, put, publish };
  };

  it('holds a version that asks for more than its tier until an admin approves it', async () => {
    const pluginId = await newPlugin('caller');
    const version = await upload(pluginId, plugin(HTTP));
    assert.equal(version.status, 201, version.text);
    assert.equal(version.body.approvalStatus, 'pending', 'the free tier grants no HTTP');
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as)).status, 200, 'it can be published...');
    const refused = await bind(pluginId, 1);
    assert.equal(refused.status, 409, '...but not bound');
    assert.match(refused.body.error.message, /awaits an admin's approval/);

    const [request] = await pending();
    assert.deepEqual(
      { pluginId: request!.pluginId, version: request!.version, requested: request!.requested, previous: request!.previous },
      { pluginId, version: 1, requested: [{ permission: 'http', reason: 'beyond_tier' }], previous: [] },
    );
    assert.equal((await api.http.get('/v1/admin/approvals', { token: alice.key })).status, 403);

    const approved = await api.http.post(`/v1/admin/approvals/${request!.id}`, { ...admin(), body: { decision: 'approve', note: 'partner integration' } });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'approved');
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as)).body.approvalStatus, 'approved');
    assert.equal((await bind(pluginId, 1)).status, 201);
    assert.deepEqual(await pending(), []);
    const audit = await api.http.get('/v1/audit', as);
    assert.equal(audit.body.items[1].action, 'approval.approved');

    // Decided requests: the same decision again changes nothing; another one needs revise, which is audited too.
    const decide = (body: Record<string, unknown>) => api.http.post(`/v1/admin/approvals/${request!.id}`, { ...admin(), body });
    const again = await decide({ decision: 'approve' });
    assert.deepEqual([again.status, again.body.decidedAt, again.body.note], [200, approved.body.decidedAt, 'partner integration']);
    const renoted = await decide({ decision: 'approve', note: 'another reason' });
    assert.equal(renoted.status, 409, 'a new note on the same decision is not dropped without a word');
    assert.match(renoted.body.error.message, /was approved already .* another note; a note is recorded with its decision and was not changed/);
    assert.equal(renoted.body.error.details.note, 'partner integration');
    const overruled = await decide({ decision: 'reject' });
    assert.equal(overruled.status, 409, overruled.text);
    assert.match(overruled.body.error.message, /was approved already .* send revise: true/);
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as)).body.approvalStatus, 'approved', 'nothing changed');
    const revised = await decide({ decision: 'reject', revise: true, note: 'withdrawn' });
    assert.deepEqual([revised.status, revised.body.status, revised.body.note], [200, 'rejected', 'withdrawn']);
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as)).body.approvalStatus, 'rejected');
    const decisions = (await api.http.get('/v1/audit', as)).body.items.filter((entry: { action: string }) => entry.action.startsWith('approval.'));
    assert.deepEqual(
      decisions.map((entry: { action: string; details: { previous: string; note: string } }) => [entry.action, entry.details.previous, entry.details.note]),
      [['approval.rejected', 'approved', 'withdrawn'], ['approval.approved', 'pending', 'partner integration']],
      'each decision audited once, with what it replaced and its reason',
    );
    // A note of nothing but spaces is no note.
    const blank = await decide({ decision: 'approve', revise: true, note: '   ' });
    assert.deepEqual([blank.status, blank.body.status, blank.body.note], [200, 'approved', null], blank.text);
  });

  it("leaves a deleted plugin's waiting requests out of the queue", async () => {
    const pluginId = await newPlugin('abandoned');
    assert.equal((await upload(pluginId, plugin(HTTP))).body.approvalStatus, 'pending');
    assert.ok((await pending()).some((item) => item.pluginId === pluginId));
    assert.equal((await api.http.delete(`/v1/plugins/${pluginId}`, as)).status, 200);
    assert.ok(!(await pending()).some((item) => item.pluginId === pluginId), 'nothing of it can run: nothing to decide');
  });

  it('lets the first of two admins deciding at once decide, and tells the second', async () => {
    const pluginId = await newPlugin('contested');
    await upload(pluginId, plugin(HTTP));
    const request = (await pending()).find((item) => item.pluginId === pluginId)!;
    const answers = await Promise.all(
      (['approve', 'reject'] as const).map((decision) => api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision } })),
    );
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 409]);
    const winner = answers.find((answer) => answer.status === 200)!.body.status as string;
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/1`, as)).body.approvalStatus, winner, 'the version follows the decision that won');
  });

  it('reviews sensitive permissions a version adds over the last published one with approved permissions', async () => {
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { ...admin(), body: { tier: 'standard', overrides: { allowedHosts: ['api.example.com'] } } });
    const pluginId = await newPlugin('growing');
    const first = await upload(pluginId, plugin(KV));
    assert.equal(first.body.approvalStatus, 'not_required');
    await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as);
    const second = await upload(pluginId, plugin(KV, HTTP));
    assert.equal(second.body.approvalStatus, 'pending', 'HTTP is within the tier now, but new for this plugin');
    const request = (await pending()).find((item) => item.pluginId === pluginId)!;
    assert.deepEqual(request.requested, [{ permission: 'http', reason: 'new' }]);
    assert.deepEqual(request.previous, ['kv']);

    const rejected = await api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision: 'reject' } });
    assert.equal(rejected.body.status, 'rejected');
    await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, as);
    const refused = await bind(pluginId, 2);
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /refused by an admin/);
    assert.equal((await bind(pluginId, 1)).status, 201, 'the previous version still binds');

    // A version refused (or still awaiting review) is no baseline, even published: the same permissions in new bytes
    // are reviewed again, not let in because the refused version had them.
    const withExtra = (name: string) => variant(name, KV, HTTP);
    const third = await upload(pluginId, withExtra('again'));
    assert.equal(third.body.approvalStatus, 'pending', third.text);
    assert.deepEqual((await pending()).find((item) => item.version === 3 && item.pluginId === pluginId)?.requested, [{ permission: 'http', reason: 'new' }]);
    // Nor does unpublishing every version clear the record: version 1 was published without HTTP.
    for (const number of [1, 2]) assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/${number}/unpublish`, as)).status, 200);
    const fourth = await upload(pluginId, withExtra('once more'));
    assert.equal(fourth.body.approvalStatus, 'pending', fourth.text);
  });

  it('puts later versions that matched an approval back under review when it is revised to rejected', async () => {
    const { session: dana, token, pluginId, put, publish } = await standardTenantPlugin('Dana', 'layered');
    const statusOf = async (number: number) => (await api.http.get(`/v1/plugins/${pluginId}/versions/${number}`, token)).body.approvalStatus;

    assert.equal((await put(plugin(KV))).approvalStatus, 'not_required');
    await publish(1);
    assert.equal((await put(plugin(KV, HTTP))).approvalStatus, 'pending', 'HTTP is new');
    const request = (await pending()).find((item) => item.pluginId === pluginId)!;
    assert.equal((await api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision: 'approve' } })).status, 200);
    await publish(2);
    // Version 3 asks for what version 2 was approved for: it goes through unreviewed, and runs.
    assert.equal((await put(variant('three', KV, HTTP))).approvalStatus, 'not_required');
    await publish(3);
    // Version 4 asks for nothing version 1 did not have.
    assert.equal((await put(variant('four', KV))).approvalStatus, 'not_required');
    const binding = await api.http.post('/v1/bindings', { ...token, body: { event: 'order.layered', pluginId, version: 3, export: 'run' } });
    assert.equal(binding.status, 201, binding.text);
    const before = await api.http.post('/v1/events', { ...token, body: { type: 'order.layered', payload: {} } });
    assert.equal(before.body.invocations.length, 1);

    const revised = await api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision: 'reject', revise: true, note: 'not this host' } });
    assert.equal(revised.status, 200, revised.text);
    assert.deepEqual([await statusOf(2), await statusOf(3), await statusOf(4)], ['rejected', 'pending', 'not_required']);
    const again = (await pending()).find((item) => item.pluginId === pluginId && item.version === 3);
    assert.deepEqual([again?.requested, again?.previous], [[{ permission: 'http', reason: 'new' }], ['kv']]);
    const after = await api.http.post('/v1/events', { ...token, body: { type: 'order.layered', payload: {} } });
    assert.deepEqual(after.body.invocations, [], 'a version back under review does not run');
    const bindingTest = await api.http.post(`/v1/bindings/${binding.body.id}/test`, { ...token, body: {} });
    assert.equal(bindingTest.status, 409, 'nor from its binding');
    // What was queued for it before ends without running, whenever a worker gets to it.
    const worker = await startWorker(api);
    try {
      const queued = await waitUntilFinished(api, dana.key, before.body.invocations[0].id);
      assert.deepEqual([queued.status, queued.error?.message], ['forbidden_import', "version 3's permissions await an admin's approval"]);
    } finally {
      await worker.close();
    }
    const audited = (await api.http.get('/v1/audit', token)).body.items.find((entry: { action: string }) => entry.action === 'approval.rejected');
    assert.deepEqual(audited.details.reReviewedVersions, [3]);

    // Approved on its own, it runs again.
    assert.equal((await api.http.post(`/v1/admin/approvals/${again!.id}`, { ...admin(), body: { decision: 'approve' } })).status, 200);
    assert.equal((await api.http.post('/v1/events', { ...token, body: { type: 'order.layered', payload: {} } })).body.invocations.length, 1);
  });

  it('also reviews again later versions approved or awaiting a decision on a request that did not list what they had by matching', async () => {
    const { token, pluginId, put, publish } = await standardTenantPlugin('Ivy', 'stacked');
    const requestOf = async (number: number) => (await api.http.get('/v1/admin/approvals', admin())).body.items.find((item: Record<string, any>) => item.pluginId === pluginId && item.version === number);
    const decide = async (number: number, decision: string, revise = false) => api.http.post(`/v1/admin/approvals/${(await requestOf(number)).id}`, { ...admin(), body: { decision, revise } });

    await put(plugin());
    await publish(1);
    assert.equal((await put(plugin(KV))).approvalStatus, 'pending');
    await decide(2, 'approve');
    await publish(2);
    // Version 3 asks for HTTP, new; its key-value data passed because version 2 had it.
    assert.equal((await put(variant('three', KV, HTTP))).approvalStatus, 'pending');
    assert.deepEqual((await requestOf(3)).requested, [{ permission: 'http', reason: 'new' }]);
    await decide(3, 'approve');
    await publish(3);
    assert.equal((await put(variant('four', KV))).approvalStatus, 'not_required');

    const revised = await decide(2, 'reject', true);
    assert.equal(revised.status, 200, revised.text);
    const three = await requestOf(3);
    assert.deepEqual([three.status, three.requested, three.previous], ['pending', [{ permission: 'http', reason: 'new' }, { permission: 'kv', reason: 'new' }], []]);
    const four = await requestOf(4);
    assert.deepEqual([four.status, four.requested, four.previous], ['pending', [{ permission: 'kv', reason: 'new' }], []]);
    const audited = (await api.http.get('/v1/audit', token)).body.items.find((entry: { action: string }) => entry.action === 'approval.rejected');
    assert.deepEqual(audited.details.reReviewedVersions, [3, 4]);
  });

  it('reviews an upload made while an approval is withdrawn against what stands after the withdrawal', async () => {
    const { token, pluginId, put, publish } = await standardTenantPlugin('Jay', 'raced');
    await put(plugin());
    await publish(1);
    await put(plugin(KV));
    const request = (await pending()).find((item) => item.pluginId === pluginId)!;
    await api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision: 'approve' } });
    await publish(2);

    // The plugin's upload turn is held while an upload and the withdrawal both arrive.
    const holder = new pg.Client({ connectionString: api.config.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`versions:${pluginId}`]);
      // Waiters for an advisory lock in this test's database (other test files share the server).
      const waiting = async (count: number) => {
        for (let tries = 0; tries < 200; tries++) {
          const { rows } = await holder.query(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
          );
          if (rows[0].n >= count) return;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.fail('nothing waited for the turn');
      };
      // The withdrawal is first in line, the upload second: the upload must not be reviewed against what the
      // withdrawal is taking away (an upload that read its baseline before its turn would be).
      const withdrawal = api.http.post(`/v1/admin/approvals/${request.id}`, { ...admin(), body: { decision: 'reject', revise: true } });
      await waiting(1);
      const upload = api.http.post(`/v1/plugins/${pluginId}/versions`, { ...token, rawBody: { data: variant('raced', KV), contentType: 'application/wasm' } });
      await waiting(2);
      await holder.query('COMMIT');
      const [uploaded, withdrawn] = await Promise.all([upload, withdrawal]);
      assert.equal(uploaded.status, 201, uploaded.text);
      assert.equal(withdrawn.status, 200, withdrawn.text);
    } finally {
      await holder.end();
    }
    const third = await api.http.get(`/v1/plugins/${pluginId}/versions/3`, token);
    assert.equal(third.body.approvalStatus, 'pending', 'key-value data is reviewed again, without version 2 as its baseline');
  });

  it('tests a version awaiting approval with its permissions, but never on the plugin\'s own key-value data', async () => {
    const carol = await createTenantSession(api, 'Carol');
    const pluginId = (await api.http.post('/v1/plugins', { token: carol.key, body: { name: 'counter' } })).body.id as string;
    // Version 1 is published without key-value data; version 2 adds it, which waits for an admin.
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: carol.key, rawBody: { data: await compileTemplate('hello'), contentType: 'application/wasm' } });
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: carol.key })).status, 200);
    const version = await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: carol.key, rawBody: { data: await compileTemplate('kv-counter'), contentType: 'application/wasm' } });
    assert.equal(version.body.approvalStatus, 'pending', version.text);
    const run = () => api.http.post(`/v1/plugins/${pluginId}/versions/2/test`, { token: carol.key, body: { export: 'count', input: 'Ada' } });
    const first = await run();
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.results[0].status, 'ok', JSON.stringify(first.body.results[0].error));
    assert.deepEqual(JSON.parse(first.body.results[0].output), { key: 'count:Ada', count: 1 });
    assert.deepEqual(JSON.parse((await run()).body.results[0].output), { key: 'count:Ada', count: 2 }, 'its own data persists between its tests');
    const kv = api.database.prisma.pluginKvEntry;
    assert.equal(await kv.count({ where: { tenantId: carol.tenantId, pluginId } }), 0, "nothing in the plugin's data");
    assert.equal(await kv.count({ where: { tenantId: carol.tenantId } }), 1, 'the version\'s own namespace holds it');
  });

  it('validates decisions and 404s unknown requests', async () => {
    const unknown = await api.http.post('/v1/admin/approvals/00000000-0000-4000-8000-000000000000', { ...admin(), body: { decision: 'approve' } });
    assert.equal(unknown.status, 404);
    const invalid = await api.http.post('/v1/admin/approvals/00000000-0000-4000-8000-000000000000', { ...admin(), body: { decision: 'maybe' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details.issues[0].field, 'decision');
  });
  it('refuses to publish a version awaiting approval over the "latest" bindings it would stop, naming them', async () => {
    const pluginId = await newPlugin('held-next');
    assert.equal((await upload(pluginId, plugin())).status, 201);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as)).status, 200);
    const binding = (await api.http.post('/v1/bindings', { ...as, body: { event: 'order.created', pluginId, export: 'run' } })).body;
    assert.equal((await upload(pluginId, plugin(HTTP))).body.approvalStatus, 'pending');
    const refused = await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, as);
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.error.message, /^Not published: version 2's permissions await an admin's approval, so it would run nothing for 1 binding\(s\) following "latest" \(order\.created → run\)/);
    assert.deepEqual(refused.body.error.details.bindings, [{ id: binding.id, event: 'order.created', export: 'run' }]);
    assert.equal((await api.http.get(`/v1/plugins/${pluginId}/versions/2`, as)).body.status, 'draft', 'nothing changed');
    // Pinned to the version running now, the binding goes on running it: the new version can be published.
    assert.equal((await api.http.request('PATCH', `/v1/bindings/${binding.id}`, { ...as, body: { version: 1 } })).status, 200);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, as)).status, 200);
  });

  it('names the "latest" bindings unpublishing stops when the version before awaits approval', async () => {
    const pluginId = await newPlugin('held-before');
    assert.equal((await upload(pluginId, plugin())).status, 201);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, as)).status, 200);
    // Version 2 asks for HTTP beyond Alice's tier: published, it waits for an admin; version 3 does not.
    assert.equal((await upload(pluginId, plugin(HTTP))).status, 201);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, as)).status, 200);
    assert.equal((await upload(pluginId, variant('other'))).status, 201);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/3/publish`, as)).status, 200);
    const binding = (await api.http.post('/v1/bindings', { ...as, body: { event: 'order.created', pluginId, export: 'run' } })).body;
    const unpublished = await api.http.post(`/v1/plugins/${pluginId}/versions/3/unpublish`, as);
    assert.equal(unpublished.status, 200, unpublished.text);
    assert.deepEqual(unpublished.body.stoppedBindings, [{ id: binding.id, event: 'order.created', export: 'run', version: 'latest' }], '"latest" is now version 2, which does not run until approved');
    const heldUnpublished = await api.http.post(`/v1/plugins/${pluginId}/versions/2/unpublish`, as);
    assert.deepEqual(heldUnpublished.body.stoppedBindings, [], 'version 2 ran nothing while it awaited approval: nothing more stops');
  });
});
