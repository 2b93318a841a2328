import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { startApiProcess } from '../support/airlock-processes.js';
import { readSse } from '../support/sse.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

describe('stopping an API that has streams open', () => {
  let api: ApiHarness;
  let alice: TenantSession;

  before(async () => {
    api = await startApi();
    alice = await createTenantSession(api, 'Alice');
  });
  after(() => api.close());

  it('ends each open stream telling its client to reconnect, and stops cleanly rather than at its deadline', async () => {
    const started = await startApiProcess(api);
    const stream = readSse(`${started.baseUrl}/v1/logs/stream`, alice.key);
    try {
      assert.equal(await stream.opened, 200);
      started.process.child.kill('SIGTERM');
      const events = await stream.until((received) => received.some((entry) => entry.event === 'timeout'), 10_000);
      const timeout = events.find((entry) => entry.event === 'timeout')!;
      assert.equal((timeout.data as { reconnect: boolean }).reconnect, true, 'open it again (another API, or this one restarted)');
      assert.ok(typeof (timeout.data as { since?: unknown }).since === 'string', 'from where it stopped');
      // The deadline path exits with 1 after AIRLOCK_SHUTDOWN_DRAIN_MS and a margin; a clean stop with 0.
      assert.equal(await started.process.exited(), 0, started.process.stderr());
      assert.doesNotMatch(started.process.stderr(), /did not stop within/);
    } finally {
      stream.close();
      if (started.process.child.exitCode === null) started.process.child.kill('SIGKILL');
    }
  });
});
