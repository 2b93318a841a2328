import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('tenants and API keys over HTTP', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let bob: TenantSession;

  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice Co');
    bob = await createTenantSession(api, 'Bob Co');
  });
  after(() => api.close());

  it('creates, gets and lists tenants', async () => {
    const created = await api.http.post('/v1/admin/tenants', {
      token: api.adminToken,
      body: { name: '  Carol Co  ', tier: 'standard' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'Carol Co');
    assert.equal(created.body.tier, 'standard');
    assert.match(created.body.id, /^[0-9a-f-]{36}$/);

    const fetched = await api.http.get(`/v1/admin/tenants/${created.body.id}`, { token: api.adminToken });
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body, created.body);

    const defaults = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name: 'Dan' } });
    assert.equal(defaults.body.tier, 'free');

    const firstPage = await api.http.get('/v1/admin/tenants?limit=2', { token: api.adminToken });
    assert.equal(firstPage.status, 200);
    assert.deepEqual(
      firstPage.body.items.map((tenant: { name: string }) => tenant.name),
      ['Alice Co', 'Bob Co'],
    );
    const secondPage = await api.http.get(`/v1/admin/tenants?limit=2&cursor=${firstPage.body.nextCursor}`, {
      token: api.adminToken,
    });
    assert.deepEqual(
      secondPage.body.items.map((tenant: { name: string }) => tenant.name),
      ['Carol Co', 'Dan'],
    );
    assert.equal(secondPage.body.nextCursor, null, 'the last page says so');
  });

  it('shows a key once, lists keys without secrets, and revokes at once', async () => {
    const me = await api.http.get('/v1/me', { token: alice.key });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, alice.tenantId);
    assert.equal(me.body.name, 'Alice Co');
    assert.equal(me.body.apiKey.id, alice.keyId);

    const second = await api.http.post(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken });
    assert.equal(second.status, 201, 'an empty body is allowed');
    assert.equal(second.body.name, 'default');
    assert.match(second.body.key, /^ak_[0-9a-f]{16}_[0-9a-f]{64}$/);
    assert.ok(second.body.key.startsWith(`ak_${second.body.prefix}_`));

    const listed = await api.http.get(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.items.map((key: { id: string }) => key.id),
      [alice.keyId, second.body.id],
    );
    assert.ok(!listed.text.includes(second.body.key.split('_')[2]), 'no secret in the list');
    assert.ok(listed.body.items.every((key: Record<string, unknown>) => !('key' in key) && !('secretHash' in key)));
    assert.notEqual(listed.body.items[0].lastUsedAt, null, 'the key used for /v1/me shows when');

    const secretAtRest = await api.database.prisma.apiKey.findUniqueOrThrow({ where: { id: second.body.id } });
    assert.ok(!JSON.stringify(secretAtRest).includes(second.body.key.split('_')[2]), 'only a hash is stored');

    const revoked = await api.http.delete(`/v1/admin/tenants/${alice.tenantId}/keys/${second.body.id}`, {
      token: api.adminToken,
    });
    assert.equal(revoked.status, 200);
    assert.notEqual(revoked.body.revokedAt, null);
    assert.equal((await api.http.get('/v1/me', { token: second.body.key })).status, 401);
    assert.equal((await api.http.get('/v1/me', { token: alice.key })).status, 200, 'other keys still work');

    const again = await api.http.delete(`/v1/admin/tenants/${alice.tenantId}/keys/${second.body.id}`, {
      token: api.adminToken,
    });
    assert.equal(again.status, 200, 'revoking twice is harmless');
    assert.equal(again.body.revokedAt, revoked.body.revokedAt);
    const audit = await api.http.get(`/v1/admin/audit?tenantId=${alice.tenantId}`, { token: api.adminToken });
    assert.equal(audit.body.items.filter((entry: { action: string; target: string }) => entry.action === 'key.revoked' && entry.target === second.body.id).length, 1, 'one revocation, one entry');
  });

  it('answers every bad tenant key with the same 401 body', async () => {
    const issued = await api.http.post(`/v1/admin/tenants/${bob.tenantId}/keys`, { token: api.adminToken });
    await api.http.delete(`/v1/admin/tenants/${bob.tenantId}/keys/${issued.body.id}`, { token: api.adminToken });
    const [prefix, secret] = [bob.key.split('_')[1], bob.key.split('_')[2]!];
    const wrongSecret = `ak_${prefix}_${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`;
    const cases: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not bearer', { authorization: `Basic ${bob.key}` }],
      ['malformed', { authorization: 'Bearer ak_nope' }],
      ['unknown', { authorization: `Bearer ak_${'0'.repeat(16)}_${'0'.repeat(64)}` }],
      ['wrong secret', { authorization: `Bearer ${wrongSecret}` }],
      ['revoked', { authorization: `Bearer ${issued.body.key}` }],
      ['admin token', { authorization: `Bearer ${api.adminToken}` }],
    ];
    for (const [label, headers] of cases) {
      const response = await api.http.get('/v1/me', { headers });
      assert.equal(response.status, 401, label);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer', label);
      assert.equal(response.body.error.code, 'unauthenticated', label);
      assert.equal(response.body.error.message, 'A valid tenant API key is required: send "Authorization: Bearer ak_...".', label);
      assert.equal(response.body.requestId, response.headers.get('x-request-id'), label);
    }
  });

  it('refuses a tenant key with 403 and no token with 401 on every admin route', async () => {
    const routes: Array<[string, string]> = [
      ['POST', '/v1/admin/tenants'],
      ['GET', '/v1/admin/tenants'],
      ['GET', `/v1/admin/tenants/${alice.tenantId}`],
      ['POST', `/v1/admin/tenants/${alice.tenantId}/keys`],
      ['GET', `/v1/admin/tenants/${alice.tenantId}/keys`],
      ['DELETE', `/v1/admin/tenants/${alice.tenantId}/keys/${alice.keyId}`],
    ];
    for (const [method, path] of routes) {
      const body = method === 'POST' ? { name: 'x' } : undefined;
      const asTenant = await api.http.request(method, path, { token: alice.key, body });
      assert.equal(asTenant.status, 403, `${method} ${path} with a tenant key`);
      assert.equal(asTenant.body.error.code, 'forbidden');
      const anonymous = await api.http.request(method, path, { body });
      assert.equal(anonymous.status, 401, `${method} ${path} without a token`);
      const wrongToken = await api.http.request(method, path, { token: 'at_wrong', body });
      assert.equal(wrongToken.status, 401, `${method} ${path} with a wrong admin token`);
    }
    assert.equal((await api.http.get('/v1/me', { token: alice.key })).status, 200, 'nothing was revoked');
  });

  it('gives 404 for unknown, malformed and other tenants\' ids', async () => {
    const notFound = async (method: string, path: string, message = /^No (tenant|API key) with this id\.$/) => {
      const response = await api.http.request(method, path, { token: api.adminToken });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.body.error.code, 'not_found');
      assert.match(response.body.error.message, message, `${method} ${path}`);
    };
    await notFound('GET', `/v1/admin/tenants/${UNKNOWN_ID}`);
    await notFound('GET', '/v1/admin/tenants/not-a-uuid');
    await notFound('GET', `/v1/admin/tenants/${UNKNOWN_ID}/keys`, /No tenant/);
    await notFound('POST', `/v1/admin/tenants/${UNKNOWN_ID}/keys`, /No tenant/);
    await notFound('DELETE', `/v1/admin/tenants/${UNKNOWN_ID}/keys/${alice.keyId}`, /No tenant/);
    await notFound('DELETE', `/v1/admin/tenants/${alice.tenantId}/keys/${UNKNOWN_ID}`, /No API key/);
    // Bob's key addressed under Alice: not found, and Bob's key keeps working.
    await notFound('DELETE', `/v1/admin/tenants/${alice.tenantId}/keys/${bob.keyId}`);
    assert.equal((await api.http.get('/v1/me', { token: bob.key })).body.id, bob.tenantId);
    const alicesKeys = await api.http.get(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken });
    assert.ok(alicesKeys.body.items.every((key: { tenantId: string }) => key.tenantId === alice.tenantId));
  });

  it('names every invalid field, and refuses unknown ones', async () => {
    const response = await api.http.post('/v1/admin/tenants', {
      token: api.adminToken,
      body: { name: '', tier: 'platinum', colour: 'red' },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'validation_failed');
    const fields = response.body.error.details.issues.map((issue: { field: string }) => issue.field).sort();
    assert.deepEqual(fields, ['colour', 'name', 'tier']);
    assert.match(response.body.error.message, /name: must not be empty/);
    // A name shows in lists: one with nothing visible, or with control characters, is refused.
    for (const [name, message] of [['\u200b\u200b', 'must contain a visible character'], ['Acme\u0001', 'must not contain control characters']]) {
      const refused = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name } });
      assert.equal(refused.status, 400, name);
      assert.deepEqual(refused.body.error.details.issues.map((issue: { field: string; message: string }) => [issue.field, issue.message]), [['name', message]]);
    }
    const keyName = await api.http.post(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken, body: { name: '\u200b' } });
    assert.equal(keyName.status, 400);
    assert.equal((await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name: 'Ünïcode 株式会社' } })).status, 201);

    const badQuery = await api.http.get('/v1/admin/tenants?limit=500', { token: api.adminToken });
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.body.error.details.issues[0].field, 'limit');

    // A member named twice in one object: which was meant is not known (JSON.parse would keep the last without a word).
    const twice: Array<[string, string, string, string]> = [
      ['POST', '/v1/admin/tenants', api.adminToken, '{"name": "First", "name": "Second"}'],
      ['PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, api.adminToken, '{"tier": "standard", "overrides": {"concurrentRuns": 3}, "overrides": {}}'],
      ['PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, api.adminToken, '{"overrides": {"fuelPerCall": 1, "fuelPerCall": 2}}'],
      ['POST', '/v1/events', alice.key, '{"type": "a", "payload": {"note": "\\"type\\": \\"b\\""}, "type": "b"}'],
    ];
    const fieldsNamedTwice = ['name', 'overrides', 'overrides.fuelPerCall', 'type'];
    for (const [index, [method, path, token, data]] of twice.entries()) {
      const refused = await api.http.request(method, path, { token, rawBody: { data, contentType: 'application/json' } });
      assert.equal(refused.status, 400, `${data}: ${refused.text}`);
      assert.deepEqual(refused.body.error.details.issues, [{ field: fieldsNamedTwice[index], message: 'is given twice; give it once' }]);
    }
    assert.equal((await api.http.get(`/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken })).body.tier, 'free', 'nothing changed');
    // Named twice in a body nested deeper than any field may nest (20,000 deep, deeper than a reader that recurses
    // goes): refused for its depth, as it is without the name given twice.
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deepAndTwice: Array<[string, string, string, string]> = [
      ['POST', '/v1/admin/tenants', api.adminToken, `{"name": "a", "name": "b", "x": ${deep}}`],
      ['POST', '/v1/events', alice.key, `{"type": "order.created", "type": "order.updated", "payload": ${deep}}`],
      ['POST', '/v1/events', alice.key, `{"type": "order.created", "payload": {"n": 1, "n": 2, "deep": ${deep}}}`],
    ];
    for (const [method, path, token, data] of deepAndTwice) {
      const refused = await api.http.request(method, path, { token, rawBody: { data, contentType: 'application/json' } });
      assert.deepEqual([refused.status, refused.body.error?.code], [400, 'validation_failed'], `${data.slice(0, 60)}: ${refused.text.slice(0, 300)}`);
      assert.match(refused.body.error.message, /nests (deeper|more) than/);
    }
    // Inside an event's payload, names given twice are the plugin's to read, as written.
    const payload = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: '{"type": "order.created", "payload": {"n": 1, "n": 2, "deep": {"m": [{"k": 1, "k": 2}]}}}', contentType: 'application/json' } });
    assert.equal(payload.status, 202, payload.text);
  });

  it('rejects bodies that are not JSON or too large, in the error shape', async () => {
    const broken = await api.http.post('/v1/admin/tenants', {
      token: api.adminToken,
      rawBody: { data: '{"name": ', contentType: 'application/json' },
    });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, 'validation_failed');
    assert.match(broken.body.error.message, /not valid JSON/);
    // Valid JSON that is no object: said as such.
    for (const bare of ['null', ' "x"', '5']) {
      const refused = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: bare, contentType: 'application/json' } });
      assert.equal(refused.status, 400, bare);
      assert.match(refused.body.error.message, /^The request body is a bare JSON value; send a JSON object/, bare);
    }
    // Bytes that are not what their Content-Encoding says: in words, not zlib's.
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const damaged = await api.http.post('/v1/admin/tenants', {
        token: api.adminToken,
        rawBody: { data: '{"name": "Zed"}', contentType: 'application/json' },
        headers: { 'content-encoding': encoding },
      });
      assert.equal(damaged.status, 400, encoding);
      assert.equal(damaged.body.error.code, 'validation_failed');
      assert.match(damaged.body.error.message, /^The request body could not be decompressed/, encoding);
    }
    const cut = gzipSync(Buffer.from('{"name": "Zed"}')).subarray(0, 12);
    const truncated = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: cut, contentType: 'application/json' }, headers: { 'content-encoding': 'gzip' } });
    assert.match(truncated.body.error.message, /^The request body could not be decompressed/);

    const huge = await api.http.post('/v1/admin/tenants', {
      token: api.adminToken,
      body: { name: 'x'.repeat(6 * 1024 * 1024) },
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    assert.match(huge.body.error.message, /5242880 bytes/);
    assert.ok(typeof huge.body.requestId === 'string' && huge.body.requestId.length > 0);
    // A tenant's body is read no further than its route needs: a route that takes a few fields, 256 KiB; an event,
    // six times its tier's payload size (256 KiB on the free tier: each byte may be sent as an escape) and room for
    // its other fields.
    const wideName = await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'x'.repeat(300 * 1024) } });
    assert.deepEqual([wideName.status, wideName.body.error.message], [413, 'The request body is larger than the 262144 bytes this route accepts.']);
    const bigEvent = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'x'.repeat(1700 * 1024) } });
    assert.deepEqual(
      [bigEvent.status, bigEvent.body.error.message],
      [413, "The request body is larger than the 1638400 bytes an event of this tenant's may be (six times its tier's maxInputBytes, and its other fields)."],
    );
    // Within the tier as the plugin reads it: 100,000 é (200,000 bytes) sent escaped, as Python's json.dumps does (600 KB).
    const escaped = `{"type": "order.created", "payload": "${'\\u00e9'.repeat(100_000)}"}`;
    assert.equal((await api.http.post('/v1/events', { token: alice.key, rawBody: { data: escaped, contentType: 'application/json' } })).status, 202, 'a payload within the tier, written escaped');

    // A body of many bad fields gets a short answer, listing the first of them.
    const unknownFields = Object.fromEntries(Array.from({ length: 100_000 }, (_, n) => [`field${n}`, 0]));
    const many = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name: 'Many', ...unknownFields } });
    assert.equal(many.status, 400);
    assert.equal(many.body.error.details.issues.length, 20);
    assert.equal(many.body.error.details.unlisted, 99_980);
    assert.match(many.body.error.message, /field0: is not a known field; .*\(and 99980 more\)$/);
    assert.ok(many.text.length < 4096, `${many.text.length} bytes`);
    // A body of millions of values is read and answered like any other.
    const long = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name: Array.from({ length: 2_000_000 }, () => 0) } });
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /^Invalid request body: name: /);

    // JSON sent as a form (what `curl -d` does without a header), as text, or as a module (which only the version
    // upload takes): said so, and nothing is created.
    const before = (await api.http.get('/v1/admin/tenants', { token: api.adminToken })).body.items.length;
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'application/merge-patch+json', 'application/wasm']) {
      const unparsed = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: '{"name":"Form"}', contentType } });
      assert.equal(unparsed.status, 415, contentType);
      assert.equal(unparsed.body.error.code, 'unsupported_media_type');
      assert.match(unparsed.body.error.message, /send JSON with Content-Type: application\/json/);
    }
    assert.equal((await api.http.get('/v1/admin/tenants', { token: api.adminToken })).body.items.length, before);
    const withCharset = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: '{"name":"Charset"}', contentType: 'application/json; charset=utf-8' } });
    assert.equal(withCharset.status, 201, withCharset.text);
    // Other labels of UTF-8 (browsers read `utf8` as UTF-8 too) are UTF-8, still checked as such.
    for (const [index, label] of ['UTF8', '"utf8"', 'unicode-1-1-utf-8'].entries()) {
      const aliased = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: `{"name":"Charset ${index}"}`, contentType: `application/json;charset=${label}` } });
      assert.equal(aliased.status, 201, `${label}: ${aliased.text}`);
    }
    const notUtf8 = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]), contentType: 'application/json; charset=utf8' } });
    assert.equal(notUtf8.status, 400, notUtf8.text);
    assert.match(notUtf8.body.error.message, /not valid UTF-8/);
    // A charset or Content-Encoding this server does not read: named, with what it reads instead.
    const ascii = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: '{"name":"Ascii"}', contentType: 'application/json; charset=us-ascii' } });
    assert.equal(ascii.status, 415, ascii.text);
    assert.match(ascii.body.error.message, /^The request body's charset "us-ascii" is not one this server reads: JSON bodies are UTF-8/);
    const compressed = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: '{"name":"Lzw"}', contentType: 'application/json' }, headers: { 'content-encoding': 'compress' } });
    assert.equal(compressed.status, 415, compressed.text);
    assert.match(compressed.body.error.message, /^The request body's Content-Encoding "compress" is not one this server accepts: gzip \(or x-gzip\), deflate, br or none\.$/);
  });

  it('answers unknown routes with a JSON 404 and echoes a caller request id', async () => {
    const response = await api.http.get('/v1/nothing-here', { headers: { 'x-request-id': 'trace-me-123' } });
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
    assert.equal(response.body.requestId, 'trace-me-123');
    assert.equal(response.headers.get('x-request-id'), 'trace-me-123');
    // A path whose percent-encoding is broken is said so in the API's words (not the router's), on any route.
    for (const path of ['/v1/admin/tenants/%', `/v1/invocations/%C0`]) {
      const broken = await api.http.get(path, { token: alice.key });
      assert.equal(broken.status, 400, path);
      assert.deepEqual([broken.body.error.code, broken.body.error.message], ['validation_failed', 'The request path is not valid: each % in it must begin a percent-encoded UTF-8 character, such as %20.'], path);
    }
  });

  it('answers a method a path does not take with 405 and the methods it does (Allow)', async () => {
    const wrong = await api.http.request('DELETE', '/v1/admin/tenants', { token: api.adminToken });
    assert.equal(wrong.status, 405, wrong.text);
    assert.equal(wrong.body.error.code, 'method_not_allowed');
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, POST');
    assert.deepEqual(wrong.body.error.details.allowed, ['GET', 'HEAD', 'POST']);
    const withId = await api.http.request('PUT', '/v1/admin/tenants/00000000-0000-4000-8000-000000000000', { token: api.adminToken, body: {} });
    assert.equal(withId.status, 405, 'a path with a parameter too');
    assert.equal((await api.http.request('DELETE', '/v1/nothing-here', { token: api.adminToken })).status, 404, 'a path nothing serves is still 404');
  });

  it('answers a request that is not valid HTTP (a control byte in a header) with a JSON 400, as every error', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(api.baseUrl).port), '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Broken: a\u0001b\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, body] = answer.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(head!, /content-type: application\/json/i);
    const parsed = JSON.parse(body!);
    assert.equal(parsed.error.code, 'validation_failed');
    assert.match(parsed.error.message, /not valid HTTP \(HPE_/);
    assert.ok(typeof parsed.requestId === 'string');
    assert.match(head!, new RegExp(`\r\nX-Request-Id: ${parsed.requestId}\r\n`, 'i'), 'the id in the header too');
  });

  it('answers a body sent without valid credentials with 401 before reading it, and closes the connection', async () => {
    // Headers and the first bytes of a body: the answer comes without waiting for the rest.
    const sendHead = (head: string, framing: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(api.baseUrl).port), '127.0.0.1', () => socket.write(`${head}${framing}`));
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        // Not a measure of speed: a server that waits for the body never answers at all.
        socket.setTimeout(15_000, () => {
          socket.destroy();
          reject(new Error(`no answer without the rest of the body; got ${JSON.stringify(text)}`));
        });
      });
    const issued = await api.http.post(`/v1/admin/tenants/${bob.tenantId}/keys`, { token: api.adminToken });
    await api.http.delete(`/v1/admin/tenants/${bob.tenantId}/keys/${issued.body.id}`, { token: api.adminToken });
    const pluginRoute = `/v1/plugins/${randomUUID()}/versions`;
    // A length within every limit, one past them, and a body sent in chunks, each cut short.
    const framings = ['Content-Length: 1000\r\n\r\n{"name": ', 'Content-Length: 100000000\r\n\r\n{"name": ', 'Transfer-Encoding: chunked\r\n\r\n9\r\n{"name": \r\n'];
    const heads: Array<[string, string, RegExp]> = [
      ['no key, a gzip module', `POST ${pluginRoute} HTTP/1.1\r\nHost: x\r\nContent-Type: application/wasm\r\nContent-Encoding: gzip\r\n`, /A valid tenant API key is required/],
      ['a revoked key', `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${issued.body.key}\r\nContent-Type: application/json\r\n`, /A valid tenant API key is required/],
      ['no admin token', 'POST /V1/Admin/Tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n', /The admin token is required/],
    ];
    const cases = heads.flatMap(([label, head, message]) => framings.map((framing): [string, string, string, RegExp] => [`${label}, ${framing.split(':')[0]}`, head, framing, message]));
    for (const [label, head, framing, message] of cases) {
      const answer = await sendHead(head, framing);
      const [status, body] = answer.split('\r\n\r\n');
      assert.match(status!, /^HTTP\/1\.1 401 /, label);
      assert.match(status!, /\r\nConnection: close\r\n/i, label);
      assert.match(JSON.parse(body!).error.message, message, label);
    }
    // With valid credentials the same route reads the body, and the guard decides: a tenant key on an admin route is a 403.
    const asTenant = await api.http.post('/v1/admin/tenants', { token: alice.key, body: { name: 'Nope' } });
    assert.equal(asTenant.status, 403, asTenant.text);
  });
});
