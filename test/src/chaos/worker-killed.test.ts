import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { waitUntilFinished } from '../support/pipeline.js';
import type { TenantSession } from '../support/tenant-session.js';
import { startWorkerProcess, tenantWithLongCalls } from '../support/airlock-processes.js';

// About a second of work, so that a worker can be killed while it runs.
const WORK = `import { Host } from "@airlock/plugin-pdk";
export function work(): i32 {
  let x: i64 = 0;
  for (let i: i64 = 0; i < 400000000; i++) x += i & 7;
  Host.outputString(Host.inputString() + " " + x.toString());
  return 0;
}
`;

describe('chaos: a worker process killed with SIGKILL mid-job', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  const workers: LauncherProcess[] = [];

  before(async () => {
    api = await startApi();
    alice = await tenantWithLongCalls(api, WORK, 'work');
  });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await api.close();
  });

  async function startWorker(): Promise<LauncherProcess> {
    const worker = await startWorkerProcess(api);
    workers.push(worker);
    return worker;
  }

  const invocation = async (id: string) => (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body;

  it('loses nothing: the job comes back, runs on another worker, and is recorded once', async () => {
    const first = await startWorker();
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'job.run', payloadBase64: Buffer.from(name).toString('base64') } });
      assert.equal(accepted.status, 202, accepted.text);
      ids.push(accepted.body.invocations[0].id);
    }
    let running: string | undefined;
    for (let tries = 0; tries < 200 && running === undefined; tries++) {
      for (const id of ids) if ((await invocation(id)).status === 'running') running = id;
      if (running === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(running, 'a job started');
    await new Promise((resolve) => setTimeout(resolve, 150));
    first.child.kill('SIGKILL');
    await first.exited();

    const second = await startWorker();
    const results = [];
    for (const id of ids) results.push(await waitUntilFinished(api, alice.key, id, 60_000));
    assert.deepEqual(results.map((result) => result.status), ['ok', 'ok', 'ok'], JSON.stringify(results.map((r) => r.error)));
    assert.deepEqual(results.map((result) => result.output.split(' ')[0]), ['a', 'b', 'c']);
    assert.ok(results.find((result) => result.id === running)!.attempts >= 2, 'the killed job ran again');
    const usage = await api.http.get('/v1/usage', { token: alice.key });
    assert.equal(usage.body.days.reduce((sum: number, day: { invocations: { ok?: number } }) => sum + (day.invocations.ok ?? 0), 0), 3, 'recorded and charged once each');

    assert.equal(await second.stop(), 0, 'SIGTERM drains and exits cleanly');
  });
});
