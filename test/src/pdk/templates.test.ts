import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AdmittedArtifact, Sandbox } from '@airlock/sandbox';
import { compileTemplate } from '../support/pdk.js';
import { admitted, context, freeTier, policyWith } from '../support/sandbox-harness.js';

const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString());

describe('plugin-pdk templates, built and run through the sandbox', () => {
  let sandbox: Sandbox;
  let crm: Server;
  let crmPort: number;
  const built: Record<string, AdmittedArtifact> = {};
  const httpPolicy = policyWith({
    http: { allowedHosts: ['crm.example.test'], maxRequestsPerCall: 2, maxResponseBytes: 65536, requestTimeoutMs: 2000 },
  });

  before(async () => {
    crm = createServer((request, response) => {
      if (request.url === '/customers/c-1') response.setHeader('content-type', 'application/json').end('{"name":"Ada","tier":"gold"}');
      else response.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
    crmPort = (crm.address() as AddressInfo).port;
    sandbox = await Sandbox.start({
      executors: 2,
      http: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (_address, host) => host === 'crm.example.test' },
    });
    const names = ['hello', 'json-transform', 'event-filter', 'http-enrichment', 'kv-counter'];
    const wasm = await Promise.all(names.map((name) => compileTemplate(name)));
    names.forEach((name, i) => (built[name] = admitted(wasm[i]!, name === 'http-enrichment' ? httpPolicy : freeTier)));
  });
  after(async () => {
    await sandbox.stop();
    crm.close();
  });

  it('hello greets', async () => {
    const result = await sandbox.run(built.hello!, 'greet', 'wörld', context());
    assert.equal(result.status, 'ok');
    assert.equal(Buffer.from(result.output).toString(), 'hello, wörld', 'UTF-8 in and out');
  });

  it('json-transform reshapes an order, and names what is missing', async () => {
    const order = { id: 'o-1', customer: { email: 'a@example.com' }, total: 120.5 };
    const result = await sandbox.run(built['json-transform']!, 'transform', JSON.stringify(order), context());
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual(json(result.output), { orderId: 'o-1', email: 'a@example.com', totalCents: 12050 });
    const missing = await sandbox.run(built['json-transform']!, 'transform', '{"id": "o-2", "total": 3}', context());
    assert.equal(missing.status, 'plugin_error');
    assert.equal(missing.error!.message, 'expected customer.email');
    const notJson = await sandbox.run(built['json-transform']!, 'transform', 'not json', context());
    assert.equal(notJson.status, 'trap', 'a parse failure aborts the call');
    for (const input of ['{"id": "o-3"} {"id": "o-4"}', '{"id": "o-3"} trailing', '12x', '[1] ]']) {
      const trailing = await sandbox.run(built['json-transform']!, 'transform', input, context());
      assert.equal(trailing.status, 'trap', `${input}: only one JSON value is JSON`);
      assert.match(trailing.error!.message, /^the input has text after its JSON value/);
    }
    const spaced = await sandbox.run(built['json-transform']!, 'transform', ` \n\t${JSON.stringify(order)}\r\n `, context());
    assert.deepEqual([spaced.status, json(spaced.output)], ['ok', { orderId: 'o-1', email: 'a@example.com', totalCents: 12050 }], 'whitespace around it is JSON');
  });

  it('json-transform reads only JSON: what the parser underneath would accept beyond it aborts the call, saying where', async () => {
    const notJson: Array<[string | Buffer, RegExp]> = [
      ['{"id": "o-1", "total": 1.2.3}', /expected ',' or '}' at byte 26/],
      ['{"id": "o-1", "total": 01}', /expected ',' or '}' at byte 24/],
      ['{"id": "o-1", "total": 1.}', /expected a digit at byte 25/],
      ['{"id": "o-1", "total": -}', /expected a digit at byte 24/],
      ['{"id": "o-1", "total": 1e}', /expected a digit at byte 25/],
      ['{"id": "o-1", "total": +1}', /expected a value at byte 23/],
      ['{"id": "o-1", "tags": [1,]}', /expected a value at byte 25/],
      ['{"id": "o-1", "tags": [,1]}', /expected a value at byte 23/],
      ['{"id": "o-1", "total": }', /expected a value at byte 23/],
      ['{"id": "o-1",}', /expected a member name in double quotes at byte 13/],
      ['{"id" "o-1"}', /expected ':' at byte 6/],
      ['{id: "o-1"}', /expected a member name in double quotes at byte 1/],
      ['{"id": tru}', /expected true at byte 10/],
      ['{"id": "o\\x"}', /an escape JSON does not have at byte 9/],
      ['{"id": "o\\u12"}', /a \\u escape without four hex digits at byte 9/],
      ['{"id": "o\\u0001-\u0001"}', /a control character in a string \(it must be escaped\) at byte 16/],
      ['{"id": "o-1', /a string that never ends at byte 7/],
      ['[[[', /it ends where a value should be at byte 3/],
      ['', /it ends where a value should be at byte 0/],
      [Buffer.from([0x22, 0xff, 0x22]), /a byte that is not UTF-8 at byte 1/],
      [Buffer.from([0x22, 0xc0, 0xaf, 0x22]), /a byte that is not UTF-8 at byte 1/], // an overlong '/'
      [Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), /a byte that is not UTF-8 at byte 1/], // a surrogate
      [Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), /expected a value at byte 0/], // a byte order mark
    ];
    for (const [input, message] of notJson) {
      const result = await sandbox.run(built['json-transform']!, 'transform', input, context());
      assert.equal(result.status, 'trap', `${String(input)}: ${result.status}`);
      assert.match(result.error!.message, /^the input is not JSON: /);
      assert.match(result.error!.message, message, String(input));
    }
    // All of JSON, nested a thousand deep, escaped and in four-byte characters, is read as any parser reads it.
    const deep = '['.repeat(1000) + ']'.repeat(1000);
    const escaped = String.raw`"\\\"\/\b\f\n\r\t"`;
    const input = String.raw`{"id":"o-\u0031","customer":{"email":"a@example.com","tags":[-0.5e+10,1E-2,0,true,false,null,{},[],${escaped},"é😀"],"deep":${deep}},"total":1.5E1}`;
    JSON.parse(input);
    const result = await sandbox.run(built['json-transform']!, 'transform', input, context());
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual(json(result.output), { orderId: 'o-1', email: 'a@example.com', totalCents: 1500 });
  });

  it('event-filter decides by the binding\'s config', async () => {
    const decide = async (total: number, config?: Record<string, string>) => {
      const result = await sandbox.run(built['event-filter']!, 'filter', JSON.stringify({ total }), context(freeTier, config ? { config } : {}));
      assert.equal(result.status, 'ok', result.error?.message);
      return json(result.output).act as boolean;
    };
    assert.equal(await decide(80), false);
    assert.equal(await decide(120), true);
    assert.equal(await decide(80, { minTotal: '50' }), true);
  });

  it('http-enrichment merges what an allowed host answers', async () => {
    const config = { lookupUrl: `http://crm.example.test:${crmPort}/customers/` };
    const result = await sandbox.run(built['http-enrichment']!, 'enrich', '{"customerId": "c-1", "total": 5}', context(httpPolicy, { config }));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual(json(result.output), { customerId: 'c-1', total: 5, customer: { name: 'Ada', tier: 'gold' } });
    assert.equal(result.logs[0]!.message, 'lookup answered 200');
    const unknown = await sandbox.run(built['http-enrichment']!, 'enrich', '{"customerId": "c-9"}', context(httpPolicy, { config }));
    assert.equal(unknown.status, 'plugin_error');
    assert.equal(unknown.error!.message, 'lookup failed with status 404');
    const elsewhere = await sandbox.run(built['http-enrichment']!, 'enrich', '{"customerId": "c-1"}', context(httpPolicy, { config: { lookupUrl: 'http://evil.test/' } }));
    assert.equal(elsewhere.status, 'http_refused');
  });

  it('kv-counter counts per key, across calls', async () => {
    const count = async (key: string) => json((await sandbox.run(built['kv-counter']!, 'count', key, context())).output).count as number;
    assert.equal(await count('alice'), 1);
    assert.equal(await count('alice'), 2);
    assert.equal(await count('bob'), 1);
  });
});
