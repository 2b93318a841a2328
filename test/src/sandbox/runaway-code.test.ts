import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, freeTier, killBusyExecutor, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

/** Peak resident memory of a process, from /proc. */
async function peakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const RUNAWAY = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  ${GUEST_HELPERS}
  (data (i32.const 64) "about to spin")
  (func (export "spin") (result i32) (loop $forever (br $forever)) (i32.const 0))
  (func (export "log_then_spin") (result i32)
    (call $log_info (call $to_block (i32.const 64) (i32.const 13)))
    (loop $forever (br $forever))
    (i32.const 0))
  (func $recurse (param $n i64) (result i64) (i64.add (call $recurse (i64.add (local.get $n) (i64.const 1))) (i64.const 1)))
  (func (export "recurse") (result i32) (drop (call $recurse (i64.const 0))) (i32.const 0))
  (func (export "grow_and_fill") (result i32) (local $pages i32)
    ;; Grows 1 page at a time towards 2 GiB, touching every page; ignores refusals like careless code does.
    (loop $more
      (drop (memory.grow (i32.const 1)))
      (local.set $pages (i32.add (local.get $pages) (i32.const 1)))
      (i32.store (i32.mul (local.get $pages) (i32.const 65536)) (i32.const 7))
      (br_if $more (i32.lt_u (local.get $pages) (i32.const 32768))))
    (i32.const 0))
  (func (export "alloc_4gib_forever") (result i32)
    (loop $more (drop (call $alloc (i64.const 4294967296))) (br $more))
    (i32.const 0))
  (func (export "output_100mb") (result i32)
    (call $output_set (call $alloc (i64.const 104857600)) (i64.const 104857600))
    (i32.const 0))
  (func (export "fail") (result i32)
    (i32.store (i32.const 0) (i32.const 0x6f6f7073)) ;; the bytes of "spoo"
    (call $error_set (call $to_block (i32.const 0) (i32.const 4)))
    (i32.const 1))
  (func (export "return_two") (result i32) (i32.const 2))
  (func (export "trap") (result i32) (unreachable))
  (func (export "divide_by_zero") (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
)`);

const START_LOOPS = wat(`(module
  (memory (export "memory") 1)
  (func $start (loop $forever (br $forever)))
  (start $start)
  (func (export "run") (result i32) (i32.const 0))
)`);

describe('runaway plugins', () => {
  let sandbox: Sandbox;
  const artifact = admitted(RUNAWAY);
  before(async () => {
    sandbox = await Sandbox.start({ executors: 2 });
  });
  after(() => sandbox.stop());

  it('runs plugins in processes that hold none of the parent\'s environment', async () => {
    assert.ok(Object.keys(process.env).length > 0, 'this process has an environment');
    for (const pid of sandbox.executorPids()) {
      assert.equal(await readFile(`/proc/${pid}/environ`, 'utf8'), '', `executor ${pid} has an empty environment`);
      const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      assert.ok(commandLine.some((arg) => /^--max-old-space-size=\d+$/.test(arg)), 'a bounded heap');
    }
  });

  it('stops an infinite loop in an export when its fuel runs out', async () => {
    const result = await sandbox.run(artifact, 'spin', '', context());
    assert.equal(result.status, 'fuel_exhausted');
    assert.equal(result.fuelUsed, freeTier.fuelPerCall + 1, 'it traps on the first unit past the budget');
    await assertStillHealthy(sandbox);
  });

  it('kills the executor of an infinite loop that has fuel to spare, at the time limit', async () => {
    const started = Date.now();
    const result = await sandbox.run(artifact, 'spin', '', context(policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 300 })));
    assert.equal(result.status, 'timeout');
    assert.equal(result.fuelUsed, Number.MAX_SAFE_INTEGER, 'what it burned is unknown: it is charged its whole budget');
    assert.ok(Date.now() - started < 2_000, 'the call ends near its limit');
    await assertStillHealthy(sandbox);
    assert.ok(sandbox.stats().timeoutKills >= 1);
  });

  it('reports the lines a call logged before it was stopped at its time limit', async () => {
    const result = await sandbox.run(artifact, 'log_then_spin', '', context(policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 300 })));
    assert.equal(result.status, 'timeout');
    assert.deepEqual(result.logs.map((line) => [line.level, line.message]), [['info', 'about to spin']]);
    // The next call on that executor's successor reports its own lines only.
    assert.deepEqual((await sandbox.run(artifact, 'return_two', '', context())).logs, []);
    await assertStillHealthy(sandbox);
  });

  it('stops an infinite loop in the start function', async () => {
    const result = await sandbox.run(admitted(START_LOOPS), 'run', '', context());
    assert.equal(result.status, 'fuel_exhausted');
    assert.match(result.error!.message, /while starting the module/);
    await assertStillHealthy(sandbox);
  });

  it('refuses memory past the cap while the plugin grows towards 2 GiB, and the executor stays small', async () => {
    const policy = policyWith({ memoryPages: 256 }); // 16 MiB
    const result = await sandbox.run(admitted(RUNAWAY, policy), 'grow_and_fill', '', context(policy));
    assert.equal(result.status, 'memory_limit');
    assert.ok(result.memoryPeakBytes <= 16 * 1024 * 1024 + freeTier.hostMemoryBytes, `peak ${result.memoryPeakBytes}`);
    for (const pid of sandbox.executorPids()) {
      const rss = await peakRssBytes(pid);
      assert.ok(rss < 16 * 1024 * 1024 + 200 * 1024 * 1024, `executor ${pid} peaked at ${rss} bytes`);
    }
    await assertStillHealthy(sandbox);
  });

  it('refuses Extism allocations of 4 GiB in a loop before taking any memory', async () => {
    const result = await sandbox.run(artifact, 'alloc_4gib_forever', '', context());
    assert.equal(result.status, 'memory_limit');
    assert.match(result.error!.message, /host memory limit/);
    for (const pid of sandbox.executorPids()) assert.ok((await peakRssBytes(pid)) < 400 * 1024 * 1024);
    await assertStillHealthy(sandbox);
  });

  it('refuses a 100 MB output: over the output cap, or over host memory first on a small tier', async () => {
    const roomy = policyWith({ hostMemoryBytes: 256 * 1024 * 1024, maxOutputBytes: 1024 * 1024 });
    const overOutput = await sandbox.run(artifact, 'output_100mb', '', context(roomy));
    assert.equal(overOutput.status, 'output_too_large');
    assert.deepEqual([...overOutput.output], []);
    const small = await sandbox.run(artifact, 'output_100mb', '', context());
    assert.equal(small.status, 'memory_limit');
    await assertStillHealthy(sandbox);
  });

  it('reports unbounded recursion as a stack overflow', async () => {
    const result = await sandbox.run(artifact, 'recurse', '', context(policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER })));
    assert.equal(result.status, 'stack_overflow');
    await assertStillHealthy(sandbox);
  });

  it('tells plugin errors from traps', async () => {
    const failed = await sandbox.run(artifact, 'fail', '', context());
    assert.equal(failed.status, 'plugin_error');
    assert.equal(failed.error!.message, 'spoo');
    const nonZero = await sandbox.run(artifact, 'return_two', '', context());
    assert.equal(nonZero.status, 'plugin_error');
    assert.equal(nonZero.error!.message, 'the plugin returned 2');
    assert.equal((await sandbox.run(artifact, 'trap', '', context())).status, 'trap');
    const division = await sandbox.run(artifact, 'divide_by_zero', '', context());
    assert.equal(division.status, 'trap');
    assert.match(division.error!.message, /divi/i);
    await assertStillHealthy(sandbox);
  });

  it('keeps an executor to a few descriptors, however many WASI instances it makes and drops', async () => {
    const wasiPolicy = policyWith({ wasi: true });
    const wasiTrap = admitted(wat('(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1) (func (export "trap") (result i32) (unreachable)))'), wasiPolicy);
    const descriptors = async () => {
      const counts = await Promise.all(sandbox.executorPids().map(async (pid) => (await readdir(`/proc/${pid}/fd`)).length));
      return counts.reduce((sum, count) => sum + count, 0);
    };
    // A trap leaves its instance unusable: each call makes a new one.
    assert.equal((await sandbox.run(wasiTrap, 'trap', '', context(wasiPolicy))).status, 'trap');
    const before = await descriptors();
    for (let n = 0; n < 40; n++) assert.equal((await sandbox.run(wasiTrap, 'trap', '', context(wasiPolicy))).status, 'trap');
    assert.ok((await descriptors()) <= before + 2, `${before} descriptors before, ${await descriptors()} after 40 instances`);

    // The descriptor is shared by every WASI instance of the executor, other tenants' too: no guest may close it.
    const closer = admitted(wat('(module (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32))) (memory (export "memory") 1) (func (export "close_stdout") (result i32) (call $close (i32.const 1))))'), wasiPolicy);
    const devNulls = async () => {
      let count = 0;
      for (const pid of sandbox.executorPids()) {
        for (const fd of await readdir(`/proc/${pid}/fd`)) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === '/dev/null') count++;
      }
      return count;
    };
    const held = await devNulls();
    assert.ok(held > 0);
    for (let n = 0; n < 4; n++) {
      const closed = await sandbox.run(closer, 'close_stdout', '', context(wasiPolicy));
      assert.equal(closed.error?.message, 'the plugin returned 58', 'fd_close answers ENOTSUP');
    }
    assert.equal(await devNulls(), held, 'still open');
    await assertStillHealthy(sandbox);
  });

  it('reports a killed executor as crashed, and carries on', async () => {
    const call = sandbox.run(artifact, 'spin', '', context(policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 10_000 })));
    await killBusyExecutor(sandbox);
    const result = await call;
    assert.equal(result.status, 'crashed');
    assert.match(result.error!.message, /SIGKILL/);
    await assertStillHealthy(sandbox);
  });
});
