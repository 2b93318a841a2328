import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileSource } from '../support/pdk.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { readSse } from '../support/sse.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

// Logs one line per level, naming its input; the free tier keeps info and above.
const CHATTY = `import { Host, Log } from "@airlock/plugin-pdk";
export function talk(): i32 {
  const name = Host.inputString();
  Log.debug("debug " + name);
  Log.info("info " + name);
  Log.warn("warn " + name);
  Log.error("error " + name);
  Host.outputString("ok");
  return 0;
}
`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('plugin logs: searched and tailed across invocations', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let bob: TenantSession;
  let pluginId: string;

  before(async () => {
    // Three streams a tenant: enough for each test here, and a fourth shows the cap.
    api = await startApi({ env: { AIRLOCK_STREAMS_PER_TENANT: '3' } });
    worker = await startWorker(api);
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
    ({ pluginId } = await publishAndBind(api, alice, { name: 'chatty', template: '', wasm: await compileSource(CHATTY), event: 'chat.said', exportName: 'talk' }));
  });
  after(async () => {
    await worker.close();
    await api.close();
  });

  async function emitAndWait(name: string): Promise<string> {
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'chat.said', payloadBase64: Buffer.from(name).toString('base64') } });
    const id = accepted.body.invocations[0].id as string;
    assert.equal((await waitUntilFinished(api, alice.key, id)).status, 'ok');
    return id;
  }

  it('finds lines by plugin and level, oldest first, in pages, for their tenant only', async () => {
    const first = await emitAndWait('first');
    const second = await emitAndWait('second');
    const invocation = (await api.http.get(`/v1/invocations/${first}`, { token: alice.key })).body;
    assert.deepEqual(invocation.logs.map((line: { level: string }) => line.level), ['info', 'warn', 'error'], 'the tier keeps info and above, shown on the invocation');

    const all = await api.http.get(`/v1/logs?pluginId=${pluginId}`, { token: alice.key });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.items.map((entry: { message: string }) => entry.message), ['info first', 'warn first', 'error first', 'info second', 'warn second', 'error second']);
    assert.deepEqual(
      all.body.items.map((entry: { invocationId: string; line: number }) => [entry.invocationId, entry.line]),
      [[first, 0], [first, 1], [first, 2], [second, 0], [second, 1], [second, 2]],
    );
    const at = Date.parse(all.body.items[0].at);
    assert.ok(at >= Date.parse(invocation.startedAt) && at <= Date.parse(invocation.finishedAt), 'a line is timed within its run');

    const warnings = await api.http.get(`/v1/logs?pluginId=${pluginId}&level=warn`, { token: alice.key });
    assert.deepEqual(warnings.body.items.map((entry: { message: string }) => entry.message), ['warn first', 'error first', 'warn second', 'error second']);

    const page1 = await api.http.get(`/v1/logs?pluginId=${pluginId}&limit=4`, { token: alice.key });
    assert.equal(page1.body.items.length, 4);
    const page2 = await api.http.get(`/v1/logs?pluginId=${pluginId}&limit=4&cursor=${page1.body.nextCursor}`, { token: alice.key });
    assert.deepEqual(page2.body.items.map((entry: { message: string }) => entry.message), ['warn second', 'error second']);
    assert.equal(page2.body.nextCursor, null);
    // A page that ends exactly at the last line says so: no empty page after it.
    const exact = await api.http.get(`/v1/logs?pluginId=${pluginId}&limit=3&cursor=${page1.body.nextCursor}`, { token: alice.key });
    assert.equal(exact.body.items.length, 2);
    const whole = await api.http.get(`/v1/logs?pluginId=${pluginId}&limit=6`, { token: alice.key });
    assert.equal(whole.body.items.length, 6);
    assert.equal(whole.body.nextCursor, null, 'the last page has no next page');

    const later = await api.http.get(`/v1/logs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: alice.key });
    assert.deepEqual(later.body.items, []);

    assert.deepEqual((await api.http.get('/v1/logs', { token: bob.key })).body.items, [], "another tenant sees none of Alice's lines");
    assert.deepEqual((await api.http.get(`/v1/logs?pluginId=${pluginId}`, { token: bob.key })).body.items, []);
    // A cursor is what a page's nextCursor says, not anything like it: its time as this API writes times.
    const cursor = (f: unknown) => `cursor=${Buffer.from(JSON.stringify({ f, i: randomUUID(), l: 0 })).toString('base64url')}`;
    assert.equal((await api.http.get(`/v1/logs?${cursor('2026-12-03T10:00:00.000Z')}`, { token: alice.key })).status, 200);
    const tampered = [cursor('1'), cursor('2026'), cursor('Tue, 01 Dec 2026 00:00:00 GMT'), cursor('0000-01-01T00:00:00Z')];
    for (const bad of ['level=loud', 'cursor=nonsense', 'limit=0', 'since=yesterday', 'pluginId=42', 'extra=1', ...tampered]) {
      const response = await api.http.get(`/v1/logs?${bad}`, { token: alice.key });
      assert.equal(response.status, 400, bad);
      assert.equal(response.body.error.code, 'validation_failed', bad);
    }
    assert.equal((await api.http.get('/v1/logs')).status, 401);
  });

  it('reads a bounded number of invocations a page: a search that matches little pages on, short, to the end', async () => {
    // A tenant with many quiet runs (info lines only), then one error, all written as finished runs are.
    const carol = await createTenantSession(api, 'Carol');
    const quiet = (n: number) => ({
      tenantId: carol.tenantId, pluginId, version: 1, exportName: 'talk', status: 'ok',
      finishedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000), logs: [{ level: 'info', message: `quiet ${n}`, atMs: 0 }],
    });
    await api.database.prisma.invocation.createMany({ data: Array.from({ length: 2_500 }, (_, n) => quiet(n)) });
    const loud = await api.database.prisma.invocation.create({ data: { ...quiet(3_000), logs: [{ level: 'error', message: 'the one error', atMs: 0 }] } });

    const first = await api.http.get('/v1/logs?level=error&limit=10', { token: carol.key });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.items, [], 'no error among the invocations this page read');
    assert.ok(first.body.nextCursor, 'and more to read');
    const pages = [first.body];
    while (pages.at(-1).nextCursor !== null && pages.length < 10) {
      pages.push((await api.http.get(`/v1/logs?level=error&limit=10&cursor=${pages.at(-1).nextCursor}`, { token: carol.key })).body);
    }
    assert.equal(pages.at(-1).nextCursor, null, 'the pages end');
    assert.deepEqual(pages.flatMap((page) => page.items.map((entry: { invocationId: string; message: string }) => [entry.invocationId, entry.message])), [[loud.id, 'the one error']]);
    // Every quiet line is found too, each once, across pages that read so many invocations each.
    const infos: string[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page: { items: Array<{ message: string }>; nextCursor: string | null } = (await api.http.get(`/v1/logs?level=info&limit=200${cursor === '' ? '' : `&cursor=${cursor}`}`, { token: carol.key })).body;
      infos.push(...page.items.map((entry) => entry.message));
      cursor = page.nextCursor;
    }
    assert.equal(infos.length, 2_501);
    assert.equal(new Set(infos).size, 2_501);
  });

  it("tails new lines as Server-Sent Events, and none of them to another tenant", async () => {
    const stream = readSse(`${api.baseUrl}/v1/logs/stream?pluginId=${pluginId}&level=error`, alice.key);
    // Bob follows everything of his, and Alice's plugin by id: neither shows him Alice's lines.
    const bobsStreams = [readSse(`${api.baseUrl}/v1/logs/stream`, bob.key), readSse(`${api.baseUrl}/v1/logs/stream?pluginId=${pluginId}`, bob.key)];
    for (const following of [stream, ...bobsStreams]) assert.equal(await following.opened, 200, 'following from before the line');
    await emitAndWait('tailed');
    const events = await stream.until((received) => received.some((event) => event.event === 'log'), 10_000);
    stream.close();
    const lines = events.filter((event) => event.event === 'log').map((event) => (event.data as { message: string }).message);
    assert.deepEqual(lines, ['error tailed'], 'only new lines, at the level asked');
    await sleep(500); // a poll or more after Alice's stream had the line
    for (const bobs of bobsStreams) {
      bobs.close();
      assert.deepEqual((await bobs.until(() => true, 0)).filter((event) => event.event === 'log'), []);
    }
  });

  it("keeps a tenant to its open streams, without touching another tenant's", async () => {
    const streams = Array.from({ length: 3 }, () => readSse(`${api.baseUrl}/v1/logs/stream`, alice.key));
    try {
      assert.deepEqual(await Promise.all(streams.map((stream) => stream.opened)), [200, 200, 200]);
      const fourth = await api.http.get('/v1/logs/stream', { token: alice.key });
      assert.equal(fourth.status, 429, fourth.text);
      assert.equal(fourth.body.error.code, 'quota_exceeded');
      assert.deepEqual(fourth.body.error.details, { limit: 'streams', max: 3, retryAfterSeconds: 5 });
      assert.equal(fourth.headers.get('retry-after'), '5');
      assert.equal((await api.http.get(`/v1/invocations/00000000-0000-4000-8000-000000000000/stream`, { token: alice.key })).status, 404, 'an unknown id is still a 404');
      const bobs = readSse(`${api.baseUrl}/v1/logs/stream`, bob.key);
      assert.equal(await bobs.opened, 200, "Alice's streams do not count against Bob");
      bobs.close();
      // A stream closed by its client frees its place once the server sees it go.
      streams.pop()!.close();
      let again = 0;
      for (let tries = 0; tries < 50 && again !== 200; tries++) {
        const next = readSse(`${api.baseUrl}/v1/logs/stream`, alice.key);
        again = await next.opened;
        if (again === 200) streams.push(next);
        else await sleep(100);
      }
      assert.equal(again, 200);
    } finally {
      for (const stream of streams) stream.close();
    }
    // Clients that leave at once, while the route still looks up what they follow, hold no place afterwards.
    const invocation = await emitAndWait('left at once');
    const url = new URL(`${api.baseUrl}/v1/invocations/${invocation}/stream`);
    for (let n = 0; n < 30; n++) {
      const socket = connect(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${alice.key}\r\n\r\n`, () => socket.destroy());
    }
    // Once the server has seen them go (each still looks its invocation up first: on a busy machine, a while), all
    // three places are free again; one held for good would keep the third a 429 however long this waits.
    let statuses: number[] = [];
    for (let tries = 0; tries < 50; tries++) {
      const afterwards = Array.from({ length: 3 }, () => readSse(`${api.baseUrl}/v1/logs/stream`, alice.key));
      try {
        statuses = await Promise.all(afterwards.map((stream) => stream.opened));
      } finally {
        for (const stream of afterwards) stream.close();
      }
      if (statuses.every((status) => status === 200)) break;
      await sleep(200);
    }
    assert.deepEqual(statuses, [200, 200, 200]);
  });

  it('ends a stream once the key it was opened with is revoked, sending nothing after', async () => {
    const second = await api.http.post(`/v1/admin/tenants/${alice.tenantId}/keys`, { token: api.adminToken, body: { name: 'short-lived' } });
    const stream = readSse(`${api.baseUrl}/v1/logs/stream?pluginId=${pluginId}&level=error`, second.body.key);
    try {
      assert.equal(await stream.opened, 200);
      await api.http.delete(`/v1/admin/tenants/${alice.tenantId}/keys/${second.body.id}`, { token: api.adminToken });
      const events = await stream.until((received) => received.some((event) => event.event === 'unauthenticated'), 10_000);
      await emitAndWait('after revoking');
      await sleep(500);
      assert.deepEqual(events.filter((event) => event.event === 'log'), [], 'no line after the key was revoked');
      assert.deepEqual((events.at(-1)!.data as { reason: string }).reason, 'The API key this stream was opened with was revoked.');
      assert.equal(events.filter((event) => event.event === 'log' || event.event === 'done').length, 0);
    } finally {
      stream.close();
    }
  });

  it('tails a line whose outcome was committed after a later one (a worker stamps the finish, then writes)', async () => {
    const stream = readSse(`${api.baseUrl}/v1/logs/stream?pluginId=${pluginId}&level=error`, alice.key);
    const message = (event: { data: unknown }) => (event.data as { message?: string } | null)?.message;
    try {
      await sleep(1500); // the stream follows what finishes from now on: the late line below is stamped within that
      const first = await emitAndWait('on time');
      await stream.until((received) => received.some((event) => message(event) === 'error on time'), 10_000);
      // Another worker's outcome, stamped a second before that one, commits only now.
      const finishedAt = new Date((await api.http.get(`/v1/invocations/${first}`, { token: alice.key })).body.finishedAt);
      await api.database.prisma.invocation.create({
        data: {
          tenantId: alice.tenantId,
          pluginId,
          version: 1,
          exportName: 'talk',
          status: 'ok',
          startedAt: new Date(finishedAt.getTime() - 1100),
          finishedAt: new Date(finishedAt.getTime() - 1000),
          logs: [{ level: 'error', message: 'error late', atMs: 1 }],
        },
      });
      const events = await stream.until((received) => received.some((event) => message(event) === 'error late'), 10_000);
      await sleep(500); // later polls read the same window again: nothing is sent twice
      assert.deepEqual(events.filter((event) => event.event === 'log').map(message), ['error on time', 'error late']);
    } finally {
      stream.close();
    }
  });
});

describe('streams that last longer than AIRLOCK_STREAM_MAX_MS', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  before(async () => {
    api = await startApi({ env: { AIRLOCK_STREAM_MAX_MS: '1000' } });
    alice = await createTenantSession(api, 'Alice');
  });
  after(() => api.close());

  it('end with a timeout event that says to reconnect, not silently', async () => {
    const stream = readSse(`${api.baseUrl}/v1/logs/stream`, alice.key);
    try {
      assert.equal(await stream.opened, 200);
      const opened = Date.now();
      const events = await stream.until((received) => received.some((event) => event.event === 'timeout'), 5_000);
      const { since, ...rest } = events.at(-1)!.data as { since: string };
      assert.deepEqual({ event: events.at(-1)!.event, data: rest }, { event: 'timeout', data: { reconnect: true, afterMs: 1000 } });
      // Where to open the stream again: everything before was sent (the stream began at its opening, nothing before).
      assert.ok(Date.parse(since) <= Date.now() && Date.parse(since) >= opened - 10_000, since);
    } finally {
      stream.close();
    }
  });
});
