import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, publishAndBind, startWorker } from '../support/pipeline.js';
import { readSse } from '../support/sse.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of one series in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: GET /metrics in the Prometheus text format, for the admin', () => {
  let api: ApiHarness;
  let worker: InProcessWorker;
  let alice: TenantSession;

  before(async () => {
    api = await startApi();
    worker = await startWorker(api);
    alice = await createTenantSession(api, 'Alice');
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'user.joined', exportName: 'greet' });
  });
  after(async () => {
    await worker.close();
    await api.close();
  });

  it('counts invocations by tier and status, times them, and reports queues, executors, rejections and HTTP', async () => {
    const tier = (await api.http.get(`/v1/admin/tenants/${alice.tenantId}`, { token: api.adminToken })).body.tier as string;
    const before = await api.http.get('/metrics', { token: api.adminToken });
    const okBefore = sample(before.text, `airlock_invocations_total{tier="${tier}",status="ok"}`) ?? 0;

    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'user.joined', payload: 'Ada' } });
    const id = accepted.body.invocations[0].id;
    for (let tries = 0; tries < 200 && (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body.status !== 'ok'; tries++) await sleep(25);
    const plugin = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'broken' } })).body.id;
    const refused = await api.http.post(`/v1/plugins/${plugin}/versions`, { token: alice.key, rawBody: { data: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]), contentType: 'application/wasm' } });
    assert.equal(refused.status, 422, refused.text);

    const response = await api.http.get('/metrics', { token: api.adminToken });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = response.text;
    assert.equal(sample(text, `airlock_invocations_total{tier="${tier}",status="ok"}`), okBefore + 1);
    assert.ok((sample(text, `airlock_invocation_duration_seconds_count{tier="${tier}"}`) ?? 0) >= 1);
    assert.ok((sample(text, `airlock_invocation_fuel_sum{tier="${tier}"}`) ?? 0) > 0);
    assert.ok((sample(text, `airlock_admission_rejections_total{kind="${refused.body.error.details.kind}"}`) ?? 0) >= 1, 'the refused upload is counted');
    assert.ok((sample(text, 'airlock_http_requests_total{method="POST",route="/v1/events",status="202"}') ?? 0) >= 1, 'HTTP by route, not by raw path');
    assert.ok(!text.includes(`route="/v1/invocations/${id}"`), 'ids never become labels');
    // Refused before routing (a body that does not parse, or of a type not taken), still counted under the route.
    const malformed = await api.http.post('/v1/admin/tenants', { token: api.adminToken, rawBody: { data: '{bad', contentType: 'application/json' } });
    const wrongType = await api.http.post('/v1/events', { token: alice.key, rawBody: { data: 'x', contentType: 'text/plain' } });
    assert.deepEqual([malformed.status, wrongType.status], [400, 415]);
    const afterRefusals = (await api.http.get('/metrics', { token: api.adminToken })).text;
    assert.equal(sample(afterRefusals, 'airlock_http_requests_total{method="POST",route="/v1/admin/tenants",status="400"}'), 1);
    assert.equal(sample(afterRefusals, 'airlock_http_requests_total{method="POST",route="/v1/events",status="415"}'), 1);
    assert.equal(sample(afterRefusals, 'airlock_http_requests_total{method="POST",route="unmatched",status="400"}'), undefined);
    assert.equal((sample(text, 'airlock_executors{state="idle"}') ?? 0) + (sample(text, 'airlock_executors{state="busy"}') ?? 0), 1, 'the pool of one executor');
    assert.equal(sample(text, 'airlock_executor_restarts'), 0);
    assert.equal(sample(text, 'airlock_queue_jobs{queue="invocations",state="wait"}'), 0);
    assert.equal(typeof sample(text, 'airlock_queue_next_job_age_seconds{queue="invocations"}'), 'number');
    assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined, 'process metrics too');

    assert.equal((await api.http.get('/metrics', { token: alice.key })).status, 403);
    assert.equal((await api.http.get('/metrics')).status, 401);
  });

  it('counts a stream its client ended, which never finishes otherwise', async () => {
    const series = 'airlock_http_requests_total{method="GET",route="/v1/logs/stream",status="200"}';
    const counted = async () => sample((await api.http.get('/metrics', { token: api.adminToken })).text, series) ?? 0;
    const before = await counted();
    const stream = readSse(`${api.baseUrl}/v1/logs/stream`, alice.key);
    assert.equal(await stream.opened, 200);
    stream.close();
    let after = before;
    for (let tries = 0; tries < 50 && after === before; tries++) {
      await sleep(100);
      after = await counted();
    }
    assert.equal(after, before + 1);
  });
});
