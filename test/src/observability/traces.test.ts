import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type ApiHarness, spanExporter, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker, waitUntilFinished } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TraceNode {
  spanId: string;
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
  children: TraceNode[];
}

describe('traces: one trace follows an event from the host app to the result', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;
  let bob: TenantSession;
  let pluginId: string;

  before(async () => {
    api = await startApi();
    worker = await startWorker(api);
    alice = await createTenantSession(api, 'Alice');
    bob = await createTenantSession(api, 'Bob');
    ({ pluginId } = await publishAndBind(api, alice, { name: 'counter', template: 'kv-counter', event: 'page.viewed', exportName: 'count' }));
  });
  after(async () => {
    await worker.close();
    await api.close();
  });

  const finished = (id: string) => waitUntilFinished(api, alice.key, id);

  it("runs an event whose request carries large W3C baggage, in the caller's trace (the baggage stays behind)", async () => {
    const traceId = randomBytes(16).toString('hex');
    const baggage = Array.from({ length: 40 }, (_, n) => `member${n}=${'v'.repeat(40)}`).join(',');
    const accepted = await api.http.post('/v1/events', {
      token: alice.key,
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, baggage },
      body: { type: 'page.viewed', payload: { page: '/baggage' } },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const invocation = await finished(accepted.body.invocations[0].id);
    assert.equal(invocation.status, 'ok', JSON.stringify(invocation.error));
    assert.equal(invocation.attempts, 1);
    assert.equal(invocation.traceId, traceId);
  });

  it("continues the host app's trace through the API, the queue, the worker, the sandbox and its host calls", async () => {
    // The host app's SDK call carries a W3C traceparent.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const accepted = await api.http.post('/v1/events', {
      token: alice.key,
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: { type: 'page.viewed', payload: { page: '/pricing' } },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const invocationId = accepted.body.invocations[0].id as string;
    const invocation = await finished(invocationId);
    assert.equal(invocation.status, 'ok');
    assert.equal(invocation.traceId, traceId, 'the invocation records its trace');

    let spans: ReadableSpan[] = [];
    for (let tries = 0; tries < 100 && !spans.some((span) => span.name === 'invocation.job' && span.endTime[0] > 0); tries++) {
      await sleep(20);
      spans = spanExporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    }
    const named = (name: string) => {
      const found = spans.filter((span) => span.name === name);
      assert.equal(found.length >= 1, true, `a ${name} span among ${spans.map((span) => span.name).join(', ')}`);
      return found[0]!;
    };
    const request = named('POST /v1/events');
    const enqueue = named('queue.enqueue');
    const job = named('invocation.job');
    const claim = named('invocation.claim');
    const run = named('sandbox.run');
    const record = named('invocation.record');
    const hostCalls = spans.filter((span) => span.name.startsWith('host.'));
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

    assert.equal(request.kind, SpanKind.SERVER);
    assert.equal(parentOf(request), callerSpanId, "the request span is a child of the caller's");
    assert.equal(parentOf(enqueue), request.spanContext().spanId);
    assert.equal(enqueue.kind, SpanKind.PRODUCER);
    assert.equal(parentOf(job), enqueue.spanContext().spanId, 'the job continues the trace carried in its data');
    assert.equal(job.kind, SpanKind.CONSUMER);
    for (const child of [claim, run, record]) assert.equal(parentOf(child), job.spanContext().spanId, `${child.name} runs within the job`);
    assert.deepEqual(hostCalls.map((span) => span.name).sort(), ['host.kvGet', 'host.kvSet'], 'the counter reads and writes its KV entry');
    for (const call of hostCalls) assert.equal(parentOf(call), run.spanContext().spanId, `${call.name} is a child of the sandbox run`);
    const queries = spans.filter((span) => span.name.startsWith('pg.query'));
    assert.ok(queries.some((query) => parentOf(query) === request.spanContext().spanId), 'the API\'s queries are traced under the request');
    assert.ok(queries.some((query) => parentOf(query) === record.spanContext().spanId || parentOf(query) === claim.spanContext().spanId), "the worker's too");

    assert.equal(request.attributes['tenant.id'], alice.tenantId);
    assert.equal(request.attributes['event.type'], 'page.viewed');
    assert.equal(request.attributes['http.route'], '/v1/events');
    assert.deepEqual(
      {
        tenant: job.attributes['tenant.id'],
        plugin: job.attributes['plugin.id'],
        version: job.attributes['plugin.version'],
        invocation: job.attributes['invocation.id'],
        event: job.attributes['event.type'],
        status: job.attributes['sandbox.status'],
        fuel: job.attributes['sandbox.fuel_used'],
      },
      { tenant: alice.tenantId, plugin: pluginId, version: 1, invocation: invocationId, event: 'page.viewed', status: 'ok', fuel: invocation.fuelUsed },
    );
    assert.equal(run.attributes['sandbox.status'], 'ok');
    assert.equal(run.attributes['sandbox.fuel_used'], invocation.fuelUsed);

    // The tenant's trace store has the same tree of Airlock's own spans (not the database queries: their
    // SQL is the operator's business), for the tenant only.
    const tenantSpans = spans.filter((span) => span.attributes['tenant.id'] === alice.tenantId && !span.name.startsWith('pg.query'));
    let tree: { traceId: string; spanCount: number; roots: TraceNode[] } | undefined;
    for (let tries = 0; tries < 100; tries++) {
      const response = await api.http.get(`/v1/invocations/${invocationId}/trace`, { token: alice.key });
      if (response.status === 200 && response.body.spanCount >= tenantSpans.length) {
        tree = response.body;
        break;
      }
      await sleep(100);
    }
    assert.ok(tree, 'the trace reached the store');
    assert.equal(tree.traceId, traceId);
    assert.deepEqual(tree.roots.map((root) => root.name), ['POST /v1/events'], 'the request span is the root: the caller\'s span is not ours');
    const path = (node: TraceNode, names: string[]): TraceNode | undefined =>
      names.length === 0 ? node : node.children.filter((child) => child.name === names[0]).map((child) => path(child, names.slice(1))).find(Boolean);
    const storedRun = path(tree.roots[0]!, ['queue.enqueue', 'invocation.job', 'sandbox.run']);
    assert.ok(storedRun, 'request > enqueue > job > sandbox.run');
    assert.deepEqual(storedRun.children.map((child) => child.name).sort(), ['host.kvGet', 'host.kvSet']);
    const storedNames = (node: TraceNode): string[] => [node.name, ...node.children.flatMap(storedNames)];
    assert.deepEqual(storedNames(tree.roots[0]!).filter((name) => name.startsWith('pg.')), [], 'no SQL in the tenant\'s trace');
    assert.equal(tree.spanCount, tenantSpans.length);
    assert.equal(storedRun.attributes['sandbox.fuel_used'], invocation.fuelUsed);
    assert.deepEqual((await api.http.get(`/v1/traces/${traceId}`, { token: alice.key })).body, tree);

    // Other tenants see none of it.
    assert.equal((await api.http.get(`/v1/traces/${traceId}`, { token: bob.key })).status, 404);
    assert.equal((await api.http.get(`/v1/invocations/${invocationId}/trace`, { token: bob.key })).status, 404);
    assert.equal((await api.http.get('/v1/traces/not-a-trace-id', { token: alice.key })).status, 404);
    assert.equal((await api.http.get(`/v1/traces/${traceId}`)).status, 401);
  });

  it('starts a trace of its own when the caller sends none, and marks failed runs as errors', async () => {
    const { pluginId: failing } = await publishAndBind(api, alice, { name: 'filter', template: 'event-filter', event: 'order.checked', exportName: 'filter' });
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'order.checked', payload: 'not json' } });
    const invocation = await finished(accepted.body.invocations[0].id);
    assert.equal(invocation.status, 'plugin_error', 'the filter refuses a payload that is not JSON');
    assert.match(invocation.traceId, /^[0-9a-f]{32}$/);
    let run: ReadableSpan | undefined;
    for (let tries = 0; tries < 100 && run === undefined; tries++) {
      run = spanExporter.getFinishedSpans().find((span) => span.name === 'sandbox.run' && span.spanContext().traceId === invocation.traceId);
      if (run === undefined) await sleep(20);
    }
    assert.ok(run);
    assert.equal(run.attributes['plugin.id'], failing);
    assert.equal(run.attributes['sandbox.status'], invocation.status);
    assert.equal(run.status.code, 2, 'an error span');
  });
});
