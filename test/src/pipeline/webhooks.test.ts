import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretBox, sealedFor, WebhookSender } from '@airlock/execution';
import { UnrecoverableError } from 'bullmq';
import { isPrivateAddress } from '@airlock/sandbox';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('result webhooks', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let receiver: Server;
  let port: number;
  const received: Received[] = [];
  let flakyCalls = 0;

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body });
        if (request.url === '/flaky' && ++flakyCalls === 1) response.writeHead(503).end();
        // A tenant's slow endpoints: each delivery holds a worker slot for a while.
        else if (request.url?.startsWith('/slow/')) setTimeout(() => response.writeHead(204).end(), 1500);
        // Receivers that accept with a body: a large page, and one that never ends.
        else if (request.url === '/big-body') response.writeHead(200, { 'content-type': 'text/html' }).end('<p>ok</p>'.repeat(120_000));
        else if (request.url === '/endless-body') response.writeHead(200).write('still going');
        else response.writeHead(204).end();
      });
    });
    // Both 127.0.0.1 and ::1 (a webhook to an IPv6 address).
    await new Promise<void>((resolve) => receiver.listen(0, '::', resolve));
    port = (receiver.address() as AddressInfo).port;
    api = await startApi();
    worker = await startWorker(api, {
      // The receiver runs on this machine: its test name may reach loopback; every other host meets the real rule.
      webhookHttp: {
        resolve: async () => [{ address: '127.0.0.1', family: 4 }],
        isAddressAllowed: (address, host) => host === 'hooks.example.test' || host === '::1' || !isPrivateAddress(address),
      },
    });
    alice = await createTenantSession(api, 'Alice');
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
  });
  after(async () => {
    await worker.close();
    await api.close();
    receiver.close();
  });

  const register = async (url: string, events: string[] = []) => {
    const created = await api.http.post('/v1/webhooks', { token: alice.key, body: { url, events } });
    assert.equal(created.status, 201, created.text);
    return created.body as { id: string; signingSecret: string };
  };
  const deliveries = async (webhookId: string, accept: (items: any[]) => boolean) => {
    for (let tries = 0; tries < 200; tries++) {
      const items = (await api.http.get(`/v1/webhooks/${webhookId}/deliveries`, { token: alice.key })).body.items;
      if (accept(items)) return items;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail('deliveries did not settle');
  };

  it('posts results signed, retries until accepted, refuses private addresses, and keeps tenants apart', async () => {
    const good = await register(`http://hooks.example.test:${port}/hook`, ['order.created']);
    const flaky = await register(`http://hooks.example.test:${port}/flaky`);
    // A name that resolves to a private address is refused when a delivery is made (here every name resolves to loopback).
    const local = await register(`http://private.example.test:${port}/local`);
    const elsewhere = await register(`http://hooks.example.test:${port}/other-events`, ['invoice.due']);
    // The same host, fully qualified: kept without its dot, and posted to like the others.
    const dotted = await register(`http://hooks.example.test.:${port}/dotted`, ['order.created']);
    assert.match(good.signingSecret, /^[0-9a-f]{64}$/);
    assert.ok(!(await api.http.get('/v1/webhooks', { token: alice.key })).text.includes(good.signingSecret), 'the secret is shown once');

    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payloadBase64: Buffer.from('Ada').toString('base64') } });
    const invocationId = accepted.body.invocations[0].id;

    const [delivered] = await deliveries(good.id, (items) => items[0]?.status === 'delivered');
    assert.equal(delivered.invocationId, invocationId);
    const request = received.find((entry) => entry.path === '/hook')!;
    const timestamp = request.headers['airlock-timestamp'] as string;
    const expected = `v1=${createHmac('sha256', good.signingSecret).update(`${timestamp}.${request.body}`).digest('hex')}`;
    assert.equal(request.headers['airlock-signature'], expected, 'the signature verifies with the signing secret');
    const payload = JSON.parse(request.body);
    assert.equal(payload.type, 'invocation.finished');
    assert.equal(payload.invocation.id, invocationId);
    assert.equal(payload.invocation.status, 'ok');
    assert.equal(Buffer.from(payload.invocation.outputBase64, 'base64').toString(), 'hello, Ada');

    const [toDotted] = await deliveries(dotted.id, (items) => items[0]?.status === 'delivered' || items[0]?.attempts >= 1);
    assert.equal(toDotted.status, 'delivered', JSON.stringify(toDotted));
    const listedDotted = (await api.http.get('/v1/webhooks', { token: alice.key })).body.items.find((item: { id: string }) => item.id === dotted.id);
    assert.equal(listedDotted.url, `http://hooks.example.test:${port}/dotted`);

    const [retried] = await deliveries(flaky.id, (items) => items[0]?.status === 'delivered');
    assert.equal(retried.attempts, 2, 'a 503 is retried');
    assert.equal(retried.lastStatus, 204);

    const [refused] = await deliveries(local.id, (items) => items[0]?.attempts >= 1);
    assert.notEqual(refused.status, 'delivered');
    assert.match(refused.lastError, /private.example.test does not resolve to a public address/);
    assert.ok(!received.some((entry) => entry.path === '/local'), 'nothing reached the private address');

    assert.deepEqual(await deliveries(elsewhere.id, () => true), [], 'other event types are not posted');

    const bob = await createTenantSession(api, 'Bob');
    assert.equal((await api.http.get(`/v1/webhooks/${good.id}/deliveries`, { token: bob.key })).status, 404);
    assert.equal((await api.http.delete(`/v1/webhooks/${good.id}`, { token: bob.key })).status, 404);
    assert.deepEqual((await api.http.get('/v1/webhooks', { token: bob.key })).body.items, []);
    assert.equal((await api.http.delete(`/v1/webhooks/${elsewhere.id}`, { token: alice.key })).status, 204);
    const invalid = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'ftp://example.com/x' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details.issues[0].field, 'url');
    for (const url of ['not a url', 'https://user:secret@example.com/hook', `http://127.0.0.1:${port}/local`, 'https://[::1]/hook', 'http://10.0.0.8/hook', 'http://169.254.169.254/latest']) {
      const refused = await api.http.post('/v1/webhooks', { token: alice.key, body: { url } });
      assert.equal(refused.status, 400, `${url}: ${refused.text}`);
      assert.equal(refused.body.error.details.issues[0].field, 'url');
    }
    const literal = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'http://10.0.0.8/hook' } });
    assert.match(literal.body.error.details.issues[0].message, /must not be a private or reserved address/);
    // localhost and the names under it are loopback by definition: refused at once. Any other name is taken (it is
    // checked at each delivery): looking it up here would tell a tenant which names resolve inside the network.
    for (const url of [`http://localhost:${port}/hook`, 'https://LOCALHOST./hook', 'https://api.localhost/hook']) {
      const named = await api.http.post('/v1/webhooks', { token: alice.key, body: { url } });
      assert.equal(named.status, 400, `${url}: ${named.text}`);
      assert.equal(named.body.error.code, 'validation_failed');
      assert.deepEqual(named.body.error.details.issues, [{ field: 'url', message: 'must not be a private or reserved address: deliveries are never sent there' }]);
    }
    // A name with an empty part names no host (and `localhost..` is not a way past the rule above).
    for (const url of ['http://localhost../hook', 'https://api.localhost../hook', 'http://./hook', 'http://../hook', 'https://hooks..example.com/hook']) {
      const empty = await api.http.post('/v1/webhooks', { token: alice.key, body: { url } });
      assert.equal(empty.status, 400, `${url}: ${empty.text}`);
      assert.deepEqual(empty.body.error.details.issues, [{ field: 'url', message: 'must name a host: no empty part between, before or after its dots (one final dot is allowed)' }]);
    }
    const unresolved = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'https://not-yet.example.test/hook' } });
    assert.equal(unresolved.status, 201, unresolved.text);
    assert.equal((await api.http.delete(`/v1/webhooks/${unresolved.body.id}`, { token: alice.key })).status, 204);
    // NAT64 for a local network (here the metadata address behind it) and Teredo carry IPv4 addresses: refused too.
    for (const url of ['http://[64:ff9b:1::a9fe:a9fe]/', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/']) {
      const hidden = await api.http.post('/v1/webhooks', { token: alice.key, body: { url } });
      assert.equal(hidden.status, 400, `${url}: ${hidden.text}`);
    }
    // Too long as sent, or once encoded as deliveries send it (é is 6 characters percent-encoded): said so.
    const long = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: `https://example.com/${'a'.repeat(2000)}` } });
    assert.equal(long.status, 400, long.text);
    assert.deepEqual(long.body.error.details.issues, [{ field: 'url', message: 'must be at most 2000 characters' }]);
    const encodedLong = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: `https://example.com/${'é'.repeat(1900)}` } });
    assert.equal(encodedLong.status, 400, encodedLong.text);
    assert.match(encodedLong.body.error.details.issues[0].message, /^must be at most 2000 characters as delivered/);
    // An event type listed twice is kept once.
    const twice = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: `http://hooks.example.test:${port}/twice`, events: ['invoice.due', 'invoice.due'] } });
    assert.deepEqual(twice.body.events, ['invoice.due']);
    assert.equal((await api.http.delete(`/v1/webhooks/${twice.body.id}`, { token: alice.key })).status, 204);
    // Kept and shown as the address posted to: a right-to-left override cannot make one path read as another.
    const disguised = await api.http.post('/v1/webhooks', { token: alice.key, body: { url: 'https://Hooks.Example.COM/\u202Egpj.exe' } });
    assert.equal(disguised.status, 201, disguised.text);
    assert.equal(disguised.body.url, 'https://hooks.example.com/%E2%80%AEgpj.exe');
    const listed = (await api.http.get('/v1/webhooks', { token: alice.key })).body.items.find((item: { id: string }) => item.id === disguised.body.id);
    assert.equal(listed.url, disguised.body.url);
    assert.equal((await api.http.delete(`/v1/webhooks/${disguised.body.id}`, { token: alice.key })).status, 204);
  });

  it('posts to an IPv6 address, and counts any 2xx as delivered whatever body comes with it', async () => {
    const v6 = await register(`http://hooks.example.test:${port}/v6`, ['order.created']);
    // Registration refuses loopback: the row is moved to it here, as a public IPv6 address would be stored.
    await api.database.prisma.webhook.update({ where: { id: v6.id }, data: { url: `http://[::1]:${port}/v6` } });
    const big = await register(`http://hooks.example.test:${port}/big-body`, ['order.created']);
    const endless = await register(`http://hooks.example.test:${port}/endless-body`, ['order.created']);
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'Bo' } });
    assert.equal(accepted.status, 202, accepted.text);

    for (const hook of [v6, big, endless]) {
      const [delivery] = await deliveries(hook.id, (items) => items[0]?.attempts >= 1);
      assert.deepEqual([delivery.status, delivery.attempts, delivery.lastStatus, delivery.lastError], ['delivered', 1, hook === v6 ? 204 : 200, null], JSON.stringify(delivery));
    }
    assert.ok(received.some((entry) => entry.path === '/v6'), 'posted over IPv6');
  });

  it('shows a delivery whose job failed for good outside its send as failed, saying why, not pending', async () => {
    const unsent = await register(`http://hooks.example.test:${port}/unsent`, ['order.created']);
    const sender = worker.app.get(WebhookSender);
    const deliver = sender.deliver.bind(sender);
    // What a database gone on a delivery's last attempt does: the job fails for good before anything is recorded.
    sender.deliver = async (tenantId, deliveryId, finalAttempt) => {
      const delivery = await api.database.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
      if (delivery?.webhookId === unsent.id) throw new UnrecoverableError('the database went away (the test)');
      return deliver(tenantId, deliveryId, finalAttempt);
    };
    try {
      await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'Cy' } });
      const [failed] = await deliveries(unsent.id, (items) => items[0] !== undefined && items[0].status !== 'pending');
      assert.deepEqual([failed.status, failed.attempts, failed.lastError], ['failed', 0, 'not sent: the database went away (the test)']);
    } finally {
      sender.deliver = deliver;
    }
    assert.ok(!received.some((entry) => entry.path === '/unsent'));
  });

  it('keeps a tenant to 20 webhooks, even when it registers them all at once', async () => {
    const dora = await createTenantSession(api, 'Dora');
    const created = await Promise.all(
      Array.from({ length: 25 }, (_, n) => api.http.post('/v1/webhooks', { token: dora.key, body: { url: `https://hooks.example.test/${n}` } })),
    );
    const statuses = created.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 201).length, 20, statuses.join(','));
    const refused = created.find((response) => response.status === 409)!;
    assert.equal(refused.body.error.code, 'limit_reached');
    assert.deepEqual(refused.body.error.details, { limit: 'maxWebhooks', max: 20 });
    assert.equal((await api.http.get('/v1/webhooks', { token: dora.key })).body.items.length, 20);
  });

  it("serves another tenant's deliveries before a tenant's backlog of slow ones", async () => {
    const arrivals = () => received.filter((entry) => entry.path.startsWith('/slow/') || entry.path === '/prompt').map((entry) => entry.path);
    const emitAndFinish = async (session: TenantSession) => {
      const accepted = await api.http.post('/v1/events', { token: session.key, body: { type: 'order.created', payload: 'Ada' } });
      assert.equal(accepted.status, 202, accepted.text);
      await waitUntilFinished(api, session.key, accepted.body.invocations[0].id);
    };
    const slowpoke = await createTenantSession(api, 'Slowpoke');
    await api.http.request('PUT', `/v1/admin/tenants/${slowpoke.tenantId}/quota`, { token: api.adminToken, body: { tier: 'standard' } });
    await publishAndBind(api, slowpoke, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    for (let n = 0; n < 4; n++) await api.http.post('/v1/webhooks', { token: slowpoke.key, body: { url: `http://hooks.example.test:${port}/slow/${n}` } });
    const prompt = await createTenantSession(api, 'Prompt');
    await publishAndBind(api, prompt, { name: 'greeter', template: 'hello', event: 'order.created', exportName: 'greet' });
    await api.http.post('/v1/webhooks', { token: prompt.key, body: { url: `http://hooks.example.test:${port}/prompt` } });

    // 6 events, 4 webhooks each: 24 deliveries of 1.5 s for 8 worker slots.
    await Promise.all(Array.from({ length: 6 }, () => emitAndFinish(slowpoke)));
    for (let tries = 0; tries < 100 && arrivals().length < 8; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    await emitAndFinish(prompt);
    for (let tries = 0; tries < 300 && !arrivals().includes('/prompt'); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    const before = arrivals().indexOf('/prompt');
    assert.ok(before >= 0, 'delivered');
    // First come, first served would post it after all 24; it goes with the next free slot instead.
    assert.ok(before <= 16, `${before} of the other tenant's deliveries went first`);
  });

  it('signs with a secret that opens for its own webhook only, and a worker reseals secrets under a new key', async () => {
    const own = await register(`http://hooks.example.test:${port}/sealed-own`, ['order.created']);
    const moved = await register(`http://hooks.example.test:${port}/sealed-moved`, ['order.created']);
    const sealedOf = async (id: string) => (await api.database.prisma.webhook.findUniqueOrThrow({ where: { id } })).secret;
    // Someone with write access to the database copies one webhook's sealed secret onto another.
    await api.database.prisma.webhook.update({ where: { id: moved.id }, data: { secret: await sealedOf(own.id) } });
    await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.created', payload: 'sealed' } });

    await deliveries(own.id, (items) => items[0]?.status === 'delivered');
    const [failed] = await deliveries(moved.id, (items) => items[0]?.status === 'failed');
    assert.equal(failed.attempts, 1, 'not retried: no attempt could sign it');
    assert.equal(failed.lastError, 'the webhook signing secret cannot be opened (sealed with a key this deployment no longer holds, or damaged): delete the webhook and register it again');
    assert.ok(!received.some((entry) => entry.path === '/sealed-moved'), 'nothing was posted unsigned or signed with the other secret');

    const setting = (await readFile(join(api.config.dataDir, 'secrets.keys'), 'utf8')).trim();
    const rotated = SecretBox.fromSetting(`${SecretBox.generateSetting()},${setting}`);
    const movedBefore = await sealedOf(moved.id);
    const resealing = await startWorker(api, { secrets: rotated });
    try {
      const deadline = Date.now() + 10_000;
      while (!(await sealedOf(own.id)).startsWith(rotated.currentPrefix) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok((await sealedOf(own.id)).startsWith(rotated.currentPrefix), 'sealed again with the new key');
      assert.equal(rotated.open(await sealedOf(own.id), sealedFor.webhookSecret(alice.tenantId, own.id)), own.signingSecret);
      assert.equal(await sealedOf(moved.id), movedBefore, 'what opens with no key held is left as it was');
    } finally {
      await resealing.close();
    }
  });
});

