import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { HttpClient } from '../support/http-client.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { publishAndBind } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';
import { startApiProcess, startWorkerProcess } from '../support/airlock-processes.js';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
}
interface ReceivedSpan extends OtlpSpan {
  service: string;
  pid: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue)) ?? value?.doubleValue ?? value?.boolValue;
};

describe('OTLP export: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans go to the collector too', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let collector: Server;
  const received: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const processes: LauncherProcess[] = [];

  before(async () => {
    // A small OTLP/HTTP receiver on loopback.
    collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        contentTypes.add(`${request.method} ${request.url} ${request.headers['content-type']}`);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const resourceSpans of body.resourceSpans ?? []) {
          const resource = { attributes: resourceSpans.resource?.attributes ?? [] } as OtlpSpan;
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              received.push({ ...span, service: String(attribute(resource, 'service.name')), pid: String(attribute(resource, 'process.pid') ?? '') });
            }
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    await publishAndBind(api, alice, { name: 'counter', template: 'kv-counter', event: 'page.viewed', exportName: 'count' });
  });
  after(async () => {
    for (const child of processes) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await api.close();
    collector.close();
  });

  it('sends the spans of the API process and the worker process, one trace, with their attributes', async () => {
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const apiProcess = await startApiProcess(api, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    processes.push(apiProcess.process);
    // Port 0: the system picks one, and the banner says which.
    const worker = await startWorkerProcess(api, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, AIRLOCK_METRICS_PORT: '0', HOST: '127.0.0.1' });
    processes.push(worker);
    const metricsPort = Number(/metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(worker.stdout())?.[1]);
    assert.ok(metricsPort > 0, worker.stdout());

    const traceId = randomBytes(16).toString('hex');
    const client = new HttpClient(apiProcess.baseUrl);
    const accepted = await client.post('/v1/events', {
      token: alice.key,
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: { type: 'page.viewed', payload: { page: '/' } },
    });
    assert.equal(accepted.status, 202, accepted.text);
    const invocationId = accepted.body.invocations[0].id;

    const ours = () => received.filter((span) => span.traceId === traceId);
    for (let tries = 0; tries < 150 && !['POST /v1/events', 'invocation.job', 'sandbox.run', 'host.kvSet'].every((name) => ours().some((span) => span.name === name)); tries++) {
      await sleep(100);
    }
    const spans = ours();
    const byName = (name: string) => {
      const span = spans.find((candidate) => candidate.name === name);
      assert.ok(span, `${name} among ${spans.map((candidate) => candidate.name).join(', ')}`);
      return span;
    };
    const request = byName('POST /v1/events');
    const job = byName('invocation.job');
    const run = byName('sandbox.run');
    byName('host.kvSet');
    assert.ok([...contentTypes].every((line) => line === 'POST /v1/traces application/json'), [...contentTypes].join('; '));
    assert.equal(request.service, 'airlock');
    assert.notEqual(request.pid, job.pid, 'the API and the worker are separate processes');
    assert.equal(job.parentSpanId, byName('queue.enqueue').spanId, 'the worker continues the trace the API started');
    assert.equal(run.parentSpanId, job.spanId);
    assert.equal(attribute(request, 'tenant.id'), alice.tenantId);
    assert.equal(attribute(job, 'invocation.id'), invocationId);
    assert.equal(attribute(job, 'event.type'), 'page.viewed');
    assert.equal(attribute(run, 'sandbox.status'), 'ok');
    assert.ok(Number(attribute(run, 'sandbox.fuel_used')) > 0);

    // The worker-only process serves its metrics on a port of its own.
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^airlock_invocations_total\{tier="[a-z]+",status="ok"\} 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
    // As Prometheus may scrape it: with a query string (`params:`), or HEAD; anything else is a 405 naming both.
    const withParams = await fetch(`http://127.0.0.1:${metricsPort}/metrics?name%5B%5D=up`);
    assert.equal(withParams.status, 200);
    assert.match(await withParams.text(), /^airlock_invocations_total/m);
    const head = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('content-type')?.startsWith('text/plain')], [200, true]);
    const posted = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' });
    assert.deepEqual([posted.status, posted.headers.get('allow')], [405, 'GET, HEAD']);
  });
});
