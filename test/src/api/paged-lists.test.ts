import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { pageThroughList, withQuery } from '../support/paging.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';

const HTTP_PLUGIN = wat('(module (import "extism:host/env" "http_request" (func (param i64 i64) (result i64))) (func (export "run") (result i32) (i32.const 0)))');

describe('paged lists: plugins, API keys, approvals, dead letters, webhook deliveries', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let bob: TenantSession;

  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
  });
  after(() => api.close());

  const pageThrough = (url: string, token: string, limit: number) => pageThroughList(api, url, token, limit);
  const get = async (url: string, token: string) => (await api.http.get(url, { token })).body as { items: Array<{ id: string }>; nextCursor: string | null };
  const ids = (page: { items: Array<{ id: string }> }) => page.items.map((item) => item.id);

  it("pages a tenant's plugins, deleted ones included on request, and never shows another tenant's", async () => {
    const created: string[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) created.push((await api.http.post('/v1/plugins', { token: alice.key, body: { name } })).body.id);
    assert.equal((await api.http.request('DELETE', `/v1/plugins/${created[2]}`, { token: alice.key })).status, 200);
    const bobs = (await api.http.post('/v1/plugins', { token: bob.key, body: { name: 'b-only' } })).body.id as string;

    const live = await pageThrough('/v1/plugins', alice.key, 2);
    assert.deepEqual([...live].sort(), created.filter((_, n) => n !== 2).sort());
    assert.deepEqual([...(await pageThrough('/v1/plugins?includeDeleted=true', alice.key, 2))].sort(), [...created].sort());

    // Alice's cursor in Bob's hands places Bob's page; it shows nothing of Alice's.
    const alicesFirst = await get('/v1/plugins?limit=1', alice.key);
    const bobsPage = await get(`/v1/plugins?cursor=${alicesFirst.nextCursor}`, bob.key);
    assert.ok(ids(bobsPage).every((id) => id === bobs), JSON.stringify(bobsPage));
  });

  it("pages a tenant's API keys", async () => {
    for (const name of ['ci', 'deploy', 'backup']) await api.http.post(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken, body: { name } });
    const keys = await pageThrough(`/v1/admin/tenants/${alice.tenantId}/keys`, api.adminToken, 3);
    assert.equal(keys.length, 4);
    assert.equal(keys[0], alice.keyId, 'oldest first');
    assert.ok(!(await pageThrough(`/v1/admin/tenants/${bob.tenantId}/keys`, api.adminToken, 3)).some((id) => keys.includes(id)));
  });

  it('pages approval requests', async () => {
    for (const name of ['caller-1', 'caller-2', 'caller-3']) {
      const pluginId = (await api.http.post('/v1/plugins', { token: bob.key, body: { name } })).body.id;
      const version = await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: bob.key, rawBody: { data: HTTP_PLUGIN, contentType: 'application/wasm' } });
      assert.equal(version.body.approvalStatus, 'pending', version.text);
    }
    assert.equal((await pageThrough('/v1/admin/approvals?status=pending', api.adminToken, 2)).length, 3);
  });

  it('pages dead letters (most recently dead-lettered first) and webhook deliveries (newest first)', async () => {
    // Rows as runs leave them, written directly: producing dozens of real dead letters takes minutes of retries.
    const pluginId = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'failing' } })).body.id as string;
    const { prisma } = api.database;
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
    const failed = Array.from({ length: 7 }, (_, n) => ({
      id: randomUUID(),
      tenantId: alice.tenantId,
      pluginId,
      version: 1,
      exportName: 'run',
      status: 'crashed',
      // Some share a time: the id tells them apart.
      deadLetteredAt: at(Math.floor(n / 2)),
      finishedAt: at(Math.floor(n / 2)),
    }));
    await prisma.invocation.createMany({ data: failed });
    const letters = await pageThrough('/v1/dead-letters', alice.key, 3);
    assert.deepEqual([...letters].sort(), failed.map((row) => row.id).sort());
    assert.deepEqual(ids(await get('/v1/dead-letters', bob.key)), [], "none of Alice's");

    const webhook = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'https://hooks.example.com/airlock' } });
    assert.equal(webhook.status, 201, webhook.text);
    await prisma.webhookDelivery.createMany({
      data: failed.map((row, n) => ({ tenantId: alice.tenantId, webhookId: webhook.body.id, invocationId: row.id, createdAt: at(Math.floor(n / 3)) })),
    });
    assert.equal((await pageThrough(`/v1/webhooks/${webhook.body.id}/deliveries`, alice.key, 2)).length, failed.length);
    assert.equal((await api.http.get(`/v1/webhooks/${webhook.body.id}/deliveries`, { token: bob.key })).status, 404);
  });

  it("pages a tenant's bindings, oldest first, a few at a time (a binding's config may be megabytes)", async () => {
    const pluginId = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'bound' } })).body.id as string;
    const body = { wasmBase64: Buffer.from(wat('(module (func (export "run") (result i32) (i32.const 0)))')).toString('base64') };
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, body })).status, 201);
    assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: alice.key })).status, 200);
    const created: string[] = [];
    for (const event of ['a.one', 'a.two', 'a.three', 'a.four', 'a.five']) {
      const binding = await api.http.post('/v1/bindings', { token: alice.key, body: { event, pluginId, export: 'run' } });
      assert.equal(binding.status, 201, binding.text);
      created.push(binding.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/bindings?pluginId=${pluginId}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, alice.key);
      assert.ok(page.items.length <= 2);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, created, 'every binding once, oldest first');
    assert.equal((await get('/v1/bindings', alice.key)).items.length, 5, '20 a page when no limit is given');
    const tooMany = await api.http.get('/v1/bindings?limit=51', { token: alice.key });
    assert.deepEqual([tooMany.status, tooMany.body.error?.details.issues[0].field], [400, 'limit'], tooMany.text);
    // Alice's cursor in Bob's hands shows nothing of Alice's.
    const alicesFirst = await get('/v1/bindings?limit=1', alice.key);
    assert.deepEqual(ids(await get(`/v1/bindings?cursor=${alicesFirst.nextCursor}`, bob.key)), []);
  });

  it("pages a plugin's versions by number, without their source and tests", async () => {
    const pluginId = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'versioned' } })).body.id as string;
    for (let n = 1; n <= 5; n++) {
      const module = wat(`(module (func (export "run") (result i32) (i32.const ${n})))`);
      const body = { wasmBase64: Buffer.from(module).toString('base64'), tests: [{ name: 'runs', export: 'run', input: '', expect: { status: 'ok' } }] };
      assert.equal((await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, body })).status, 201);
    }
    const url = `/v1/plugins/${pluginId}/versions`;
    assert.deepEqual(await pageThroughList(api, url, alice.key, 2, (item) => String(item.number)), ['1', '2', '3', '4', '5']);
    const [first] = (await api.http.get(url, { token: alice.key })).body.items;
    assert.ok(!('source' in first) && !('tests' in first), Object.keys(first).join(', '));
    assert.equal((await api.http.get(`${url}/1`, { token: alice.key })).body.tests.length, 1, 'the version itself has them');
    assert.equal((await api.http.get(`${url}?cursor=${encodeURIComponent('eyJuIjowfQ')}`, { token: alice.key })).status, 400, 'a cursor for number 0');
    assert.equal((await api.http.get(url, { token: bob.key })).status, 404);
  });

  it('refuses a cursor it did not hand out, and a page too large, with a 400 naming the field', async () => {
    for (const url of ['/v1/plugins', `/v1/admin/tenants/${alice.tenantId}/keys`, '/v1/admin/approvals', '/v1/admin/tenants', '/v1/dead-letters', '/v1/audit']) {
      const token = url.includes('admin') ? api.adminToken : alice.key;
      for (const [query, field] of [['cursor=not-a-cursor', 'cursor'], ['limit=201', 'limit'], ['limit=0', 'limit']] as const) {
        const response = await api.http.get(withQuery(url, query), { token });
        assert.equal(response.status, 400, `${url} ${query}: ${response.text}`);
        assert.equal(response.body.error.details.issues[0].field, field);
      }
    }
    // Forms JavaScript would read as numbers, and a limit given twice, are told what is wrong; digits are taken.
    for (const [query, message] of [
      ['limit=0x10', 'must be a whole number from 1 to 200, in decimal digits'],
      ['limit=1e2', 'must be a whole number from 1 to 200, in decimal digits'],
      ['limit=%205', 'must be a whole number from 1 to 200, in decimal digits'],
      ['limit=1&limit=2', 'must be given once'],
    ] as const) {
      const response = await api.http.get(`/v1/plugins?${query}`, { token: alice.key });
      assert.equal(response.status, 400, `${query}: ${response.text}`);
      assert.deepEqual(response.body.error.details.issues, [{ field: 'limit', message }], query);
    }
    // Any query parameter given twice is told so, whatever it holds.
    for (const [url, field] of [['/v1/usage?from=2026-01-01&from=2026-01-02', 'from'], ['/v1/invocations?status=ok&status=queued', 'status'], ['/v1/plugins?cursor=a&cursor=b', 'cursor']] as const) {
      const response = await api.http.get(url, { token: alice.key });
      assert.equal(response.status, 400, `${url}: ${response.text}`);
      assert.deepEqual(response.body.error.details.issues, [{ field, message: 'must be given once' }], url);
    }
    // A route that takes no query parameters says so of one sent, rather than answer as if it did something.
    const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'no-query' } })).body.id as string;
    for (const [method, url] of [['GET', `/v1/plugins/${plugin}?include=versions`], ['GET', '/v1/me?include=versions'], ['POST', '/v1/events?include=versions']] as const) {
      const response = await api.http.request(method, url, { token: alice.key, ...(method === 'POST' ? { body: { type: 'order.created' } } : {}) });
      assert.equal(response.status, 400, `${url}: ${response.text}`);
      assert.deepEqual(response.body.error.details.issues, [{ field: 'include', message: 'is not a known field: this route takes no query parameters' }], url);
    }
    assert.equal((await api.http.get(`/v1/plugins/${plugin}`, { token: alice.key })).status, 200);
    // Probes and scrapers may add a query: ignored there.
    assert.equal((await api.http.get('/healthz?_=1700000000')).status, 200);
    assert.equal((await api.http.get('/readyz?_=1700000000')).status, 200);
    assert.equal((await api.http.get('/metrics?name[]=airlock_invocations_total', { token: api.adminToken })).status, 200);
    // A parameter the route does not take, given twice, is told as unknown.
    const unknownTwice = await api.http.get('/v1/plugins?foo=1&foo=2', { token: alice.key });
    assert.deepEqual(unknownTwice.body.error.details.issues, [{ field: 'foo', message: 'is not a known field' }]);
    assert.equal((await api.http.get(`/v1/plugins/${plugin}?`, { token: alice.key })).status, 200, 'an empty query is none');
    assert.equal((await api.http.get('/v1/plugins?limit=007', { token: alice.key })).status, 200);
    assert.equal((await api.http.get('/v1/logs?limit=500', { token: alice.key })).status, 200, 'the logs take pages of up to 500');
    assert.equal((await api.http.get('/v1/logs?limit=501', { token: alice.key })).status, 400);
  });
});
