import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { HttpClient } from '../support/http-client.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { startApiProcess } from '../support/airlock-processes.js';
import { publishAndBind } from '../support/pipeline.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('service logs: JSON lines with requestId, tenantId and traceId, without secrets or payloads', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  let child: LauncherProcess | undefined;

  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
    await publishAndBind(api, alice, { name: 'greeter', template: 'hello', event: 'user.joined', exportName: 'greet' });
  });
  after(async () => {
    if (child !== undefined && child.child.exitCode === null) child.child.kill('SIGKILL');
    await api.close();
  });

  for (const role of ['api', 'all'] as const) {
  it(`logs each request as one JSON line tied to its request, tenant and trace (${role === 'api' ? 'the API alone' : 'the API with a worker in its process'})`, async () => {
    if (child !== undefined && child.child.exitCode === null) child.child.kill('SIGKILL');
    const started = await startApiProcess(api, { LOG_LEVEL: 'info' }, role);
    child = started.process;
    const traceId = randomBytes(16).toString('hex');
    const requestId = `logs-${randomBytes(4).toString('hex')}`;
    const secretPayload = `payload-${randomBytes(8).toString('hex')}`;
    const accepted = await new HttpClient(started.baseUrl).post('/v1/events', {
      token: alice.key,
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'x-request-id': requestId },
      body: { type: 'user.joined', payload: { note: secretPayload } },
    });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal((await new HttpClient(started.baseUrl).get('/v1/admin/tenants?limit=1', { token: api.adminToken })).status, 200);

    let line: Record<string, any> | undefined;
    for (let tries = 0; tries < 50 && line === undefined; tries++) {
      line = child
        .stdout()
        .split('\n')
        .filter((text) => text.startsWith('{'))
        .map((text) => JSON.parse(text) as Record<string, any>)
        .find((entry) => entry.requestId === requestId);
      if (line === undefined) await sleep(50);
    }
    assert.ok(line, `a JSON line for the request in:\n${child.stdout()}`);
    assert.deepEqual(
      { tenantId: line.tenantId, traceId: line.traceId, method: line.req?.method, path: line.req?.path, status: line.res?.statusCode, service: line.service },
      { tenantId: alice.tenantId, traceId, method: 'POST', path: '/v1/events', status: 202, service: 'airlock-api' },
    );
    assert.equal(typeof line.level, 'number');
    assert.equal(typeof line.time, 'number');

    // What the code logs while serving a request carries its id too: here the error behind a 500.
    const failingId = `logs-failing-${randomBytes(4).toString('hex')}`;
    await api.database.prisma.$executeRawUnsafe('ALTER TABLE tenants RENAME TO tenants_gone');
    try {
      const failed = await new HttpClient(started.baseUrl).get('/v1/admin/tenants', { token: api.adminToken, headers: { 'x-request-id': failingId } });
      assert.equal(failed.status, 500, failed.text);
    } finally {
      await api.database.prisma.$executeRawUnsafe('ALTER TABLE tenants_gone RENAME TO tenants');
    }
    let failure: Record<string, any> | undefined;
    for (let tries = 0; tries < 50 && failure === undefined; tries++) {
      failure = child
        .stdout()
        .split('\n')
        .filter((text) => text.startsWith('{'))
        .map((text) => JSON.parse(text) as Record<string, any>)
        .find((entry) => entry.requestId === failingId && entry.context === 'Errors');
      if (failure === undefined) await sleep(50);
    }
    assert.ok(failure, `the error logged while serving the request, with its id, in:\n${child.stdout()}`);

    const output = child.stdout() + child.stderr();
    assert.ok(!output.includes(alice.key), 'never the API key');
    assert.ok(!output.includes(alice.key.split('_')[2]!), 'nor its secret part');
    assert.ok(!output.includes(secretPayload), 'never the payload');
    assert.ok(!/authorization/i.test(output), 'no request headers at all');
    assert.ok(!output.includes(api.adminToken), 'never the admin token');
    for (const text of child.stdout().split('\n').filter((candidate) => candidate.startsWith('{'))) assert.doesNotThrow(() => JSON.parse(text));
  });
  }
});
