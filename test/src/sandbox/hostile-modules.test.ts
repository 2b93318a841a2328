import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admit, type AdmissionRejection, Sandbox } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, freeTier, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

function rejection(bytes: Uint8Array, policy = freeTier): AdmissionRejection {
  const result = admit(bytes, policy);
  assert.equal(result.ok, false, 'expected a rejection');
  return (result as { ok: false; rejection: AdmissionRejection }).rejection;
}

/** A little-endian u32, as the input of the exports below that take a length. */
const u32 = (value: number) => new Uint8Array(new Uint32Array([value]).buffer);

// Every operation whose work scales with its length operand, with the length taken from the input.
const BULK = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 256)
  (data $bytes "${'x'.repeat(4096)}")
  (table $t 64 64 funcref) (table $u 64 64 funcref) (table $g 0 1000 funcref)
  (elem $funcs func ${'$noop '.repeat(64)})
  (func $noop)
  ${GUEST_HELPERS}
  (func $len (result i32) (drop (call $input_to_memory)) (i32.load (i32.const 0)))
  (func (export "fill") (result i32) (memory.fill (i32.const 65536) (i32.const 7) (call $len)) (i32.const 0))
  (func (export "copy") (result i32) (memory.copy (i32.const 65536) (i32.const 131072) (call $len)) (i32.const 0))
  (func (export "init") (result i32) (memory.init $bytes (i32.const 65536) (i32.const 0) (call $len)) (i32.const 0))
  (func (export "table_fill") (result i32) (table.fill $t (i32.const 0) (ref.null func) (call $len)) (i32.const 0))
  (func (export "table_copy") (result i32) (table.copy $t $u (i32.const 0) (i32.const 0) (call $len)) (i32.const 0))
  (func (export "table_init") (result i32) (table.init $t $funcs (i32.const 0) (i32.const 0) (call $len)) (i32.const 0))
  (func (export "table_grow") (result i32) (drop (table.grow $g (ref.null func) (call $len))) (i32.const 0))
  ;; The review's plugin: 900 times 16 MiB filled and 8 MiB copied, about a second of CPU.
  (func (export "fill_and_copy_900") (result i32) (local $i i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.const 1) (i32.const 16777216))
      (memory.copy (i32.const 0) (i32.const 8388608) (i32.const 8388608))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 900))))
    (i32.const 0))
  ;; A length of 2^32 - 1 (i32 -1): unsigned, it is 4 GiB, past the memory (and no refund if read as -1).
  (func (export "fill_4gib") (result i32) (memory.fill (i32.const 0) (i32.const 0) (i32.const -1)) (i32.const 0))
)`);

// Operands with side effects (each call appends its digit to $log), in functions the metering rewrites in each
// of its shapes: no loop (global counter), a loop (local counter), several results (no trap block).
const ORDER = wat(`(module
  (memory (export "memory") 1)
  (global $log (mut i32) (i32.const 0))
  (table $t 8 8 funcref)
  (elem $funcs func $note $note $note)
  (func $note (param $v i32) (result i32)
    (global.set $log (i32.add (i32.mul (global.get $log) (i32.const 10)) (local.get $v)))
    (local.get $v))
  (func $ops
    (memory.fill (call $note (i32.const 1)) (call $note (i32.const 2)) (call $note (i32.const 3)))
    (memory.copy (call $note (i32.const 8)) (call $note (i32.const 1)) (call $note (i32.const 4)))
    (table.init $t $funcs (call $note (i32.const 2)) (call $note (i32.const 0)) (call $note (i32.const 3)))
    (table.fill $t (call $note (i32.const 5)) (ref.null func) (call $note (i32.const 2))))
  (func (export "flat") (result i32) (call $ops) (global.get $log))
  (func (export "looped") (result i32) (local $i i32)
    (loop $l
      (memory.fill (call $note (i32.const 1)) (call $note (i32.const 2)) (call $note (i32.const 3)))
      (memory.copy (call $note (i32.const 8)) (call $note (i32.const 1)) (call $note (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (global.get $log))
  (func (export "multi") (result i32 i32)
    (memory.copy (call $note (i32.const 9)) (call $note (i32.const 1)) (call $note (i32.const 5)))
    (table.size $t)
    (table.grow $t (ref.null func) (call $note (i32.const 0))))
  (func (export "fill") (param $n i32) (memory.fill (i32.const 0) (i32.const 9) (local.get $n)))
)`);

type Exports = Record<string, (...args: number[]) => unknown> & { memory: WebAssembly.Memory; __airlock_fuel: WebAssembly.Global };

/** An instance in this process, metered or not, for what only memory shows. */
function instantiate(bytes: Uint8Array, fuel?: bigint): Exports {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {});
  if (fuel !== undefined) (exports.__airlock_fuel as WebAssembly.Global).value = fuel;
  return exports as unknown as Exports;
}

describe('hostile modules', () => {
  let sandbox: Sandbox;
  const bulk = admitted(BULK);
  const unlimited = policyWith({ fuelPerCall: Number.MAX_SAFE_INTEGER });
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  describe('bulk operations are charged by their length', () => {
    it('stops the review plugin (24 MiB of fill and copy per iteration) on its fuel, not after ~1 s of CPU', async () => {
      const result = await sandbox.run(bulk, 'fill_and_copy_900', '', context(freeTier, { instanceKey: 'review' }));
      assert.equal(result.status, 'fuel_exhausted', result.error?.message);
      // The operation that cannot be paid for leaves the count at -1: it is charged one unit past the budget.
      assert.equal(result.fuelUsed, freeTier.fuelPerCall + 1);
      await assertStillHealthy(sandbox);
    });

    it('charges each operation in proportion to its length: 1 unit per 16 bytes, 16 per table element', async () => {
      const fuelFor = async (name: string, length: number) => {
        const result = await sandbox.run(bulk, name, u32(length), context(unlimited, { instanceKey: `${name}-${length}` }));
        assert.equal(result.status, 'ok', `${name} ${length}: ${result.error?.message}`);
        return result.fuelUsed;
      };
      for (const [name, length, extra] of [
        ['fill', 1 << 20, (1 << 20) / 16],
        ['copy', 1 << 20, (1 << 20) / 16],
        ['init', 2048, 2048 / 16],
        ['table_fill', 32, 32 * 16],
        ['table_copy', 32, 32 * 16],
        ['table_init', 32, 32 * 16],
        ['table_grow', 500, 500 * 16],
      ] as const) {
        const [none, once, twice] = [await fuelFor(name, 0), await fuelFor(name, length), await fuelFor(name, 2 * length)];
        assert.equal(once - none, extra, `${name}: ${length} more costs ${extra} more`);
        assert.equal(twice - once, extra, `${name}: ${length} more again`);
        assert.ok(none > 64, `${name}: the operation itself costs more than an instruction (${none})`);
      }
    });

    it('reads the length as unsigned: 2^32 - 1 bytes cost 2^28 units, charged before the operation runs', async () => {
      const short = await sandbox.run(bulk, 'fill_4gib', '', context(freeTier, { instanceKey: 'fill-4gib' }));
      assert.equal(short.status, 'fuel_exhausted', short.error?.message);
      assert.equal(short.fuelUsed, freeTier.fuelPerCall + 1);
      const paid = await sandbox.run(bulk, 'fill_4gib', '', context(unlimited, { instanceKey: 'fill-4gib-paid' }));
      assert.equal(paid.status, 'trap', 'paid for, it runs, and traps out of bounds');
      assert.ok(paid.fuelUsed >= 2 ** 28, `${paid.fuelUsed}`);
    });

    it('keeps evaluation order and results, and stops an operation the budget cannot pay before it writes', () => {
      const metered = admitted(ORDER).bytes;
      for (const name of ['flat', 'looped', 'multi']) {
        const plain = instantiate(ORDER);
        const rewritten = instantiate(metered, 1_000_000n);
        assert.deepEqual(rewritten[name]!(), plain[name]!(), name);
        assert.deepEqual(new Uint8Array(rewritten.memory.buffer, 0, 32), new Uint8Array(plain.memory.buffer, 0, 32), name);
      }
      const poor = instantiate(metered, 1000n);
      assert.throws(() => poor.fill!(100_000), /unreachable/);
      assert.equal(poor.__airlock_fuel.value, -1n);
      assert.equal(new Uint8Array(poor.memory.buffer)[0], 0, 'the fill never ran');
      poor.__airlock_fuel.value = 1000n;
      poor.fill!(1000);
      assert.equal(new Uint8Array(poor.memory.buffer)[999], 9);
    });

    it('is deterministic', () => {
      assert.equal(admitted(BULK).artifactHash, bulk.artifactHash);
    });
  });

  describe('tables', () => {
    const tables = (declarations: string) => wat(`(module ${declarations} (func (export "run") (result i32) (i32.const 0)))`);

    it('refuses a table with an initial value (WebAssembly 3.0), whose expression could name a host function, rather than misread it', () => {
      // (module (table 1 funcref (ref.null func))) in bytes: no text format tool here writes the form.
      const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x09, 0x01, 0x40, 0x00, 0x70, 0x00, 0x01, 0xd0, 0x70, 0x0b]);
      assert.deepEqual(rejection(bytes), { kind: 'invalid_module', reason: 'not a valid WebAssembly module: a table with an initial value is not supported' });
    });

    it('refuses more than 16 tables: 20,000 tables of 10,000 elements (80 KB) exhausted the executor', async () => {
      const many = tables('(table 10000 funcref)'.repeat(20_000));
      assert.deepEqual(rejection(many), { kind: 'memory_not_allowed', reason: 'the module has 20000 tables; at most 16 are allowed' });
      assert.equal(rejection(tables('(table 0 0 funcref)'.repeat(17))).reason, 'the module has 17 tables; at most 16 are allowed');
      const sixteen = admitted(tables('(table 0 10 funcref)'.repeat(16)));
      assert.equal((await sandbox.run(sixteen, 'run', '', context())).status, 'ok');
    });

    it('refuses tables that start or may grow past maxTableElements in all, with or without a memory', () => {
      for (const memory of ['', '(memory 1)']) {
        assert.deepEqual(rejection(tables(`${memory}(table 6000 6000 funcref)(table 6000 6000 funcref)`)), {
          kind: 'memory_not_allowed',
          reason: 'the module starts with 2 tables of 12000 elements in all; the policy allows 10000 in all',
        });
        assert.deepEqual(rejection(tables(`${memory}(table 20000 funcref)`)), {
          kind: 'memory_not_allowed',
          reason: 'the module starts with a table of 20000 elements; the policy allows 10000',
        });
      }
      assert.deepEqual(rejection(tables('(table 1 funcref)(table 1 externref)')), {
        kind: 'memory_not_allowed',
        reason: 'the module has 2 tables that may grow to 20000 elements in all; the policy allows 10000 in all (declare maxima that add up within it)',
      });
      admitted(tables('(table 1 funcref)'));
      admitted(tables('(table 1 5000 funcref)(table 1 5000 externref)'));
    });
  });

  describe('names', () => {
    const exporting = (name: string) => wat(`(module (func (export "${name}") (result i32) (i32.const 0)))`);

    it('refuses export names with NUL or other control characters, quoting them escaped', () => {
      const nul = rejection(exporting('ru\\00n'));
      assert.deepEqual(nul, { kind: 'invalid_module', reason: 'the module exports "ru\\u0000n", a name with a control character' });
      assert.ok(!nul.reason.includes('\0'));
      for (const [name, escaped] of [
        ['\\1b[31mred', '\\u001b[31mred'],
        ['tab\\09', 'tab\\u0009'],
        ['del\\7f', 'del\\u007f'],
        ['c1\\c2\\85', 'c1\\u0085'], // U+0085 (NEL), a C1 control, in UTF-8
        ['\\22quoted\\0a', '\\u0022quoted\\u000a'],
      ] as const) {
        const refused = rejection(exporting(name));
        assert.equal(refused.kind, 'invalid_module', name);
        assert.equal(refused.reason, `the module exports "${escaped}", a name with a control character`);
        assert.doesNotMatch(refused.reason, /\p{Cc}/u);
      }
      // "grüße_🙂" in UTF-8 (wabt takes its source as Latin-1).
      assert.deepEqual(admitted(exporting('gr\\c3\\bc\\c3\\9fe_\\f0\\9f\\99\\82')).functions, ['grüße_🙂']);
    });

    it('refuses import names with control characters before the import policy quotes them', () => {
      const importing = (module: string, name: string) => wat(`(module (import "${module}" "${name}" (func)))`);
      assert.deepEqual(rejection(importing('extism:host/env', 'log\\00info')), {
        kind: 'invalid_module',
        reason: 'the module imports "extism:host/env" "log\\u0000info", a name with a control character',
      });
      assert.equal(rejection(importing('env\\0d', 'f')).kind, 'invalid_module');
    });

    it('refuses names that are not UTF-8, saying so', () => {
      const bytes = exporting('run');
      const at = Buffer.from(bytes).indexOf('run');
      bytes[at + 1] = 0xff;
      assert.match(rejection(bytes).reason, /^not a valid WebAssembly module: the name at byte \d+ is not valid UTF-8$/);
    });

    it('keeps a leading U+FEFF as part of a name, as the engine does, rather than list an export the module lacks', () => {
      const result = admit(exporting('\\ef\\bb\\bfrun'), freeTier);
      assert.ok(result.ok);
      assert.deepEqual(result.artifact.functions, ['\ufeffrun']);
    });
  });
});
