import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sandbox } from '@airlock/sandbox';
import { admitted, context, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, WELL_BEHAVED, wat } from '../support/wasm.js';

/** `busy` counts down from 200 million: a plugin call that keeps a core busy for a while. */
const BUSY = admitted(
  wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  (func (export "busy") (result i32) (local $i i32)
    (local.set $i (i32.const 200000000))
    (loop $count (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $count (local.get $i)))
    (i32.const 0))
)`),
);
const QUICK = admitted(WELL_BEHAVED);
const generous = policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 30_000 });
const tenantA = context(generous, { tenantId: 'tenant-a' });
const tenantB = context(generous, { tenantId: 'tenant-b', pluginId: 'plugin-b' });

/** Waits until the pool has had `busy` executors running at once (or the calls ended), returning the most seen. */
async function mostBusy(sandbox: Sandbox, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let most = 0;
  while (!done) {
    most = Math.max(most, sandbox.stats().busy);
    await sleep(2);
  }
  return most;
}

describe('executors shared between tenants', () => {
  let sandbox: Sandbox | undefined;
  afterEach(() => sandbox?.stop());

  it('gives a lone tenant every executor', async () => {
    sandbox = await Sandbox.start({ executors: 2 });
    const flood = Promise.all(Array.from({ length: 4 }, () => sandbox!.run(BUSY, 'busy', '', tenantA)));
    assert.equal(await mostBusy(sandbox, flood), 2);
    for (const result of await flood) assert.equal(result.status, 'ok');
  });

  it("keeps the last idle executor from a flooding tenant while another is about, so the other's call starts at once", async () => {
    sandbox = await Sandbox.start({ executors: 2 });
    // B has been about: A's flood may then hold all executors but one.
    assert.equal((await sandbox.run(QUICK, 'greet', 'b', tenantB)).status, 'ok');
    const finished: string[] = [];
    const flood = Promise.all(
      Array.from({ length: 3 }, (_, i) => sandbox!.run(BUSY, 'busy', '', tenantA).then((result) => (finished.push(`a${i}`), result))),
    );
    await sleep(20);
    const { busy, queued } = sandbox.stats();
    assert.deepEqual({ busy, queued }, { busy: 1, queued: 2 }, "one of A's calls runs, two wait");
    const late = await sandbox.run(QUICK, 'greet', 'b', tenantB).then((result) => (finished.push('b'), result));
    assert.equal(late.status, 'ok');
    assert.equal(new TextDecoder().decode(late.output), 'hello, b');
    assert.deepEqual(finished, ['b'], "B's call ran beside A's first, not after it");
    assert.equal(await mostBusy(sandbox, flood), 1, 'A kept to one executor while B is about');
    for (const result of await flood) assert.equal(result.status, 'ok');
  });
});
