// Runs with NODE_EXTRA_CA_CERTS naming a certificate made for the test (see
// https-downgrade.test.ts), so that plugin HTTPS to `secure.test` verifies: an
// HTTPS server that redirects to plain HTTP, fetched by a plugin in a real
// sandbox. Prints what the plugin got, as one JSON line.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Sandbox } from '@airlock/sandbox';
import { admitted, context, policyWith } from '../support/sandbox-harness.js';
import { FETCHER } from './fetcher.js';

const [keyFile, certFile] = process.argv.slice(2) as [string, string];
let plainRequests = 0;
const plain = createHttpServer((_request, response) => {
  plainRequests++;
  response.end('sent in clear');
});
await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
const plainPort = (plain.address() as AddressInfo).port;
const secure = createHttpsServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, (request, response) => {
  if (request.url === '/downgrade') response.writeHead(302, { location: `http://secure.test:${plainPort}/secret` }).end();
  else response.end('over TLS');
});
await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
const securePort = (secure.address() as AddressInfo).port;

const sandbox = await Sandbox.start({
  executors: 1,
  // The test's one name reaches loopback; nothing else resolves.
  http: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (_address, hostname) => hostname === 'secure.test' },
});
const policy = policyWith({ http: { allowedHosts: ['secure.test'], maxRequestsPerCall: 5, maxResponseBytes: 1024 * 1024, requestTimeoutMs: 5_000 } });
const fetch = async (path: string) => {
  const result = await sandbox.run(admitted(FETCHER), 'fetch', JSON.stringify({ url: `https://secure.test:${securePort}${path}`, method: 'GET' }), context(policy));
  return { status: result.status, output: Buffer.from(result.output).toString(), error: result.error?.message ?? null };
};
const direct = await fetch('/hello');
const downgraded = await fetch('/downgrade');
await sandbox.stop();
secure.close();
plain.close();
console.log(JSON.stringify({ direct, downgraded, plainRequests }));
