import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretBox, sealedFor } from '@airlock/execution';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileSource, compileTemplate } from '../support/pdk.js';
import { startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const SECRET = 'sk-live-8f3a9c1e-do-not-leak';
/** Says what its call was given: the length and first letters of API_TOKEN, the region, the input. */
const READER = `import { Config, Host, JSON } from "@airlock/plugin-pdk";
export function inspect(): i32 {
  const token = Config.get("API_TOKEN");
  const out = new JSON.Obj();
  out.set<i64>("length", token === null ? -1 : token.length);
  out.set("prefix", token === null ? "" : token.slice(0, 3));
  out.set("region", Config.getOr("region", "none"));
  out.set("input", Host.inputString());
  Host.outputJson(out);
  return 0;
}
`;

/** Secrets as the first sealed form (`v1`) stored them: bound to the key's id only, not to their binding. */
function sealedInFirstForm(setting: string, plaintext: string): string {
  const [id, key] = setting.split(':') as [string, string];
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
  cipher.setAAD(Buffer.from(id));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
}

describe('binding secrets', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let pluginId: string;
  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    pluginId = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'with-secrets' } })).body.id;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, rawBody: { data: await compileTemplate('hello'), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: alice.key });
  });
  after(() => api.close());

  it('are stored encrypted, shown by name only, and never returned or audited', async () => {
    const texts: string[] = [];
    const created = await api.http.post('/v1/bindings', {
      token: alice.key,
      body: { event: 'order.created', pluginId, export: 'greet', config: { region: 'eu' }, secrets: { API_TOKEN: SECRET, OTHER: `${SECRET}-2` } },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.secretNames, ['API_TOKEN', 'OTHER']);
    texts.push(created.text);
    const id = created.body.id;
    texts.push((await api.http.get(`/v1/bindings/${id}`, { token: alice.key })).text);
    texts.push((await api.http.get('/v1/bindings', { token: alice.key })).text);
    const patched = await api.http.request('PATCH', `/v1/bindings/${id}`, { token: alice.key, body: { secrets: { API_TOKEN: `${SECRET}-rotated` } } });
    assert.deepEqual(patched.body.secretNames, ['API_TOKEN']);
    texts.push(patched.text);
    texts.push((await api.http.get('/v1/audit', { token: alice.key })).text);
    texts.push((await api.http.get('/v1/admin/audit', { token: api.adminToken })).text);
    const invalid = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'order.created', pluginId, export: 'greet', secrets: { 'bad name': SECRET } } });
    assert.equal(invalid.status, 400);
    texts.push(invalid.text);
    for (const text of texts) assert.ok(!text.includes(SECRET), `no secret in: ${text.slice(0, 200)}`);

    const row = await api.database.prisma.binding.findUniqueOrThrow({ where: { id } });
    assert.ok(row.secrets !== null && !row.secrets.includes(SECRET), 'encrypted at rest');
    assert.deepEqual(JSON.parse(api.secretBox.open(row.secrets, sealedFor.bindingSecrets(alice.tenantId, id))), { API_TOKEN: `${SECRET}-rotated` }, 'and recoverable for the call that runs it');

    const unchanged = await api.http.request('PATCH', `/v1/bindings/${id}`, { token: alice.key, body: { enabled: false } });
    assert.deepEqual(unchanged.body.secretNames, ['API_TOKEN'], 'other changes keep the secrets');
    const shared = await api.http.request('PATCH', `/v1/bindings/${id}`, { token: alice.key, body: { config: { API_TOKEN: 'x' } } });
    assert.equal(shared.status, 400, 'a name cannot be both config and secret');
    assert.equal(shared.body.error.details.issues[0].field, 'config.API_TOKEN', 'the field this request sent');
    const cleared = await api.http.request('PATCH', `/v1/bindings/${id}`, { token: alice.key, body: { secrets: null } });
    assert.deepEqual(cleared.body.secretNames, []);
    assert.equal((await api.database.prisma.binding.findUniqueOrThrow({ where: { id } })).secrets, null);
  });

  it('are handed to the plugin at run time, as config entries', async () => {
    const reader = await compileSource(READER);
    const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'reader' } })).body.id;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { token: alice.key, rawBody: { data: reader, contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: alice.key });
    const binding = await api.http.post('/v1/bindings', {
      token: alice.key,
      body: { event: 'order.created', pluginId: plugin, export: 'inspect', config: { region: 'eu' }, secrets: { API_TOKEN: SECRET } },
    });
    const twoInputs = await api.http.post(`/v1/bindings/${binding.body.id}/test`, { token: alice.key, body: { input: 'event', inputJson: 'event' } });
    assert.equal(twoInputs.status, 400, 'one input per call');
    assert.equal(twoInputs.body.error.details.issues[0].field, 'inputJson');
    const run = await api.http.post(`/v1/bindings/${binding.body.id}/test`, { token: alice.key, body: { input: 'event' } });
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.status, 'ok', run.body.error?.message);
    assert.deepEqual(JSON.parse(run.body.output), { length: SECRET.length, prefix: 'sk-', region: 'eu', input: 'event' });
    assert.ok(!run.text.includes(SECRET));
    const other = await createTenantSession(api, 'Bob');
    assert.equal((await api.http.post(`/v1/bindings/${binding.body.id}/test`, { token: other.key })).status, 404);
    // A binding pinned to a version unpublished since runs it no more, its test call as little as events.
    const pinned = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'order.pinned', pluginId: plugin, version: 1, export: 'inspect' } });
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions/1/unpublish`, { token: alice.key })).status, 200);
    const unpublished = await api.http.post(`/v1/bindings/${pinned.body.id}/test`, { token: alice.key, body: { input: 'event' } });
    assert.equal(unpublished.status, 409, unpublished.text);
    assert.match(unpublished.body.error.message, /^Version 1 cannot run from a binding: it is unpublished/);
    assert.deepEqual((await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.pinned' } })).body.invocations, []);
    // The binding says so, rather than look as if it ran.
    const stopped = (await api.http.get(`/v1/bindings/${pinned.body.id}`, { token: alice.key })).body;
    assert.deepEqual([stopped.enabled, stopped.resolvedVersion, stopped.stoppedBecause], [true, 1, 'version 1 is not published']);
    assert.equal((await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: alice.key })).status, 200);
    const running = (await api.http.get('/v1/bindings?event=order.pinned', { token: alice.key })).body.items;
    assert.deepEqual(running.map((item: { stoppedBecause: string | null }) => item.stoppedBecause), [null], 'published again: it runs');
    const disabled = await api.http.request('PATCH', `/v1/bindings/${pinned.body.id}`, { token: alice.key, body: { enabled: false } });
    assert.equal(disabled.body.stoppedBecause, 'the binding is disabled');

    // Work a binding queued, then the binding deleted: it does not run without its secrets, nor is it replayed.
    const doomed = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'order.shipped', pluginId: plugin, export: 'inspect', secrets: { API_TOKEN: SECRET } } });
    const queued = (await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.shipped' } })).body.invocations[0].id as string;
    assert.equal((await api.http.delete(`/v1/bindings/${doomed.body.id}`, { token: alice.key })).status, 204);
    const worker = await startWorker(api);
    try {
      const ran = await waitUntilFinished(api, alice.key, queued);
      assert.deepEqual([ran.status, ran.error?.message], ['invalid_module', 'the binding was deleted']);
    } finally {
      await worker.close();
    }
    await api.database.prisma.invocation.update({ where: { id: queued }, data: { status: 'crashed', deadLetteredAt: new Date() } });
    const replay = await api.http.post(`/v1/dead-letters/${queued}/replay`, { token: alice.key });
    assert.equal(replay.status, 409, replay.text);
    assert.match(replay.body.error.message, /binding that ran it was deleted/);
  });

  it('reach a queued run together with the config of the same moment: a binding changed meanwhile runs as it is now', async () => {
    const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'reader-later' } })).body.id;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { token: alice.key, rawBody: { data: await compileSource(READER), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: alice.key });
    const binding = await api.http.post('/v1/bindings', {
      token: alice.key,
      body: { event: 'order.paid', pluginId: plugin, export: 'inspect', config: { region: 'eu' }, secrets: { API_TOKEN: 'old-token' } },
    });
    assert.equal(binding.status, 201, binding.text);
    // Queued while no worker runs, then the binding's config and secrets are both changed.
    const queued = (await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.paid', payload: 'x' } })).body.invocations[0].id as string;
    const changed = await api.http.request('PATCH', `/v1/bindings/${binding.body.id}`, { token: alice.key, body: { config: { region: 'us' }, secrets: { API_TOKEN: SECRET } } });
    assert.equal(changed.status, 200, changed.text);
    const worker = await startWorker(api);
    try {
      const ran = await waitUntilFinished(api, alice.key, queued);
      assert.equal(ran.status, 'ok', ran.error?.message);
      assert.deepEqual(JSON.parse(ran.output), { length: SECRET.length, prefix: 'sk-', region: 'us', input: '"x"' }, 'the new config with the new secret');
    } finally {
      await worker.close();
    }
  });

  it('cannot share a name with a config entry, and a refusal names the field the request sent', async () => {
    const as = { token: alice.key };
    const both = await api.http.post('/v1/bindings', { ...as, body: { event: 'order.named', pluginId, export: 'greet', config: { TOKEN: 'a' }, secrets: { TOKEN: 'b' } } });
    assert.equal(both.status, 400, both.text);
    assert.deepEqual(both.body.error.details.issues, [{ field: 'secrets.TOKEN', message: 'a config entry has the same name' }]);
    const binding = await api.http.post('/v1/bindings', { ...as, body: { event: 'order.named', pluginId, export: 'greet', secrets: { TOKEN: 'b' } } });
    assert.equal(binding.status, 201, binding.text);
    // Only config sent: config is what the caller can change, so config is named.
    const config = await api.http.request('PATCH', `/v1/bindings/${binding.body.id}`, { ...as, body: { config: { TOKEN: 'public' } } });
    assert.equal(config.status, 400, config.text);
    assert.equal(config.body.error.message, 'Invalid request body: config: TOKEN also in secrets');
    assert.deepEqual(config.body.error.details.issues, [{ field: 'config.TOKEN', message: 'a secret of this binding has the same name' }]);
  });

  it('open for their own binding only, and are sealed again by workers once a new key comes first', async () => {
    const as = { token: alice.key };
    const plugin = (await api.http.post('/v1/plugins', { ...as, body: { name: 'reader-sealed' } })).body.id;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { ...as, rawBody: { data: await compileSource(READER), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, as);
    const bind = async (event: string, secrets: Record<string, string>) =>
      (await api.http.post('/v1/bindings', { ...as, body: { event, pluginId: plugin, export: 'inspect', secrets } })).body.id as string;
    const sealedRow = async (id: string) => (await api.database.prisma.binding.findUniqueOrThrow({ where: { id } })).secrets!;
    const own = await bind('order.sealed', { API_TOKEN: SECRET });
    const moved = await bind('order.moved', { API_TOKEN: 'b-token' });
    const legacy = await bind('order.legacy', { API_TOKEN: 'placeholder' });

    // Someone with write access to the database copies one binding's sealed secrets onto another: they do not open.
    await api.database.prisma.binding.update({ where: { id: moved }, data: { secrets: await sealedRow(own) } });
    const refused = await api.http.post(`/v1/bindings/${moved}/test`, { ...as, body: { input: 'x' } });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error.details.reason, 'secrets_unopenable');
    assert.match(refused.body.error.message, /cannot be opened .*: set them again\.$/);
    assert.ok(!refused.text.includes(SECRET));
    const ownRun = await api.http.post(`/v1/bindings/${own}/test`, { ...as, body: { input: 'x' } });
    assert.equal(JSON.parse(ownRun.body.output).length, SECRET.length, 'where they were sealed, they open');

    // Secrets stored in the first form (bound to the key only) still open.
    const setting = (await readFile(join(api.config.dataDir, 'secrets.keys'), 'utf8')).trim();
    await api.database.prisma.binding.update({ where: { id: legacy }, data: { secrets: sealedInFirstForm(setting, JSON.stringify({ API_TOKEN: 'legacy-token' })) } });
    const legacyRun = await api.http.post(`/v1/bindings/${legacy}/test`, { ...as, body: { input: 'x' } });
    assert.equal(JSON.parse(legacyRun.body.output).length, 'legacy-token'.length, legacyRun.text);

    // A new key put first: a worker seals again what the old key sealed, and what the first form sealed.
    const newKey = SecretBox.generateSetting();
    const rotated = SecretBox.fromSetting(`${newKey},${setting}`);
    const movedBefore = await sealedRow(moved);
    const worker = await startWorker(api, { secrets: rotated });
    try {
      const deadline = Date.now() + 10_000;
      const resealed = async () => (await Promise.all([own, legacy].map(sealedRow))).every((sealed) => sealed.startsWith(rotated.currentPrefix));
      while (!(await resealed()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const id of [own, legacy]) assert.ok((await sealedRow(id)).startsWith(rotated.currentPrefix), `binding ${id} sealed again`);
      assert.equal(await sealedRow(moved), movedBefore, 'what opens with no key held is left as it was');
    } finally {
      await worker.close();
    }
    // The old key can go now: a worker holding only the new one runs both with their secrets.
    const newOnly = await startWorker(api, { secrets: SecretBox.fromSetting(newKey) });
    try {
      for (const [event, token] of [['order.sealed', SECRET], ['order.legacy', 'legacy-token']] as const) {
        const queued = (await api.http.post('/v1/events', { ...as, body: { type: event, payload: 'x' } })).body.invocations[0].id as string;
        const ran = await waitUntilFinished(api, alice.key, queued);
        assert.equal(ran.status, 'ok', ran.error?.message);
        assert.equal(JSON.parse(ran.output).length, token.length, event);
      }
    } finally {
      await newOnly.close();
    }
  });
});
