import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AdmittedArtifact, loadTier, Sandbox, type SandboxPolicy } from '@airlock/sandbox';
import { compileSource } from '../support/pdk.js';
import { admitted, context } from '../support/sandbox-harness.js';

const EXAMPLES = new URL('../../../examples/plugins/', import.meta.url);
const NAMES = ['discount-rule', 'lead-scorer', 'content-moderation', 'webhook-formatter', 'kv-rate-counter'] as const;
const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString());

describe('example plugins, built from source and run on the tiers of sandbox-policies/', () => {
  let sandbox: Sandbox;
  let free: SandboxPolicy;
  let standard: SandboxPolicy;
  let hooks: Server;
  let hookPort: number;
  const received: Array<{ path: string; contentType: string | undefined; body: unknown }> = [];
  const plugins = {} as Record<(typeof NAMES)[number], AdmittedArtifact>;

  before(async () => {
    free = await loadTier('free');
    const tier = await loadTier('standard');
    // The tenant's override: its webhook host.
    standard = { ...tier, http: { ...tier.http, allowedHosts: ['hooks.example.test'] } };
    hooks = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(body) });
        response.writeHead(request.url === '/broken' ? 500 : 200).end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookPort = (hooks.address() as AddressInfo).port;
    sandbox = await Sandbox.start({
      executors: 2,
      http: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: (_address, host) => host === 'hooks.example.test' },
    });
    const sources = await Promise.all(NAMES.map((name) => readFile(new URL(`${name}/index.ts`, EXAMPLES), 'utf8')));
    const wasm = await Promise.all(sources.map((source) => compileSource(source)));
    NAMES.forEach((name, i) => (plugins[name] = admitted(wasm[i]!, name === 'webhook-formatter' ? standard : free)));
  });
  after(async () => {
    await sandbox.stop();
    hooks.close();
  });

  it('discount-rule applies the configured thresholds, with more for VIPs', async () => {
    const order = (tier: string, price: number) => JSON.stringify({ id: 'o-7', customer: { tier }, items: [{ sku: 'A', price, qty: 3 }, { sku: 'B', price: 5, qty: 2 }] });
    const regular = await sandbox.run(plugins['discount-rule'], 'apply', order('regular', 40), context(free));
    assert.equal(regular.status, 'ok', regular.error?.message);
    assert.deepEqual(json(regular.output), { orderId: 'o-7', subtotalCents: 13000, discountPercent: 10, discountCents: 1300, reason: 'subtotal reaches 100.0' });
    const vip = await sandbox.run(plugins['discount-rule'], 'apply', order('vip', 40), context(free, { config: { percent: '15', vipExtraPercent: '5' } }));
    assert.deepEqual(json(vip.output), { orderId: 'o-7', subtotalCents: 13000, discountPercent: 20, discountCents: 2600, reason: 'subtotal reaches 100.0, vip customer' });
    const small = await sandbox.run(plugins['discount-rule'], 'apply', order('vip', 10), context(free));
    assert.equal(json(small.output).discountCents, 0);
    const broken = await sandbox.run(plugins['discount-rule'], 'apply', '{"id": "o-8"}', context(free));
    assert.equal(broken.status, 'plugin_error');
    assert.equal(broken.error!.message, 'the order has no items');
  });

  it('lead-scorer grades leads by their signals', async () => {
    const strong = await sandbox.run(plugins['lead-scorer'], 'score', JSON.stringify({ email: 'ana@acme.io', employees: 250, source: 'referral', pageViews: 40 }), context(free));
    assert.deepEqual(json(strong.output), {
      score: 100,
      grade: 'A',
      signals: ['company email', '100+ employees', 'referral', '25 points from page views'],
    });
    const weak = await sandbox.run(plugins['lead-scorer'], 'score', JSON.stringify({ email: 'bob@gmail.com', employees: 3, pageViews: 4 }), context(free));
    assert.deepEqual(json(weak.output), { score: 4, grade: 'C', signals: ['4 points from page views'] });
  });

  it('content-moderation allows, reviews and blocks, with reasons', async () => {
    const verdict = async (text: string, config?: Record<string, string>) => json((await sandbox.run(plugins['content-moderation'], 'moderate', text, context(free, config ? { config } : {}))).output);
    assert.deepEqual(await verdict('Thanks, the delivery was quick.'), { verdict: 'allow', reasons: [] });
    assert.deepEqual(await verdict('THIS IS THE WORST SHOP EVER!!!'), { verdict: 'review', reasons: ['shouting'] });
    assert.deepEqual(await verdict('Great SCAM, see http://a.test http://b.test http://c.test http://d.test'), {
      verdict: 'block',
      reasons: ['contains "scam"', '4 links'],
    });
    assert.deepEqual(await verdict('buy cheap watches', { blocked: 'watches, pills' }), { verdict: 'block', reasons: ['contains "watches"'] });
  });

  it('webhook-formatter posts to an allowed host and reports the delivery', async () => {
    const event = JSON.stringify({ type: 'order.created', id: 'o-1', summary: '3 items, 120 EUR' });
    const config = { webhookUrl: `http://hooks.example.test:${hookPort}/chat`, channel: '#sales' };
    const result = await sandbox.run(plugins['webhook-formatter'], 'post', event, context(standard, { config }));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual(json(result.output), { delivered: true, status: 200 });
    assert.deepEqual(received.at(-1), { path: '/chat', contentType: 'application/json', body: { channel: '#sales', text: '*order.created* o-1: 3 items, 120 EUR' } });
    const failing = await sandbox.run(plugins['webhook-formatter'], 'post', event, context(standard, { config: { webhookUrl: `http://hooks.example.test:${hookPort}/broken` } }));
    assert.deepEqual(json(failing.output), { delivered: false, status: 500 });
    const elsewhere = await sandbox.run(plugins['webhook-formatter'], 'post', event, context(standard, { config: { webhookUrl: 'http://169.254.169.254/' } }));
    assert.equal(elsewhere.status, 'http_refused');
    const onFree = await sandbox.run(admitted(await compileSource(await readFile(new URL('webhook-formatter/index.ts', EXAMPLES), 'utf8'))), 'post', event, context(free, { config }));
    assert.equal(onFree.status, 'http_refused', 'the free tier has no HTTP');
  });

  it('kv-rate-counter counts per key and window, and stops at the limit', async () => {
    const hit = async (key: string, window: string) =>
      json((await sandbox.run(plugins['kv-rate-counter'], 'hit', JSON.stringify({ key, window }), context(free, { config: { limit: '2' } }))).output);
    assert.deepEqual(await hit('c-42', '10:05'), { allowed: true, count: 1, limit: 2 });
    assert.deepEqual(await hit('c-42', '10:05'), { allowed: true, count: 2, limit: 2 });
    assert.deepEqual(await hit('c-42', '10:05'), { allowed: false, count: 3, limit: 2 });
    assert.deepEqual(await hit('c-42', '10:06'), { allowed: true, count: 1, limit: 2 }, 'a new window');
    assert.deepEqual(await hit('c-7', '10:05'), { allowed: true, count: 1, limit: 2 }, 'another key');
  });
});
