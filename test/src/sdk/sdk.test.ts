import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AirlockClient, AirlockError, verifyWebhook, WebhookVerificationError } from '@airlock/sdk';
import { isPrivateAddress } from '@airlock/sandbox';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

/** The host app's side: @airlock/sdk against a real API and worker. */
describe('the SDK', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let pluginId: string;
  let airlock: AirlockClient;
  let receiver: Server;
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];

  before(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Few streams a tenant may have open at once: a wait that leaves its stream open would soon be refused one.
    api = await startApi({ env: { AIRLOCK_STREAMS_PER_TENANT: '4' } });
    worker = await startWorker(api, {
      // The receiver runs on this machine: its test name may reach loopback.
      webhookHttp: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (address, host) => host === 'hooks.example.test' || !isPrivateAddress(address) },
    });
    alice = await createTenantSession(api, 'Alice');
    ({ pluginId } = await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' }));
    airlock = new AirlockClient({ baseUrl: `${api.baseUrl}/`, apiKey: alice.key });
  });
  after(async () => {
    await worker?.close();
    await api?.close();
    receiver?.close();
  });

  it('sends an event and waits for its results', async () => {
    const accepted = await airlock.sendEvent({ type: 'order.created', payload: { name: 'Ada' } });
    assert.equal(accepted.invocations.length, 1);
    const seen: string[] = [];
    const results = await airlock.waitForResults(accepted.eventId, { timeoutMs: 15_000, onResult: (invocation) => seen.push(invocation.id) });
    assert.deepEqual(results.map((invocation) => [invocation.status, invocation.output]), [['ok', 'hello, {"name":"Ada"}']]);
    assert.deepEqual(seen, [accepted.invocations[0]!.id]);
    // What the caller's own callback throws reaches the caller as it was thrown.
    const thrown = await airlock.waitForResults(accepted.eventId, { timeoutMs: 15_000, onResult: () => JSON.parse('not json') }).catch((error: unknown) => error);
    assert.ok(thrown instanceof SyntaxError, String(thrown));
    assert.equal((await airlock.getEvent(accepted.eventId)).invocations[0]!.status, 'ok');
    // An event nothing is bound to has no results to wait for.
    const unbound = await airlock.sendEvent({ type: 'order.cancelled', payloadBytes: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(await airlock.waitForResults(unbound.eventId, { timeoutMs: 5_000 }), []);
  });

  it('calls a plugin directly and follows the invocation until it finishes', async () => {
    const queued = await airlock.invoke(pluginId, { export: 'greet', input: 'Grace' });
    assert.equal(queued.status, 'queued');
    const finished = await airlock.waitForInvocation(queued.id, { timeoutMs: 15_000 });
    assert.deepEqual([finished.status, finished.output], ['ok', 'hello, Grace']);
    const waited = await airlock.invoke(pluginId, { export: 'greet', inputBytes: new TextEncoder().encode('Bytes'), wait: 10_000 });
    assert.deepEqual([waited.status, 'output' in waited ? waited.output : null], ['ok', 'hello, Bytes']);
  });

  it('opens a stream again when it breaks off, and refuses an answer that is not a stream', async () => {
    // A proxy in front of the API that cuts the first stream it carries before a byte of it, and answers an HTML page
    // for the events of one id, as a misconfigured proxy would.
    let streams = 0;
    const proxy = createServer((request, response) => {
      if (request.url?.startsWith('/v1/events/00000000-0000-4000-8000-00000000beef/')) return response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      if (request.url?.startsWith('/v1/invocations/00000000-0000-4000-8000-00000000beef/')) {
        return response.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: status\ndata: <html>login</html>\n\n');
      }
      const upstream = httpRequest(`${api.baseUrl}${request.url}`, { method: request.method, headers: request.headers }, (answer) => {
        if (request.url?.includes('/stream') && ++streams === 1) {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.flushHeaders();
          setTimeout(() => response.destroy(), 50);
          return answer.destroy();
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const viaProxy = new AirlockClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, apiKey: alice.key });
      const accepted = await viaProxy.sendEvent({ type: 'order.created', idempotencyKey: 'no-payload' });
      const [result] = await viaProxy.waitForResults(accepted.eventId, { timeoutMs: 15_000 });
      assert.deepEqual([result!.status, result!.output], ['ok', 'hello, '], 'no payload: the plugin reads empty input');
      assert.equal(streams, 2, 'the stream was opened again after it broke off');
      const notAStream = await viaProxy.waitForResults('00000000-0000-4000-8000-00000000beef', { timeoutMs: 5_000 }).catch((error: unknown) => error);
      assert.equal((notAStream as AirlockError).code, 'unexpected_response');
      const notJson = await viaProxy.waitForInvocation('00000000-0000-4000-8000-00000000beef', { timeoutMs: 5_000 }).catch((error: unknown) => error);
      assert.ok(notJson instanceof AirlockError && notJson.code === 'unexpected_response', String(notJson));
      assert.match(notJson.message, /Expected JSON in the status event of .*, got: <html>login<\/html>/);
      // A wait is cancelled by its signal.
      const cancelled = await viaProxy.waitForResults(accepted.eventId, { signal: AbortSignal.abort() }).catch((error: unknown) => error);
      assert.equal((cancelled as Error).name, 'AbortError');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('ends a wait with not_found when what it waits for is deleted meanwhile', async () => {
    const { prisma } = api.database;
    const event = await prisma.event.create({ data: { tenantId: alice.tenantId, type: 'order.created', payload: Buffer.from('"x"') } });
    const run = await prisma.invocation.create({ data: { tenantId: alice.tenantId, pluginId, version: 1, exportName: 'greet', eventId: event.id, status: 'queued' } });
    // Settled together from the start: one ends while the other's row is still being deleted.
    const waits = Promise.allSettled([airlock.waitForResults(event.id, { timeoutMs: 15_000 }), airlock.waitForInvocation(run.id, { timeoutMs: 15_000 })]);
    await new Promise((resolve) => setTimeout(resolve, 500)); // both streams opened
    await prisma.invocation.delete({ where: { id: run.id } });
    await prisma.event.delete({ where: { id: event.id } });
    const ended = await waits;
    for (const outcome of ended) {
      assert.equal(outcome.status, 'rejected');
      const error = (outcome as PromiseRejectedResult).reason as unknown;
      assert.ok(error instanceof AirlockError && error.code === 'not_found' && /was deleted/.test(error.message), String(error));
    }
  });

  it('ends a wait at its deadline or by its signal while its stream is open, and closes that stream', async () => {
    const { prisma } = api.database;
    // Queued without a job: it never finishes, and its stream stays open until the wait ends it.
    const event = await prisma.event.create({ data: { tenantId: alice.tenantId, type: 'order.created', payload: Buffer.from('"x"') } });
    const stuck = await prisma.invocation.create({ data: { tenantId: alice.tenantId, pluginId, version: 1, exportName: 'greet', eventId: event.id, status: 'queued' } });
    try {
      const started = Date.now();
      const late = await airlock.waitForInvocation(stuck.id, { timeoutMs: 300 }).catch((error: unknown) => error);
      assert.ok(late instanceof AirlockError && late.code === 'timeout', String(late));
      assert.ok(Date.now() - started < 5_000, `at its deadline, not when Airlock ends the stream (${Date.now() - started} ms)`);
      const stop = new AbortController();
      setTimeout(() => stop.abort(new Error('no longer wanted')), 300);
      const cancelled = await airlock.waitForResults(event.id, { timeoutMs: 60_000, signal: stop.signal }).catch((error: unknown) => error);
      assert.equal((cancelled as Error).message, 'no longer wanted');
      // More waits than the tenant may have streams open, one after another: each closed its own.
      for (let n = 0; n < 6; n++) await airlock.waitForInvocation(stuck.id, { timeoutMs: 150 }).catch(() => undefined);
      let status = 0;
      for (const deadline = Date.now() + 3_000; status !== 200 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
        const stream = await fetch(`${api.baseUrl}/v1/invocations/${stuck.id}/stream`, { headers: { authorization: `Bearer ${alice.key}` } });
        status = stream.status;
        await stream.body?.cancel();
      }
      assert.equal(status, 200, 'a stream still opens: none was left open');
    } finally {
      await prisma.invocation.delete({ where: { id: stuck.id } });
      await prisma.event.delete({ where: { id: event.id } });
    }
  });

  it('refuses arguments it cannot send as they are meant, naming them, before sending anything', async () => {
    const baseUrl = api.baseUrl;
    assert.throws(() => new AirlockClient({ baseUrl } as never), { name: 'TypeError', message: 'apiKey must be a non-empty string, not undefined' });
    assert.throws(() => new AirlockClient(undefined as never), { name: 'TypeError', message: 'options must be an object, not undefined' });
    assert.throws(() => new AirlockClient({ baseUrl, apiKey: alice.key, timeoutMs: Number.NaN }), { name: 'TypeError', message: 'timeoutMs must be a finite number, 0 or more, not NaN' });
    // Refused as a rejected promise, as every other failure of a call is (a bare .catch() sees it).
    await assert.rejects(airlock.sendEvent(undefined as never), { name: 'TypeError', message: 'event must be an object, not undefined' });
    // Both payloads given: refused, rather than one sent and the other dropped.
    await assert.rejects(airlock.sendEvent({ type: 'order.created', payload: 'x', payloadBytes: new Uint8Array([1]) }), {
      name: 'TypeError',
      message: 'give event.payload or event.payloadBytes, not both',
    });
    await assert.rejects(airlock.invoke(pluginId, { export: 'greet', input: 'a', inputBytes: new Uint8Array([1]) }), { message: 'give call.input or call.inputBytes, not both' });
    await assert.rejects(airlock.invoke(undefined as never, { export: 'greet' }), { message: 'pluginId must be a non-empty string, not undefined' });
    // What Airlock would refuse: a wait that is not whole milliseconds up to its 30 s, an input that is not text.
    for (const wait of [1.5, 30_001, -1]) {
      await assert.rejects(airlock.invoke(pluginId, { export: 'greet', wait }), { name: 'TypeError', message: `call.wait must be a whole number from 0 to 30000, not ${wait}` });
    }
    await assert.rejects(airlock.invoke(pluginId, { export: 'greet', input: 5 as never }), { name: 'TypeError', message: 'call.input must be a string, not number' });
    await assert.rejects(airlock.waitForResults(undefined as never), { name: 'TypeError', message: 'eventId must be a non-empty string, not undefined' });
    // A payload JSON cannot carry, or would change.
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const [payload, reason] of [[{ n: 10n }, /BigInt/], [cycle, /circular/], [{ ratio: Number.NaN }, /NaN has no JSON form/], [() => 1, /a function has no JSON form/], [{ on: { click: () => 1 } }, /a function has no JSON form/]] as const) {
      await assert.rejects(airlock.sendEvent({ type: 'order.created', payload, idempotencyKey: 'never-sent' }), (error: Error) => error.name === 'TypeError' && /^event\.payload cannot be sent as JSON: /.test(error.message) && reason.test(error.message));
    }
    await assert.rejects(airlock.waitForInvocation('x', { timeoutMs: Number.NaN }), { name: 'TypeError', message: 'timeoutMs must be a finite number, 0 or more, not NaN' });
  });

  it('pages through invocations with a filter', async () => {
    // Three of this plugin's own, besides whatever the other tests left.
    for (const name of ['one', 'two', 'three']) await airlock.invoke(pluginId, { export: 'greet', input: name, wait: 10_000 });
    const seen: Array<{ id: string; pluginId: string; status: string; output: string | null }> = [];
    for await (const invocation of airlock.invocations({ pluginId, status: 'ok', limit: 1 })) seen.push(invocation);
    assert.ok(seen.every((invocation) => invocation.pluginId === pluginId && invocation.status === 'ok'), 'only what the filter asks for');
    assert.equal(new Set(seen.map((invocation) => invocation.id)).size, seen.length, 'each once');
    for (const name of ['one', 'two', 'three']) assert.ok(seen.some((invocation) => invocation.output === `hello, ${name}`), name);
  });

  it('turns error answers into AirlockErrors with their code, and retries only what is safe to repeat', async () => {
    const missing = await airlock.getInvocation('00000000-0000-4000-8000-000000000000').catch((error: unknown) => error);
    assert.ok(missing instanceof AirlockError);
    assert.deepEqual([missing.status, missing.code], [404, 'not_found']);
    assert.ok(missing.requestId);
    const invalid = await airlock.sendEvent({ type: 'Not An Event' }).catch((error: unknown) => error);
    assert.ok(invalid instanceof AirlockError);
    assert.deepEqual([invalid.status, invalid.code], [400, 'validation_failed']);
    const stranger = await new AirlockClient({ baseUrl: api.baseUrl, apiKey: 'ak_0000000000000000_' + '0'.repeat(64) }).getEvent(crypto.randomUUID()).catch((error: unknown) => error);
    assert.deepEqual([(stranger as AirlockError).status, (stranger as AirlockError).code], [401, 'unauthenticated']);
    // A port nothing listens on: a server's, closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = await new AirlockClient({ baseUrl: `http://127.0.0.1:${closedPort}`, apiKey: alice.key, maxRetries: 0 }).getEvent(crypto.randomUUID()).catch((error: unknown) => error);
    assert.equal((nowhere as AirlockError).code, 'network_error');

    // One event per second: of three sends in a row (two seconds at most), one is refused with Retry-After.
    const limited = await createTenantSession(api, 'Limited');
    const quota = await api.http.request('PUT', `/v1/admin/tenants/${limited.tenantId}/quota`, { token: api.adminToken, body: { tier: 'free', overrides: { eventsPerSecond: 1 } } });
    assert.equal(quota.status, 200, quota.text);
    const client = new AirlockClient({ baseUrl: api.baseUrl, apiKey: limited.key });
    let refused: unknown;
    for (let payload = 0; payload < 20 && refused === undefined; payload++) await client.sendEvent({ type: 'order.created', payload }).catch((error: unknown) => (refused = error));
    assert.ok(refused instanceof AirlockError, 'without an idempotency key a send is never repeated');
    assert.equal(refused.code, 'quota_exceeded');
    assert.ok(refused.retryAfterMs !== undefined && refused.retryAfterMs >= 1000, String(refused.retryAfterMs));
    // With a key, a 429 is waited out as Retry-After says and the send repeated; the same key gives the same event.
    const attempts: number[] = [];
    const counting = new AirlockClient({
      baseUrl: api.baseUrl,
      apiKey: limited.key,
      fetch: async (input, init) => {
        attempts.push(Date.now());
        // The first attempt meets a quota refusal as Airlock words it, with a short Retry-After.
        if (attempts.length === 1) return new Response(JSON.stringify({ error: { code: 'quota_exceeded', message: 'busy' }, requestId: 'r' }), { status: 429, headers: { 'retry-after': '0' } });
        return fetch(input, init);
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const first = await counting.sendEvent({ type: 'order.created', payload: 3, idempotencyKey: 'order-3' });
    assert.equal(attempts.length, 2, 'sent again after the 429');
    const again = await client.sendEvent({ type: 'order.created', payload: 3, idempotencyKey: 'order-3' });
    assert.equal(again.eventId, first.eventId);
    // A Retry-After written as an HTTP date (as some proxies do) is read as the wait until then.
    const dated = new AirlockClient({
      baseUrl: api.baseUrl,
      apiKey: limited.key,
      fetch: async () => new Response('busy', { status: 429, headers: { 'retry-after': new Date(Date.now() + 5_000).toUTCString() } }),
    });
    const waitFor = await dated.sendEvent({ type: 'order.created' }).catch((error: unknown) => error);
    assert.ok(waitFor instanceof AirlockError && waitFor.retryAfterMs !== undefined && waitFor.retryAfterMs > 3_000 && waitFor.retryAfterMs <= 5_000, String((waitFor as AirlockError).retryAfterMs));
  });

  it('verifies webhook deliveries and refuses altered, unsigned and stale ones', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const webhook = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: `http://hooks.example.test:${port}/hook`, events: ['order.created'] } });
    assert.equal(webhook.status, 201, webhook.text);
    const secret = webhook.body.signingSecret as string;
    const accepted = await airlock.sendEvent({ type: 'order.created', payload: 'Hook' });
    await airlock.waitForResults(accepted.eventId, { timeoutMs: 15_000 });
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const [delivery] = received;
    assert.ok(delivery, 'a delivery arrived');

    const verified = verifyWebhook({ secret, headers: delivery.headers, body: delivery.body });
    assert.equal(verified.type, 'invocation.finished');
    assert.equal(verified.invocation.id, accepted.invocations[0]!.id);
    assert.equal(Buffer.from(verified.invocation.outputBase64!, 'base64').toString(), 'hello, "Hook"');

    const refusal = (request: Parameters<typeof verifyWebhook>[0]) => assert.throws(() => verifyWebhook(request), WebhookVerificationError);
    refusal({ secret: 'another secret', headers: delivery.headers, body: delivery.body });
    const altered = delivery.body.toString().replace('"status":"ok"', '"status":"trap"');
    assert.notEqual(altered, delivery.body.toString());
    refusal({ secret, headers: delivery.headers, body: altered });
    refusal({ secret, headers: { ...delivery.headers, 'airlock-signature': undefined }, body: delivery.body });
    // The right signature with more after it is not the signature Airlock sent.
    refusal({ secret, headers: { ...delivery.headers, 'airlock-signature': `${String(delivery.headers['airlock-signature'])}zz` }, body: delivery.body });
    refusal({ secret, headers: delivery.headers, body: delivery.body, now: Date.now() + 10 * 60_000 });
    // A tolerance that is not a number (an unset setting) would disable the check: refused. So is a parsed body.
    assert.throws(() => verifyWebhook({ secret, headers: delivery.headers, body: delivery.body, toleranceSeconds: Number(undefined) }), TypeError);
    assert.throws(() => verifyWebhook({ secret, headers: delivery.headers, body: JSON.parse(delivery.body.toString()) }), WebhookVerificationError);
    // Headers as fetch gives them are read too.
    const headers = new Headers({ 'Airlock-Timestamp': String(delivery.headers['airlock-timestamp']), 'Airlock-Signature': String(delivery.headers['airlock-signature']) });
    assert.equal(verifyWebhook({ secret, headers, body: delivery.body.toString() }).invocation.id, verified.invocation.id);
  });
});
