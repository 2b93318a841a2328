import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { createRedisConnection } from '@airlock/queue';
import { createWorkerApp } from '@airlock/worker/worker-app';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileTemplate } from '../support/pdk.js';
import { publishAndBind, waitUntilFinished } from '../support/pipeline.js';
import { readSse } from '../support/sse.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { wat } from '../support/wasm.js';

describe('events through the queue and the worker', () => {
  let api: ApiHarness;
  let worker: INestApplicationContext;
  let consumer: Redis;
  let alice: TenantSession;
  let bob: TenantSession;
  let greeter: string;
  let counterBinding: string;

  before(async () => {
    api = await startApi();
    consumer = createRedisConnection(api.config.redisUrl!, 'consumer', 'airlock-test-worker');
    worker = await createWorkerApp({ config: api.config, prisma: api.database.prisma, sql: api.database.keyedSql, redis: consumer, sandbox: api.sandbox, secrets: api.secretBox });
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
    // The free tier allows 5 events a second and 2 runs in flight; these tests send more.
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { tier: 'standard' } });
    const publish = async (name: string, template: string, exportName: string, config?: Record<string, string>) => {
      const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name } })).body.id;
      await api.http.post(`/v1/plugins/${plugin}/versions`, { token: alice.key, rawBody: { data: await compileTemplate(template), contentType: 'application/wasm' } });
      await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: alice.key });
      if (name === 'greeter') greeter = plugin;
      const binding = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'order.created', pluginId: plugin, export: exportName, ...(config ? { config } : {}) } });
      assert.equal(binding.status, 201, binding.text);
      if (name === 'counter') counterBinding = binding.body.id;
    };
    await publish('greeter', 'hello', 'greet');
    await publish('counter', 'kv-counter', 'count');
  });
  after(async () => {
    await worker.close();
    await consumer.quit();
    await api.close();
  });

  it('fans an event out to every binding and records each result', async () => {
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from('Ada').toString('base64') } });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.body.invocations.length, 2);
    const results = await Promise.all(accepted.body.invocations.map((invocation: { id: string }) => waitUntilFinished(api, alice.key, invocation.id)));
    const byExport = Object.fromEntries(results.map((result) => [result.export, result]));
    assert.equal(byExport.greet.status, 'ok', JSON.stringify(byExport.greet.error));
    assert.equal(byExport.greet.output, 'hello, Ada');
    assert.equal(byExport.count.status, 'ok', JSON.stringify(byExport.count.error));
    assert.deepEqual(JSON.parse(byExport.count.output), { key: 'count:Ada', count: 1 });
    for (const result of results) {
      assert.equal(result.attempts, 1);
      assert.ok(result.fuelUsed > 0 && result.durationMs >= 0 && result.finishedAt);
      assert.equal(result.eventId, accepted.body.eventId);
    }
    const event = await api.http.get(`/v1/events/${accepted.body.eventId}`, { token: alice.key });
    assert.equal(event.status, 200);
    assert.deepEqual(event.body.invocations.map((invocation: { status: string }) => invocation.status), ['ok', 'ok']);
  });

  it('hands JSON payloads to plugins as JSON text', async () => {
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: { id: 'o-1' } } });
    const results = await Promise.all(accepted.body.invocations.map((invocation: { id: string }) => waitUntilFinished(api, alice.key, invocation.id)));
    const greet = results.find((result) => result.export === 'greet');
    assert.equal(greet.output, 'hello, {"id":"o-1"}');

    // Numbers reach the plugin with every digit sent: a payload with one a double cannot hold is taken as written in
    // the request (UTF-8, its byte-order mark dropped); any other is written from its parsed value.
    const received = async (data: Buffer | string, contentType = 'application/json') => {
      const sent = await api.http.post('/v1/events', { token: alice.key, rawBody: { data, contentType } });
      assert.equal(sent.status, 202, sent.text);
      const ran = await Promise.all(sent.body.invocations.map((invocation: { id: string }) => waitUntilFinished(api, alice.key, invocation.id)));
      return (ran.find((result) => result.export === 'greet').output as string).replace(/^hello, /, '');
    };
    const exact = '{"id":9007199254740993,"amount":1.10,"big":12345678901234567890123,"list":[1e2,-0]}';
    assert.equal(await received(`{"type":"order.created","payload":${exact}}`), exact);
    const spaced = '[ 0.12345678901234567 ,\n "é" ]';
    assert.equal(await received(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"type":"order.created", "payload": ${spaced}}`)])), spaced);
    assert.equal(await received('{"type":"order.created","payload":{"amount":1.10,"id":3}}'), '{"amount":1.1,"id":3}', 'as parsed: same values');
    // A name given twice (JSON.parse keeps the last without a word): as written, both, for the plugin to read.
    assert.equal(await received('{"type":"order.created","payload":{"amount":1.10,"id":1,"id":2}}'), '{"amount":1.10,"id":1,"id":2}');
    // And in an array first: the names after it are still read (a type given twice is refused).
    const twice = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: '{"payload":[{"a":1,"a":2}],"type":"order.created","type":"order.updated"}', contentType: 'application/json' } });
    assert.deepEqual([twice.status, twice.body.error?.details.issues], [400, [{ field: 'type', message: 'is given twice; give it once' }]], twice.text);
    // In UTF-16 with its byte-order mark (big-endian here), as the body parser reads it.
    const utf16 = Buffer.from('\ufeff{"type":"order.created","type":"order.updated"}', 'utf16le').swap16();
    const twiceIn16 = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: utf16, contentType: 'application/json; charset=utf-16' } });
    assert.deepEqual([twiceIn16.status, twiceIn16.body.error?.details.issues], [400, [{ field: 'type', message: 'is given twice; give it once' }]], twiceIn16.text);
    // Values a double turns into others without a trace (Infinity, 0, 1), a negative zero, and keys JavaScript reorders.
    for (const written of ['{"limit":1e400}', '[1e-400,1.0000000000000001,-0,-0.0]', '{"b":1,"10":2,"2":3}']) {
      assert.equal(await received(`{"type":"order.created","payload":${written}}`), written);
    }
    // Another charset is read as the body parser reads it, and as written all the same: every digit, a name given twice.
    assert.equal(await received(Buffer.from(`{"type":"order.created","payload":[9007199254740993]}`, 'utf16le'), 'application/json; charset=utf-16le'), '[9007199254740993]');
    assert.equal(await received(Buffer.from(`{"type":"order.created","payload":{"a":1,"a":2}}`, 'utf16le'), 'application/json; charset=utf-16le'), '{"a":1,"a":2}');
    // In a body over 1 MiB (here of escapes: a 200 KB payload) such a value is not read again as written: refused,
    // never handed over changed; sent as bytes, it reaches the plugin as it is.
    const padded = `{"id":9007199254740993,"pad":"${'\\u0041'.repeat(200_000)}"}`;
    const large = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: `{"type":"order.created","payload":${padded}}`, contentType: 'application/json' } });
    assert.deepEqual([large.status, large.body.error?.details.issues[0].field], [400, 'payload'], large.text.slice(0, 300));
    assert.match(large.body.error.message, /send it as payloadBase64/);
    const unescaped = `{"id":9007199254740993,"pad":"${'A'.repeat(200_000)}"}`;
    const asBytes = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from(unescaped).toString('base64') } });
    assert.equal(asBytes.status, 202, asBytes.text);
    // UTF-7 is no charset a JSON body is read in (a quote can be written +ACI- there): 415.
    const utf7 = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: '{"type":"order.created","payload":"A"}', contentType: 'application/json; charset=utf-7' } });
    assert.deepEqual([utf7.status, utf7.body.error.code], [415, 'unsupported_media_type'], utf7.text);
    // Nested a thousand deep, it is read as any other; deeper, whatever else it holds (a number read as written), or
    // deeper than the parsers recurse, a 400 that says how to send it.
    const nested = (depth: number, inner = '') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
    assert.equal(await received(`{"type":"order.created","payload":${nested(1000)}}`), nested(1000));
    for (const payload of [nested(1001), `{"id":9007199254740993,"deep":${nested(1000, '1e400')}}`, nested(20_000)]) {
      const deep = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: `{"type":"order.created","payload":${payload}}`, contentType: 'application/json' } });
      assert.equal(deep.status, 400, `${payload.slice(0, 40)}: ${deep.text}`);
      assert.match(deep.body.error.message, /payload: nests more than 1000 deep; send it as payloadBase64/);
    }
  });

  it('runs an event once per idempotency key', async () => {
    const send = () => api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from('Grace').toString('base64'), idempotencyKey: 'order-42' } });
    const first = await send();
    await Promise.all(first.body.invocations.map((invocation: { id: string }) => waitUntilFinished(api, alice.key, invocation.id)));
    assert.ok(first.body.invocations.length > 1, 'an event that fans out');
    for (let i = 0; i < 5; i++) {
      const again = await send();
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, first.body, 'the same event and invocations, in the same order');
    }
    assert.deepEqual((await api.http.get(`/v1/events/${first.body.eventId}`, { token: alice.key })).body.invocations.map((i: { id: string }) => i.id), first.body.invocations.map((i: { id: string }) => i.id));
    // The key sent with another event is a mistake, said as such: the new event is not dropped behind the first one's answer.
    for (const [body, differs] of [
      [{ type: 'order.cancelled', payloadBase64: Buffer.from('Grace').toString('base64') }, 'type'],
      [{ type: 'order.created', payloadBase64: Buffer.from('Hopper').toString('base64') }, 'payload'],
    ] as const) {
      const reused = await api.http.post('/v1/events', { token: alice.key, body: { ...body, idempotencyKey: 'order-42' } });
      assert.equal(reused.status, 409, reused.text);
      assert.equal(reused.body.error.code, 'idempotency_key_reused');
      assert.deepEqual(reused.body.error.details, { eventId: first.body.eventId, differs });
    }
    // The same JSON payload spaced otherwise is the same event; one a plugin would read otherwise is not.
    const sendAgain = (payload: string) =>
      api.http.post('/v1/events', { token: alice.key, rawBody: { data: `{ "idempotencyKey": "invoice-7", "payload": ${payload}, "type": "invoice.due" }`, contentType: 'application/json' } });
    const json = await sendAgain('{"a":"é","n":9007199254740993,"b":[1,2]}');
    assert.equal(json.status, 202, json.text);
    const respaced = await sendAgain('{ "a" : "\\u00e9",\n "n": 9007199254740993, "b": [ 1, 2 ] }');
    assert.equal(respaced.status, 202, respaced.text);
    assert.equal(respaced.body.eventId, json.body.eventId);
    for (const other of ['{ "a": "é", "n": 9007199254740992, "b": [1, 2] }', '{ "n": 9007199254740993, "a": "é", "b": [1, 2] }', '{ "a": "é", "n": 9007199254740993, "b": [1, 2.0] }']) {
      assert.equal((await sendAgain(other)).status, 409, other);
    }
    const other = await api.http.post('/v1/events', { token: bob.key, body: { type: 'order.created', idempotencyKey: 'order-42' } });
    assert.notEqual(other.body.eventId, first.body.eventId, 'keys are per tenant');
    const third = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from('Grace').toString('base64') } });
    const counted = (await Promise.all(third.body.invocations.map((i: { id: string }) => waitUntilFinished(api, alice.key, i.id)))).find((r) => r.export === 'count');
    assert.deepEqual(JSON.parse(counted.output), { key: 'count:Grace', count: 2 }, 'the replay ran nothing');
  });

  it('refuses a body that is not UTF-8, rather than read two keys as one', async () => {
    const bytes = (key: string) => Buffer.concat([Buffer.from('{"type":"order.created","payload":"a'), Buffer.from([0xff]), Buffer.from(`","idempotencyKey":"${key}`), Buffer.from([0xfe]), Buffer.from('"}')]);
    const refused = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: bytes('latin-'), contentType: 'application/json' } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'validation_failed');
    assert.equal(refused.body.error.message, 'The request body is not valid UTF-8: JSON bodies are UTF-8 text.');
    const named = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]), contentType: 'application/json; charset=utf-8' } });
    assert.equal(named.status, 400, 'everywhere JSON is read');
    // The same text in UTF-8 is taken.
    const taken = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: Buffer.from('{"name":"café"}'), contentType: 'application/json' } });
    assert.equal(taken.status, 201, taken.text);
    assert.equal(taken.body.name, 'café');
  });

  it('keeps plugin key-value data in the database, shared by the worker and the API', async () => {
    const tested = await api.http.post(`/v1/bindings/${counterBinding}/test`, { token: alice.key, body: { input: 'Grace' } });
    assert.deepEqual(JSON.parse(tested.body.output), { key: 'count:Grace', count: 3 }, 'the API sees what the worker counted');
    const stored = await api.database.prisma.pluginKvEntry.findMany({ where: { tenantId: alice.tenantId, key: 'count:Grace' } });
    assert.equal(Buffer.from(stored[0]!.value).toString(), '3');
  });

  it('invokes a plugin directly, waiting for the result or answering 202', async () => {
    const waited = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'greet', input: 'Zoe', wait: 10_000 } });
    assert.equal(waited.status, 200, waited.text);
    assert.equal(waited.body.status, 'ok');
    assert.equal(waited.body.output, 'hello, Zoe');
    assert.equal(waited.body.eventId, null);
    const queued = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'greet', inputBase64: Buffer.from('Yan').toString('base64') } });
    assert.equal(queued.status, 202);
    assert.equal(queued.body.status, 'queued');
    assert.equal((await waitUntilFinished(api, alice.key, queued.body.id)).output, 'hello, Yan');

    const noVersion = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'greet', version: 99 } });
    assert.equal(noVersion.status, 400, noVersion.text);
    assert.deepEqual(noVersion.body.error.details.issues, [{ field: 'version', message: 'the plugin has no version 99' }]);
    const noExport = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'nope' } });
    assert.equal(noExport.status, 400);
    assert.equal(noExport.body.error.details.issues[0].field, 'export');
    const tooBig = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'greet', input: 'x'.repeat(2 * 1024 * 1024) } });
    assert.equal(tooBig.status, 413);
    // Text with a lone surrogate has no UTF-8 form: refused, not handed over altered.
    const surrogate = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, rawBody: { data: '{"export":"greet","input":"\\ud800"}', contentType: 'application/json' } });
    assert.equal(surrogate.status, 400, surrogate.text);
    assert.equal(surrogate.body.error.details.issues[0].field, 'input');
    assert.match(surrogate.body.error.message, /lone surrogate/);
    // A call's config is bounded as a binding's is: 100 entries.
    const config = Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`key${index}`, 'value']));
    const tooManyKeys = await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: alice.key, body: { export: 'greet', config } });
    assert.deepEqual([tooManyKeys.status, tooManyKeys.body.error?.details.issues], [400, [{ field: 'config', message: 'at most 100 keys' }]], tooManyKeys.text);
    assert.equal((await api.http.post(`/v1/plugins/${greeter}/invoke`, { token: bob.key, body: { export: 'greet' } })).status, 404);
  });

  it('lists invocations newest first, by plugin, status and event, a page at a time', async () => {
    const byPlugin = await api.http.get(`/v1/invocations?pluginId=${greeter}&status=ok`, { token: alice.key });
    const typo = await api.http.get('/v1/invocations?status=plugin-error', { token: alice.key });
    assert.equal(typo.status, 400, 'a status no invocation can have is a mistake, not an empty list');
    assert.match(typo.body.error.message, /status: Invalid option: expected one of "queued"\|"running"\|"ok"\|/);
    assert.equal(byPlugin.status, 200);
    assert.ok(byPlugin.body.items.length >= 4);
    assert.ok(byPlugin.body.items.every((item: { pluginId: string; status: string }) => item.pluginId === greeter && item.status === 'ok'));
    const times = byPlugin.body.items.map((item: { createdAt: string }) => item.createdAt);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    // Page by page, the same invocations in the same order as in one listing.
    const paged: string[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages++) {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api.http.get(
        `/v1/invocations?pluginId=${greeter}&status=ok&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        { token: alice.key },
      );
      paged.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    }
    assert.deepEqual(paged, byPlugin.body.items.map((item: { id: string }) => item.id));
    // A cursor is a place in the list, not a row: an id is none, and a cursor holds when its row is deleted meanwhile.
    const bare = await api.http.get(`/v1/invocations?limit=1&cursor=${paged[0]}`, { token: alice.key });
    assert.equal(bare.status, 400, bare.text);
    assert.equal(bare.body.error.details.issues[0].field, 'cursor');
    const first = await api.http.get(`/v1/invocations?pluginId=${greeter}&status=ok&limit=1`, { token: alice.key });
    await api.database.prisma.invocation.delete({ where: { id: first.body.items[0].id } });
    const next = await api.http.get(`/v1/invocations?pluginId=${greeter}&status=ok&limit=1&cursor=${first.body.nextCursor}`, { token: alice.key });
    assert.equal(next.status, 200, next.text);
    assert.deepEqual(next.body.items.map((item: { id: string }) => item.id), [paged[1]]);
    // Dates the database cannot compare with are refused (ISO 8601 has a year 0000; PostgreSQL does not).
    for (const [path, field] of [
      ['/v1/invocations?since=0000-01-01T00:00:00Z', 'since'],
      ['/v1/logs?since=0000-01-01T00:00:00Z', 'since'],
      ['/v1/audit?before=0000-01-01T00:00:00Z', 'before'],
      ['/v1/usage?from=0000-01-01&to=0000-12-01', 'from'],
    ] as const) {
      const refused = await api.http.get(path, { token: alice.key });
      assert.equal(refused.status, 400, `${path}: ${refused.text}`);
      assert.equal(refused.body.error.details.issues[0].field, field);
    }
    // An instant may be written with an offset, as many languages write them: the same instant, the same answer.
    const inUtc = await api.http.get(`/v1/invocations?pluginId=${greeter}&since=2000-01-01T00:00:00Z`, { token: alice.key });
    const withOffset = await api.http.get(`/v1/invocations?pluginId=${greeter}&since=${encodeURIComponent('2000-01-01T05:00:00+05:00')}`, { token: alice.key });
    assert.equal(withOffset.status, 200, withOffset.text);
    assert.deepEqual(withOffset.body.items, inUtc.body.items);
    const zoneless = await api.http.get('/v1/invocations?since=2000-01-01T00:00:00', { token: alice.key });
    assert.equal(zoneless.status, 400, 'a time without a zone names no instant');
    assert.match(zoneless.body.error.message, /with its time zone/);
    // Only `to`, near the first year: the default 30 days before it stop at the first day the database holds.
    const early = await api.http.get('/v1/usage?to=0001-01-10', { token: alice.key });
    assert.equal(early.status, 200, early.text);
    assert.equal(early.body.from, '0001-01-01');
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created' } });
    const byEvent = await api.http.get(`/v1/invocations?event=${accepted.body.eventId}`, { token: alice.key });
    assert.deepEqual(byEvent.body.items.map((item: { id: string }) => item.id).sort(), accepted.body.invocations.map((item: { id: string }) => item.id).sort());
    assert.deepEqual((await api.http.get(`/v1/invocations?event=${accepted.body.eventId}`, { token: bob.key })).body.items, []);
  });

  it('streams results as Server-Sent Events until done', async () => {
    const readStream = async (path: string) => {
      const response = await fetch(`${api.baseUrl}${path}`, { headers: { authorization: `Bearer ${alice.key}` } });
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const text = await response.text(); // ends when the server closes the stream after "done"
      return [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((match) => ({ event: match[1]!, data: JSON.parse(match[2]!) }));
    };
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from('Sam').toString('base64') } });
    const eventStream = await readStream(`/v1/events/${accepted.body.eventId}/stream`);
    assert.deepEqual(eventStream.map((entry) => entry.event), ['invocation', 'invocation', 'done']);
    assert.ok(eventStream.slice(0, 2).every((entry) => entry.data.status === 'ok'));
    const one = await readStream(`/v1/invocations/${accepted.body.invocations[0].id}/stream`);
    assert.deepEqual(one.map((entry) => entry.event), ['status', 'done']);
    assert.equal(one[0]!.data.status, 'ok');
    assert.equal((await api.http.get(`/v1/events/${accepted.body.eventId}/stream`, { token: bob.key })).status, 404);
    assert.equal((await api.http.get(`/v1/invocations/${accepted.body.invocations[0].id}/stream`, { token: bob.key })).status, 404);

    // An invocation deleted while followed (its tenant's retention ran) ends the stream with `gone`.
    const { prisma } = api.database;
    const waiting = await prisma.invocation.create({ data: { tenantId: alice.tenantId, pluginId: greeter, version: 1, exportName: 'greet', status: 'queued' } });
    const following = readSse(`${api.baseUrl}/v1/invocations/${waiting.id}/stream`, alice.key);
    try {
      await following.until((events) => events.some((entry) => entry.event === 'status'), 5_000);
      await prisma.invocation.delete({ where: { id: waiting.id } });
      const events = await following.until((received) => received.some((entry) => entry.event === 'done'), 5_000);
      assert.deepEqual(events.map((entry) => entry.event), ['status', 'gone', 'done']);
    } finally {
      following.close();
    }

    // So does an event deleted while followed, after some of its results were sent.
    const event = await prisma.event.create({ data: { tenantId: alice.tenantId, type: 'order.created', payload: Buffer.from('"x"') } });
    const run = { tenantId: alice.tenantId, pluginId: greeter, version: 1, exportName: 'greet', eventId: event.id };
    await prisma.invocation.create({ data: { ...run, status: 'ok', finishedAt: new Date() } });
    await prisma.invocation.create({ data: { ...run, status: 'queued' } });
    const followingEvent = readSse(`${api.baseUrl}/v1/events/${event.id}/stream`, alice.key);
    try {
      await followingEvent.until((events) => events.some((entry) => entry.event === 'invocation'), 5_000);
      await prisma.invocation.deleteMany({ where: { eventId: event.id } });
      await prisma.event.delete({ where: { id: event.id } });
      const events = await followingEvent.until((received) => received.some((entry) => entry.event === 'done'), 5_000);
      assert.deepEqual(events.map((entry) => entry.event), ['invocation', 'gone', 'done']);
    } finally {
      followingEvent.close();
    }

    // An event whose finished invocation retention deleted while a replay of it still runs is followed to the replay's end.
    const kept = await prisma.event.create({ data: { tenantId: alice.tenantId, type: 'order.created', payload: Buffer.from('"y"') } });
    const keptRun = { ...run, eventId: kept.id };
    const first = await prisma.invocation.create({ data: { ...keptRun, status: 'host_error', finishedAt: new Date(), deadLetteredAt: new Date() } });
    const replay = await prisma.invocation.create({ data: { ...keptRun, status: 'queued', replayOf: first.id } });
    const followingKept = readSse(`${api.baseUrl}/v1/events/${kept.id}/stream`, alice.key);
    try {
      await followingKept.until((events) => events.some((entry) => entry.event === 'invocation'), 5_000);
      await prisma.invocation.delete({ where: { id: first.id } });
      await new Promise((resolve) => setTimeout(resolve, 500)); // a few polls
      await prisma.invocation.update({ where: { id: replay.id }, data: { status: 'ok', finishedAt: new Date() } });
      const events = await followingKept.until((received) => received.some((entry) => entry.event === 'done'), 5_000);
      assert.deepEqual(
        events.map((entry) => [entry.event, entry.event === 'invocation' ? (entry.data as { id: string }).id : null]),
        [['invocation', first.id], ['invocation', replay.id], ['done', null]],
      );
    } finally {
      followingKept.close();
    }
  });

  it('reports usage per day, to the tenant and to admins', async () => {
    // Let everything sent so far finish, so the two views below see the same invocations.
    for (let tries = 0; tries < 200; tries++) {
      const pending = await Promise.all(['queued', 'running'].map((status) => api.http.get(`/v1/invocations?status=${status}`, { token: alice.key })));
      if (pending.every((response) => response.body.items.length === 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const usage = await api.http.get('/v1/usage', { token: alice.key });
    assert.equal(usage.status, 200, usage.text);
    const today = new Date().toISOString().slice(0, 10);
    const day = usage.body.days.find((entry: { day: string }) => entry.day === today);
    const listed = await api.http.get('/v1/invocations?limit=200', { token: alice.key });
    assert.equal(listed.body.nextCursor, null, 'every invocation on one page');
    const finished = listed.body.items as Array<{ status: string; fuelUsed: number }>;
    assert.equal(day.invocations.ok, finished.filter((item) => item.status === 'ok').length);
    assert.equal(day.fuel, finished.reduce((sum, item) => sum + item.fuelUsed, 0), 'the fuel of every run, failed ones too');
    assert.ok(day.runMs > 0);
    const asAdmin = await api.http.get(`/v1/admin/tenants/${alice.tenantId}/usage`, { token: api.adminToken });
    assert.deepEqual(asAdmin.body, usage.body);
    assert.deepEqual((await api.http.get('/v1/usage', { token: bob.key })).body.days.filter((entry: { invocations: { ok?: number } }) => entry.invocations.ok), []);
    assert.equal((await api.http.get('/v1/usage?from=2026-02-01&to=2026-01-01', { token: alice.key })).status, 400);
    // A refusal names the date sent, and what the other was taken to be.
    const tooLong = await api.http.get('/v1/usage?from=2020-01-01', { token: alice.key });
    assert.deepEqual(tooLong.body.error.details.issues.map((issue: { field: string }) => issue.field), ['from']);
    assert.match(tooLong.body.error.message, /at most 366 days before to \(by default tomorrow, \d{4}-\d\d-\d\d\)/);
    const beforeAll = await api.http.get('/v1/usage?to=0001-01-01', { token: alice.key });
    assert.deepEqual(beforeAll.body.error.details.issues, [{ field: 'to', message: 'must be after 0001-01-01, the first day kept' }]);
    // A date in another format is told its format, and only that.
    for (const from of ['2026-1-1', '20261201', '2026-12-01T00:00:00Z']) {
      const misformatted = await api.http.get(`/v1/usage?from=${from}`, { token: alice.key });
      assert.equal(misformatted.status, 400, from);
      assert.deepEqual(misformatted.body.error.details.issues.map((issue: { message: string }) => issue.message), ['must be a date, YYYY-MM-DD'], from);
    }
    assert.deepEqual((await api.http.get('/v1/usage?from=0000-06-01', { token: alice.key })).body.error.details.issues.map((issue: { message: string }) => issue.message), ['must be in the years 0001 to 9999']);
    assert.equal((await api.http.get(`/v1/admin/tenants/${alice.tenantId}/usage`, { token: alice.key })).status, 403);
  });

  it('accepts events nothing is bound to, validates, and keeps tenants apart', async () => {
    const unbound = await api.http.post('/v1/events', { token: alice.key, body: { type: 'invoice.due' } });
    assert.equal(unbound.status, 202);
    assert.deepEqual(unbound.body.invocations, []);
    // Bound since, the type plans a run at once (what is cached of a tenant's bound types goes with the change).
    const bound = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'invoice.due', pluginId: greeter, export: 'greet' } });
    assert.equal(bound.status, 201, bound.text);
    const planned = await api.http.post('/v1/events', { token: alice.key, body: { type: 'invoice.due', payload: 'due' } });
    assert.deepEqual(planned.body.invocations.map((invocation: { bindingId: string }) => invocation.bindingId), [bound.body.id]);
    assert.equal((await waitUntilFinished(api, alice.key, planned.body.invocations[0].id)).output, 'hello, "due"');
    assert.equal((await api.http.delete(`/v1/bindings/${bound.body.id}`, { token: alice.key })).status, 204);
    assert.deepEqual((await api.http.post('/v1/events', { token: alice.key, body: { type: 'invoice.due' } })).body.invocations, [], 'unbound again');
    const invalid = await api.http.post('/v1/events', { token: alice.key, body: { type: 'Not An Event' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details.issues[0].field, 'type');
    const both = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 1, payloadBase64: 'AA==' } });
    assert.equal(both.status, 400);

    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created' } });
    assert.equal((await api.http.get(`/v1/events/${accepted.body.eventId}`, { token: bob.key })).status, 404);
    assert.equal((await api.http.get(`/v1/invocations/${accepted.body.invocations[0].id}`, { token: bob.key })).status, 404);
    assert.equal((await api.http.get(`/v1/invocations/${accepted.body.invocations[0].id}`)).status, 401);
  });

  it("records a plugin's error message with a NUL in it, and the results written alongside it", async () => {
    // Text columns cannot hold U+0000: the message keeps it as a visible escape, and other tenants' results that
    // shared the statement are not failed with it.
    const nulError = wat(`(module
      (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
      (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
      (import "extism:host/env" "error_set" (func $error_set (param i64)))
      (func (export "fail") (result i32) (local $message i64)
        (local.set $message (call $alloc (i64.const 3)))
        (call $store_u8 (local.get $message) (i32.const 0x78))
        (call $store_u8 (i64.add (local.get $message) (i64.const 1)) (i32.const 0))
        (call $store_u8 (i64.add (local.get $message) (i64.const 2)) (i32.const 0x79))
        (call $error_set (local.get $message))
        (i32.const 1)))`);
    const carol = await createTenantSession(api, 'Carol');
    await api.http.request('PUT', `/v1/admin/tenants/${carol.tenantId}/quota`, { token: api.adminToken, body: { tier: 'standard' } });
    await publishAndBind(api, carol, { name: 'nul-error', template: '', wasm: nulError, event: 'order.failed', exportName: 'fail' });
    const emit = (session: TenantSession, type: string) => api.http.post('/v1/events', { token: session.key, body: { type, payload: 'Nul' } });
    const accepted = await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 === 0 ? emit(carol, 'order.failed') : emit(alice, 'order.created'))));
    const finished = await Promise.all(
      accepted.flatMap((response, n) => {
        assert.equal(response.status, 202, response.text);
        const session = n % 2 === 0 ? carol : alice;
        return response.body.invocations.map((invocation: { id: string }) => waitUntilFinished(api, session.key, invocation.id));
      }),
    );
    for (const result of finished) {
      if (result.export === 'fail') {
        assert.equal(result.status, 'plugin_error');
        assert.equal(result.error.message, 'x\\u0000y');
      } else {
        assert.equal(result.status, 'ok', JSON.stringify(result.error));
      }
      assert.equal(result.attempts, 1, 'written at the first attempt');
    }
  });
});
