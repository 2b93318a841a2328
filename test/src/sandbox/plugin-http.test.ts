import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isPrivateAddress, Sandbox, type SandboxPolicy } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';
import { FETCHER } from './fetcher.js';



interface TestServer {
  server: Server;
  port: number;
  requests: string[];
  /** Every connection it accepted, in order. */
  sockets: Socket[];
}

async function startServer(handler: Parameters<typeof createServer>[1]): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    handler!(request, response);
  });
  const sockets: Socket[] = [];
  server.on('connection', (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, requests, sockets };
}

describe('plugin HTTP', () => {
  let sandbox: Sandbox;
  let upstream: TestServer;
  let local: TestServer;
  const artifact = admitted(FETCHER);
  let policy: SandboxPolicy;

  before(async () => {
    // The allowed upstream runs on this machine, so the test lets its one name reach loopback.
    upstream = await startServer((request, response) => {
      if (request.url === '/hello') response.end('hi from upstream');
      else if (request.url === '/redirect-local') response.writeHead(302, { location: `http://127.0.0.1:${local.port}/secret` }).end();
      else if (request.url === '/redirect-name') response.writeHead(302, { location: `http://localhost:${local.port}/secret` }).end();
      else if (request.url === '/redirect-ok') response.writeHead(302, { location: '/hello' }).end();
      // What credentials reach each hop: the same origin, then another host (on the same server here).
      else if (request.url === '/redirect-same') response.writeHead(302, { location: '/credentials' }).end();
      else if (request.url === '/redirect-other') response.writeHead(302, { location: `http://other.allowed.test:${upstream.port}/credentials` }).end();
      else if (request.url === '/credentials') response.end(JSON.stringify({ host: request.headers.host, authorization: request.headers.authorization ?? null, cookie: request.headers.cookie ?? null, token: request.headers['x-token'] ?? null }));
      else if (request.url === '/slow') setTimeout(() => response.end('late'), 3_000).unref();
      else if (request.url === '/huge') {
        const chunk = Buffer.alloc(64 * 1024, 120);
        let sent = 0;
        const pump = () => {
          while (sent < 5 * 1024 * 1024 && response.write(chunk)) sent += chunk.length;
          if (sent >= 5 * 1024 * 1024) response.end();
          else response.once('drain', pump);
        };
        pump();
      } else if (request.url === '/big-headers') response.writeHead(200, { 'x-big': 'y'.repeat(100 * 1024) }).end('unread');
      else response.end('counted');
    });
    local = await startServer((_request, response) => response.end('internal secret'));
    sandbox = await Sandbox.start({
      executors: 1,
      http: {
        resolve: async (hostname) => {
          if (hostname === 'api.allowed.test' || hostname === 'other.allowed.test') return [{ address: '127.0.0.1', family: 4 }];
          if (hostname === 'internal.allowed.test') return [{ address: '10.0.0.1', family: 4 }];
          if (hostname === 'mixed.allowed.test') return [{ address: '93.184.216.34', family: 4 }, { address: '::ffff:127.0.0.1', family: 6 }];
          // A name server that never answers.
          if (hostname === 'silent.allowed.test') return new Promise(() => undefined);
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        },
        isAddressAllowed: (address, hostname) => hostname === 'api.allowed.test' || hostname === 'other.allowed.test' || !isPrivateAddress(address),
      },
    });
    policy = policyWith({
      http: {
        allowedHosts: ['*.allowed.test', '127.0.0.1', '169.254.169.254', '10.0.0.1', '::1'],
        maxRequestsPerCall: 10,
        maxResponseBytes: 1024 * 1024,
        requestTimeoutMs: 300,
      },
    });
  });
  after(async () => {
    await sandbox.stop();
    upstream.server.close();
    local.server.close();
  });

  const fetchWith = (url: string, exportName = 'fetch', withPolicy = policy) =>
    sandbox.run(artifact, exportName, JSON.stringify({ url, method: 'GET' }), context(withPolicy));

  it('fetches from an allowed host, following a redirect on it', async () => {
    const result = await fetchWith(`http://api.allowed.test:${upstream.port}/hello`);
    assert.equal(result.status, 'ok', result.error?.message);
    assert.equal(Buffer.from(result.output).toString(), 'hi from upstream');
    const redirected = await fetchWith(`http://api.allowed.test:${upstream.port}/redirect-ok`);
    assert.equal(Buffer.from(redirected.output).toString(), 'hi from upstream');
  });

  it('sends credentials only to the origin they were sent to, and lets no plugin name the host itself', async () => {
    const credentials = { Authorization: 'Bearer s3cret', Cookie: 'session=1', 'X-Token': 'kept' };
    const fetchWithHeaders = (path: string, headers: Record<string, string>) =>
      sandbox.run(artifact, 'fetch', JSON.stringify({ url: `http://api.allowed.test:${upstream.port}${path}`, method: 'GET', headers }), context(policy));
    const same = await fetchWithHeaders('/redirect-same', credentials);
    assert.deepEqual(JSON.parse(Buffer.from(same.output).toString()), { host: `api.allowed.test:${upstream.port}`, authorization: 'Bearer s3cret', cookie: 'session=1', token: 'kept' });
    const other = await fetchWithHeaders('/redirect-other', credentials);
    assert.deepEqual(JSON.parse(Buffer.from(other.output).toString()), { host: `other.allowed.test:${upstream.port}`, authorization: null, cookie: null, token: 'kept' });
    // A Host of its own would reach another site behind an allowed host's address; framing headers are the sandbox's.
    for (const name of ['Host', 'transfer-encoding', 'Connection', 'Content-Length']) {
      const refused = await fetchWithHeaders('/credentials', { [name]: name === 'Host' ? 'internal-admin.corp' : 'chunked' });
      assert.equal(refused.status, 'http_refused', name);
      assert.match(refused.error!.message, new RegExp(`the header ${name} is set by the sandbox`), name);
    }
  });

  it('meters egress: the bytes the upstream read from the plugin, every hop counted', async () => {
    const before = upstream.sockets.length;
    const result = await fetchWith(`http://api.allowed.test:${upstream.port}/redirect-ok`);
    assert.equal(result.status, 'ok', result.error?.message);
    const sockets = upstream.sockets.slice(before);
    assert.equal(sockets.length, 2, 'the redirect and its target, one connection each');
    assert.ok(result.egressBytes > 100, `${result.egressBytes} bytes`);
    assert.equal(result.egressBytes, sockets.reduce((sum, socket) => sum + socket.bytesRead, 0));
    const refused = await fetchWith(`http://127.0.0.1:${local.port}/`);
    assert.equal(refused.egressBytes, 0, 'a refused request sends nothing');
  });

  it('refuses loopback, link-local, private and metadata addresses, even when listed', async () => {
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${local.port}/`, /^127\.0\.0\.1 is a private or reserved address$/],
      [`http://[::1]:${local.port}/`, /^::1 is a private or reserved address$/],
      ['http://169.254.169.254/latest/meta-data/', /^169\.254\.169\.254 is a private or reserved address$/],
      ['http://10.0.0.1/', /^10\.0\.0\.1 is a private or reserved address$/],
      // A name with a private address and a name that does not exist get one answer, which names no address.
      ['http://internal.allowed.test/', /^internal\.allowed\.test does not resolve to a public address$/],
      ['http://mixed.allowed.test/', /^mixed\.allowed\.test does not resolve to a public address$/],
      ['http://nowhere.allowed.test/', /^nowhere\.allowed\.test does not resolve to a public address$/],
      [`http://localhost:${local.port}/`, /^localhost is not an allowed host$/],
      ['file:///etc/passwd', /^file: URLs are not allowed$/],
    ];
    for (const [url, message] of cases) {
      const result = await fetchWith(url);
      assert.equal(result.status, 'http_refused', url);
      assert.match(result.error!.message, message, url);
    }
    assert.deepEqual(local.requests, [], 'nothing reached the local server');
    await assertStillHealthy(sandbox);
  });

  it('refuses a redirect from an allowed host to a local server before connecting', async () => {
    for (const path of ['/redirect-local', '/redirect-name']) {
      const result = await fetchWith(`http://api.allowed.test:${upstream.port}${path}`);
      assert.equal(result.status, 'http_refused', path);
    }
    assert.deepEqual(local.requests, [], 'the local server saw 0 requests');
  });

  it('bounds slow and huge responses', async () => {
    const started = Date.now();
    const slow = await fetchWith(`http://api.allowed.test:${upstream.port}/slow`);
    assert.equal(slow.status, 'http_refused');
    assert.equal(slow.error!.message, 'the request took longer than 300 ms');
    assert.ok(Date.now() - started < 2_000);
    const huge = await fetchWith(`http://api.allowed.test:${upstream.port}/huge`);
    assert.equal(huge.status, 'http_refused');
    assert.equal(huge.error!.message, 'the response is larger than 1048576 bytes');
    const silent = await fetchWith('http://silent.allowed.test/');
    assert.equal(silent.status, 'http_refused', silent.error?.message);
    assert.equal(silent.error!.message, 'the request took longer than 300 ms (resolving its host)');
    // Headers past what the parser reads are the server's doing: refused, not a host failure to retry (and ask again).
    const asked = upstream.requests.length;
    const bigHeaders = await fetchWith(`http://api.allowed.test:${upstream.port}/big-headers`);
    assert.equal(bigHeaders.status, 'http_refused', bigHeaders.error?.message);
    assert.equal(bigHeaders.error!.message, 'the response has headers larger than 16 KiB');
    assert.equal(upstream.requests.length, asked + 1);
    await assertStillHealthy(sandbox);
  });

  it('charges a call stopped at its time limit while it waits on a request the fuel it had used, not its whole budget', async () => {
    const patient = policyWith({ ...policy, timeoutMs: 300, fuelPerCall: 1e12, http: { ...policy.http, requestTimeoutMs: 5_000 } });
    const stopped = await fetchWith(`http://api.allowed.test:${upstream.port}/slow`, 'fetch', patient);
    assert.equal(stopped.status, 'timeout', stopped.error?.message);
    assert.equal(stopped.error!.message, 'the call ran past its 300 ms limit waiting on its host call (http)');
    // The request's own price (ROUND_TRIP_FUEL, 50,000) and the plugin's work before it: far below the budget.
    assert.ok(stopped.fuelUsed >= 50_000 && stopped.fuelUsed < 1_000_000, `charged ${stopped.fuelUsed}`);
    // The same call answered in time has used as much by the time it asked, and more once it reads the answer.
    const answered = await fetchWith(`http://api.allowed.test:${upstream.port}/hello`, 'fetch', patient);
    assert.equal(answered.status, 'ok', answered.error?.message);
    assert.ok(answered.fuelUsed > stopped.fuelUsed, `${answered.fuelUsed} against ${stopped.fuelUsed}`);
    await assertStillHealthy(sandbox);
  });

  it('stops a call that makes 1,000 requests at the policy\'s count', async () => {
    const before = upstream.requests.filter((url) => url === '/count').length;
    const result = await fetchWith(`http://api.allowed.test:${upstream.port}/count`, 'fetch_1000');
    assert.equal(result.status, 'http_refused');
    assert.equal(result.error!.message, 'more than 10 HTTP requests in one call');
    assert.equal(upstream.requests.filter((url) => url === '/count').length - before, 10);
  });

  it("counts a start function's requests with its first call's: one run, one count", async () => {
    // Six requests as the module is instantiated, five more in the call: eleven in one run, past the policy's ten.
    const request = JSON.stringify({ url: `http://api.allowed.test:${upstream.port}/start-count`, method: 'GET' });
    const repeat = (times: number) => `(local $i i32)
      (loop $more
        (drop (call $http_request (call $to_block (i32.const 1024) (i32.const ${request.length})) (i64.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $i) (i32.const ${times}))))`;
    const fetchingAtStart = admitted(
      wat(`(module
        ${EXTISM_IMPORTS}
        (memory (export "memory") 1)
        (data (i32.const 1024) "${request.replaceAll('"', '\\"')}")
        ${GUEST_HELPERS}
        (func $start ${repeat(6)})
        (start $start)
        (func (export "fetch_5") (result i32) ${repeat(5)} (i32.const 0)))`),
    );
    const result = await sandbox.run(fetchingAtStart, 'fetch_5', '', context(policy));
    assert.equal(result.status, 'http_refused', result.error?.message);
    assert.equal(result.error!.message, 'more than 10 HTTP requests in one call');
    assert.equal(upstream.requests.filter((url) => url === '/start-count').length, 10);
    await assertStillHealthy(sandbox);
  });

  it("refuses a malformed request as the plugin's mistake, with a message that can be stored", async () => {
    const send = (request: Record<string, unknown>) => sandbox.run(artifact, 'fetch', JSON.stringify(request), context(policy));
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: `http://api.allowed.test:${upstream.port}/hello`, method: 'GET X' }, /is not an HTTP method/],
      [{ url: `http://api.allowed.test:${upstream.port}/hello`, method: 'GET', headers: { 'a b': 'x' } }, /is not a valid HTTP header/],
      [{ url: `http://api.allowed.test:${upstream.port}/hello`, method: 'GET', headers: { a: 'x\ny' } }, /is not a valid HTTP header/],
      [{ url: 'x\u0000y', method: 'GET' }, /is not a URL/],
      [{ url: `${'a'.repeat(20_000)}:b`, method: 'GET' }, /URLs are not allowed/],
    ];
    for (const [request, message] of cases) {
      const result = await send(request);
      assert.equal(result.status, 'http_refused', `${JSON.stringify(request).slice(0, 100)}: ${result.error?.message.slice(0, 200)}`);
      assert.match(result.error!.message, message);
      assert.ok(!result.error!.message.includes(String.fromCharCode(0)), 'no NUL: it is kept as the text \\u0000');
      assert.ok(result.error!.message.length < 8300, `${result.error!.message.length} characters`);
    }
    await assertStillHealthy(sandbox);
  });

  it('refuses every request on a tier without HTTP', async () => {
    const result = await fetchWith(`http://api.allowed.test:${upstream.port}/hello`, 'fetch', policyWith({}));
    assert.equal(result.status, 'http_refused');
  });
});
