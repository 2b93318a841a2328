import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createInvocationQueue, createRedisConnection } from '@airlock/queue';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import type { LauncherProcess } from '../support/launcher-process.js';
import { waitUntilFinished } from '../support/pipeline.js';
import type { TenantSession } from '../support/tenant-session.js';
import { SPIN_PLUGIN, startWorkerProcess, tenantWithLongCalls } from '../support/airlock-processes.js';

const DRAIN_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('chaos: SIGTERM to a worker process under load', () => {
  let api: ApiHarness;
  let alice: TenantSession;
  const workers: LauncherProcess[] = [];

  before(async () => {
    api = await startApi();
    alice = await tenantWithLongCalls(api, SPIN_PLUGIN, 'spin');
  });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await api.close();
  });

  const invocation = async (id: string) => (await api.http.get(`/v1/invocations/${id}`, { token: alice.key })).body;
  async function emit(iterations: number): Promise<string> {
    const accepted = await api.http.post('/v1/events', { token: alice.key, body: { type: 'job.run', payloadBase64: Buffer.from(String(iterations)).toString('base64') } });
    assert.equal(accepted.status, 202, accepted.text);
    return accepted.body.invocations[0].id;
  }
  const settled = (id: string) => waitUntilFinished(api, alice.key, id, 60_000);

  it('drains within its bound: a short run finishes, a long one is left for another worker, nothing new starts, nothing is lost', async () => {
    const first = await startWorkerProcess(api, { AIRLOCK_EXECUTORS: '2', AIRLOCK_SHUTDOWN_DRAIN_MS: String(DRAIN_MS), LOG_LEVEL: 'info' });
    workers.push(first);
    const short = await emit(100_000_000); // about a quarter of a second: ends well within the drain
    const long = await emit(3_200_000_000); // about eight seconds: outlasts it
    // Wait until both run, then queue more work that the stopping worker must not take.
    for (let tries = 0; tries < 200; tries++) {
      if ((await invocation(short)).status === 'running' && (await invocation(long)).status === 'running') break;
      await sleep(25);
    }
    assert.equal((await invocation(long)).status, 'running', 'the long run started');

    const signalled = performance.now();
    const stopped = first.stop();
    // Work that arrives while it drains is for other workers. (Its executors keep both cores busy, so how soon it
    // acts on the signal varies: the test waits until it says it has stopped taking jobs.)
    await first.printed('Stopped taking jobs');
    const queued = [await emit(1000), await emit(1000)];
    const code = await stopped;
    const stoppedAfterMs = performance.now() - signalled;
    assert.equal(code, 0, `a bounded drain is a clean exit:\n${first.stderr()}`);
    assert.ok(stoppedAfterMs < DRAIN_MS + 3000, `it stopped ${Math.round(stoppedAfterMs)} ms after SIGTERM (drain ${DRAIN_MS} ms)`);
    assert.match(first.stderr() + first.stdout(), new RegExp(`still running after the ${DRAIN_MS} ms drain`));

    const shortResult = await invocation(short);
    assert.deepEqual([shortResult.status, shortResult.attempts], ['ok', 1], 'the short run finished during the drain, recorded once');
    for (const id of queued) {
      const result = await invocation(id);
      assert.deepEqual([result.status, result.attempts], ['queued', 0], `${id} was not started by the stopping worker`);
    }
    assert.equal((await invocation(long)).finishedAt, null, 'the abandoned run recorded nothing');
    const redis = createRedisConnection(api.config.redisUrl!, 'consumer', 'sigterm-test');
    const queue = createInvocationQueue(redis, api.redisPrefix);
    try {
      assert.equal((await queue.getJob(long))?.attemptsMade, 0, 'abandoning used up none of its attempts');
    } finally {
      await queue.close();
      await redis.quit();
    }

    const second = await startWorkerProcess(api);
    workers.push(second);
    const longResult = await settled(long);
    assert.deepEqual([longResult.status, longResult.attempts], ['ok', 2], 'the abandoned run ran again on the other worker');
    for (const id of queued) assert.equal((await settled(id)).status, 'ok');
    const usage = await api.http.get('/v1/usage', { token: alice.key });
    const ok = usage.body.days.reduce((sum: number, day: { invocations: { ok?: number } }) => sum + (day.invocations.ok ?? 0), 0);
    assert.equal(ok, 4, 'four invocations, each charged once');
    assert.equal(await second.stop(), 0);
  });
});
