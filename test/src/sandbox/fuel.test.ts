import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '@airlock/sandbox';
import { admitted, context, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

// Kernels in every shape the metering treats differently: loops with a local
// counter, calls out of loops, returns from inside loops, loop-free recursion.
const KERNELS = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  ${GUEST_HELPERS}
  (func $sum_to (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.le_u (local.get $i) (local.get $n))))
    (local.get $acc))
  (func $first_multiple_of_7_above (param $n i32) (result i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 7))) (then (return (local.get $n))))
      (br $l))
    (unreachable))
  (func $outer (param $k i32) (result i32) (local $j i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (call $sum_to (i32.const 100))))
      (local.set $acc (i32.add (local.get $acc) (call $first_multiple_of_7_above (i32.mul (local.get $j) (i32.const 7)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $j) (local.get $k))))
    (local.get $acc))
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $answer (param $value i32) (result i32)
    (i32.store (i32.const 0) (local.get $value))
    (call $output_set (call $to_block (i32.const 0) (i32.const 4)) (i64.const 4))
    (i32.const 0))
  (func (export "fib") (result i32) (drop (call $input_to_memory)) (call $answer (call $fib (i32.load8_u (i32.const 0)))))
  (func (export "outer") (result i32) (drop (call $input_to_memory)) (call $answer (call $outer (i32.load8_u (i32.const 0)))))
)`);

describe('fuel', () => {
  let sandbox: Sandbox;
  const artifact = admitted(KERNELS);
  const unlimited = policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER });
  before(async () => {
    sandbox = await Sandbox.start({ executors: 2 });
  });
  after(() => sandbox.stop());

  const run = async (exportName: string, n: number, policy = unlimited, instanceKey?: string) => {
    const result = await sandbox.run(artifact, exportName, new Uint8Array([n]), context(policy, instanceKey === undefined ? {} : { instanceKey }));
    return { ...result, value: result.output.length === 4 ? Buffer.from(result.output).readInt32LE(0) : null };
  };

  it('leaves results unchanged', async () => {
    assert.equal((await run('fib', 20)).value, 6765);
    const outer = await run('outer', 3);
    assert.equal(outer.value, 3 * 5050 + 7 + 14 + 21);
  });

  it('is deterministic: the same plugin and input use the same fuel in every run and every process', async () => {
    const measured = new Set<number>();
    for (let i = 0; i < 6; i++) measured.add((await run('fib', 18, unlimited, `fresh-${i}`)).fuelUsed);
    for (let i = 0; i < 3; i++) measured.add((await run('fib', 18)).fuelUsed);
    const other = await Sandbox.start({ executors: 1 });
    try {
      measured.add((await other.run(artifact, 'fib', new Uint8Array([18]), context(unlimited))).fuelUsed);
    } finally {
      await other.stop();
    }
    assert.equal(measured.size, 1, `fuel used: ${[...measured].join(', ')}`);
  });

  it('counts the fuel of callees, returns from loops and recursion, in proportion to the work', async () => {
    const [ten, twenty, thirty] = await Promise.all([run('outer', 10), run('outer', 20), run('outer', 30)]);
    assert.equal(twenty.fuelUsed - ten.fuelUsed, thirty.fuelUsed - twenty.fuelUsed, 'each iteration costs the same');
    const perIteration = (twenty.fuelUsed - ten.fuelUsed) / 10;
    assert.ok(perIteration > 100 * 3, `an iteration runs a 100-step loop in a callee: ${perIteration}`);
    const [fib10, fib11, fib12] = await Promise.all([run('fib', 10), run('fib', 11), run('fib', 12)]);
    assert.ok(fib12.fuelUsed > fib11.fuelUsed && fib11.fuelUsed > fib10.fuelUsed);
  });

  it('has an exact limit: a budget of exactly the need passes, one less fails', async () => {
    const need = (await run('outer', 5)).fuelUsed;
    const enough = await run('outer', 5, policyWith({ fuelPerCall: need }));
    assert.equal(enough.status, 'ok');
    assert.equal(enough.fuelUsed, need);
    const short = await run('outer', 5, policyWith({ fuelPerCall: need - 1 }));
    assert.equal(short.status, 'fuel_exhausted');
    assert.equal(short.fuelUsed, need, 'it traps on the charge that goes past the budget');
    const fibNeed = (await run('fib', 15)).fuelUsed;
    assert.equal((await run('fib', 15, policyWith({ fuelPerCall: fibNeed }))).status, 'ok');
    assert.equal((await run('fib', 15, policyWith({ fuelPerCall: fibNeed - 1 }))).status, 'fuel_exhausted');
  });

  it('charges what a loop burned before the plugin traps on purpose', async () => {
    const burnsThenTraps = admitted(
      wat(`(module (memory (export "memory") 1)
        (func (export "run") (result i32) (local $i i32)
          (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
          (unreachable)))`),
    );
    const result = await sandbox.run(burnsThenTraps, 'run', '', context(unlimited));
    assert.equal(result.status, 'trap');
    assert.ok(result.fuelUsed > 100_000 * 5, `${result.fuelUsed} units for 100,000 iterations of a 6-instruction loop`);
  });

  it('charges the whole budget when the engine traps in a function with loops (which counts its fuel as it returns), and only then', async () => {
    // The same loop in a function of its own; then a division by zero inside it on its last turn, or in its caller,
    // which has no loop, once it has returned.
    const loopThen = (inside: boolean) =>
      admitted(
        wat(`(module (memory (export "memory") 1)
          (func $spin (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              ${inside ? '(if (i32.eq (local.get $i) (i32.const 100000)) (then (drop (i32.div_u (i32.const 1) (i32.const 0)))))' : ''}
              (br_if $l (i32.lt_u (local.get $i) (i32.const 100000)))))
          (func (export "run") (result i32)
            (call $spin)
            (drop (i32.div_u (i32.const 1) (i32.const 0)))
            (i32.const 0)))`),
      );
    const budget = 50_000_000;
    const policy = policyWith({ fuelPerCall: budget });
    const inside = await sandbox.run(loopThen(true), 'run', '', context(policy));
    assert.equal(inside.status, 'trap');
    assert.equal(inside.fuelUsed, budget, 'what the function counted was lost with the trap: the whole budget is charged');
    assert.match(inside.error!.message, /divide by zero \(in a function with loops, which counts its fuel as it returns: the call is charged its whole budget\)/);
    const after = await sandbox.run(loopThen(false), 'run', '', context(policy));
    assert.equal(after.status, 'trap');
    assert.ok(after.fuelUsed > 100_000 * 5 && after.fuelUsed < budget, `${after.fuelUsed}: the loop's function wrote its count back as it returned`);
    assert.doesNotMatch(after.error!.message, /whole budget/);
    // Named after a refused memory.grow (memory_limit), the same trap is charged the same.
    const grownFirst = admitted(
      wat(`(module (memory (export "memory") 1)
        (func (export "run") (result i32) (local $i i32)
          (drop (memory.grow (i32.const 60000)))
          (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.eq (local.get $i) (i32.const 100000)) (then (drop (i32.div_u (i32.const 1) (i32.const 0)))))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
          (i32.const 0)))`),
    );
    const refusedThenTrapped = await sandbox.run(grownFirst, 'run', '', context(policy));
    assert.deepEqual([refusedThenTrapped.status, refusedThenTrapped.fuelUsed], ['memory_limit', budget]);
  });

  it("charges a start function's fuel to the first call, within that call's one budget", async () => {
    const startsBusy = admitted(
      wat(`(module (memory (export "memory") 1) (global $spent (mut i32) (i32.const 0))
        (func $start (loop $l (global.set $spent (i32.add (global.get $spent) (i32.const 1))) (br_if $l (i32.lt_u (global.get $spent) (i32.const 10000)))))
        (start $start)
        (func (export "run") (result i32) (i32.const 0)))`),
    );
    const call = (key: string, policy = unlimited) => sandbox.run(startsBusy, 'run', '', context(policy, { instanceKey: key }));
    const first = await call('start-fuel');
    const second = await call('start-fuel');
    assert.equal(first.status, 'ok');
    assert.ok(first.fuelUsed > second.fuelUsed + 10_000, `the first call ${first.fuelUsed}, the next ${second.fuelUsed}`);
    // A budget the start function alone nearly spends leaves the first call too little: one budget, not two.
    const short = await call('start-fuel-short', policyWith({ fuelPerCall: first.fuelUsed - 1 }));
    assert.equal(short.status, 'fuel_exhausted');
  });
});
