// Plugins that attack the executor's own bookkeeping rather than a limit: they catch the host's aborts with wasm
// exception handling, allocate blocks that count no bytes, hide their memory from the instance cache, or export
// functions the host cannot call, to pass for `ok` or for a host failure worth retrying.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type KvStore, loadTier, Sandbox, type SandboxPolicy } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, freeTier, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

const standardTier: SandboxPolicy = await loadTier('standard');

/** Resident memory of a process now, from /proc. */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Each export catches a host function's abort (`catch_all` catches any JavaScript exception), then carries on. */
const SWALLOWING = wat(`(module
  ${EXTISM_IMPORTS}
  (import "airlock:host/env" "kv_get" (func $kv_get (param i64) (result i64)))
  (import "airlock:host/env" "kv_set" (func $kv_set (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (data (i32.const 16) "still here")
  (data (i32.const 32) "{\\"url\\": \\"https://example.com/\\"}")
  (data (i32.const 80) "key")
  ${GUEST_HELPERS}
  (func $say_ok (call $output_set (call $to_block (i32.const 0) (i32.const 2)) (i64.const 2)))
  (func (export "swallow_alloc") (result i32)
    (try (do (drop (call $alloc (i64.const 0x7fffffffffff)))) (catch_all))
    (call $say_ok)
    (i32.const 0))
  (func (export "swallow_then_log") (result i32) (local $line i64)
    ;; The line's block exists before the abort: logging it needs no allocation, only the host.
    (local.set $line (call $to_block (i32.const 16) (i32.const 10)))
    (try (do (drop (call $alloc (i64.const 0x7fffffffffff)))) (catch_all))
    (try (do (call $log_info (local.get $line))) (catch_all))
    (i32.const 0))
  (func (export "swallow_then_trap") (result i32)
    (try (do (drop (call $alloc (i64.const 0x7fffffffffff)))) (catch_all))
    (unreachable))
  (func (export "swallow_http") (result i32) (local $request i64)
    (local.set $request (call $to_block (i32.const 32) (i32.const 31)))
    (try (do (drop (call $http_request (local.get $request) (i64.const 0)))) (catch_all))
    (call $say_ok)
    (i32.const 0))
  (func (export "swallow_kv_value") (result i32) (local $key i64) (local $value i64)
    (local.set $key (call $to_block (i32.const 80) (i32.const 3)))
    (local.set $value (call $alloc (i64.const 20000)))
    (try (do (call $kv_set (local.get $key) (local.get $value))) (catch_all))
    (call $say_ok)
    (i32.const 0))
  (func (export "swallow_output") (result i32) (local $big i64)
    (local.set $big (call $alloc (i64.const 300000)))
    (try (do (call $output_set (local.get $big) (i64.const 300000))) (catch_all))
    (i32.const 0))
  (func (export "kv_get") (result i32)
    (try (do (drop (call $kv_get (call $to_block (i32.const 80) (i32.const 3))))) (catch_all))
    (call $say_ok)
    (i32.const 0))
)`);

/** Blocks that count few or no bytes: many of them, zero-byte ones forever, and zero-byte ones freed at once. */
const BLOCK_HOARDER = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  (func (export "zero_forever") (result i32)
    (loop $l (drop (call $alloc (i64.const 0))) (br $l))
    (i32.const 0))
  (func (export "zero_and_free_forever") (result i32)
    (loop $l (call $free (call $alloc (i64.const 0))) (br $l))
    (i32.const 0))
  (func (export "forty_thousand") (result i32) (local $i i32) (local $block i64)
    ;; Blocks past index 0x7fff have addresses wasm sees as negative i64s: the last one must still work.
    (loop $more
      (local.set $block (call $alloc (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 40000))))
    (call $store_u8 (local.get $block) (i32.const 42))
    (call $output_set (local.get $block) (i64.const 1))
    (i32.const 0))
)`);

/** 16 MiB of memory it does not export, all touched. */
const HIDDEN_MEMORY = wat(`(module
  (memory 256)
  (func (export "run") (result i32)
    (memory.fill (i32.const 0) (i32.const 1) (i32.const 16777216))
    (i32.const 0))
)`);

/** Exports the host cannot call as plugin functions. */
const UNCALLABLE = wat(`(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory (export "memory") 1)
  (tag $oops)
  (export "reexported_alloc" (func $alloc))
  (export "reexported_input_length" (func $input_length))
  (func (export "with_param") (param i64) (result i32) (i32.const 0))
  (func (export "vector") (result v128) (v128.const i64x2 0 0))
  (func (export "throws") (result i32) (throw $oops))
)`);

describe('plugins that catch the host\'s aborts', () => {
  let sandbox: Sandbox;
  const artifact = admitted(SWALLOWING);
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('ends with the abort a plugin caught, not ok, and gives it nothing more from the host', async () => {
    const caught = await sandbox.run(artifact, 'swallow_alloc', '', context());
    assert.equal(caught.status, 'memory_limit', caught.error?.message);
    assert.match(caught.error!.message, /host memory limit/);
    assert.deepEqual([...caught.output], [], 'no output of a failed call');

    const logged = await sandbox.run(artifact, 'swallow_then_log', '', context());
    assert.equal(logged.status, 'memory_limit');
    assert.deepEqual(logged.logs, [], 'the host function after the abort aborted again at once');

    const trapped = await sandbox.run(artifact, 'swallow_then_trap', '', context());
    assert.equal(trapped.status, 'memory_limit', 'the first abort is the outcome, whatever failed after it');
    await assertStillHealthy(sandbox);
  });

  it('keeps every kind of abort, from the kernel and from the supervisor', async () => {
    // One request allowed, so that the supervisor refuses it (the host is not allowed), not the executor's count.
    const http = await sandbox.run(artifact, 'swallow_http', '', context(policyWith({ http: { ...freeTier.http, maxRequestsPerCall: 1 } })));
    assert.equal(http.status, 'http_refused', http.error?.message);
    assert.doesNotMatch(http.error!.message, /HTTP requests in one call/);
    const kv = await sandbox.run(artifact, 'swallow_kv_value', '', context());
    assert.equal(kv.status, 'memory_limit');
    assert.match(kv.error!.message, /kv value of 20000 bytes/);
    const output = await sandbox.run(artifact, 'swallow_output', '', context());
    assert.equal(output.status, 'output_too_large');
    await assertStillHealthy(sandbox);
  });
});

describe('blocks that count no bytes', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('ends zero-byte allocations in a loop as memory_limit, the same every time, with the executor alive', async () => {
    const artifact = admitted(BLOCK_HOARDER, standardTier);
    const pids = sandbox.executorPids();
    const first = await sandbox.run(artifact, 'zero_forever', '', context(standardTier));
    assert.equal(first.status, 'memory_limit', first.error?.message);
    assert.match(first.error!.message, /more than 65535 Extism blocks/);
    const again = await sandbox.run(artifact, 'zero_forever', '', context(standardTier));
    assert.deepEqual([again.status, again.fuelUsed], [first.status, first.fuelUsed], 'deterministic');
    const freed = await sandbox.run(artifact, 'zero_and_free_forever', '', context(standardTier));
    assert.equal(freed.status, 'memory_limit', 'a block index is not given back by free');
    assert.deepEqual(sandbox.executorPids(), pids, 'the executor did not die');
    await assertStillHealthy(sandbox);
  });

  it('serves every block an address can name: 40,000 of them, past the index where i64 addresses turn negative', async () => {
    const artifact = admitted(BLOCK_HOARDER, standardTier);
    const result = await sandbox.run(artifact, 'forty_thousand', '', context(standardTier));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual([...result.output], [42]);
  });
});

describe('memory a module does not export', () => {
  let sandbox: Sandbox;
  const instanceCacheBytes = 64 * 1024 * 1024;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1, instanceCacheBytes });
  });
  after(() => sandbox.stop());

  it('is reported in memoryPeakBytes and bounds the instance cache', async () => {
    const artifact = admitted(HIDDEN_MEMORY);
    assert.ok(!artifact.exports.some((entry) => entry.name.startsWith('__airlock_')), 'the reserved export is not listed as the plugin\'s');
    const [pid] = sandbox.executorPids();
    const before = await rssBytes(pid!);
    // A warm instance per config: 40 of 16 MiB would be 640 MiB, four times what the cache may keep.
    for (let n = 0; n < 40; n++) {
      const result = await sandbox.run(artifact, 'run', '', context(freeTier, { config: { n: String(n) } }));
      assert.equal(result.status, 'ok', result.error?.message);
      assert.ok(result.memoryPeakBytes >= 16 * 1024 * 1024, `memoryPeakBytes ${result.memoryPeakBytes}`);
    }
    // What the cache keeps, and room for instances it dropped that the garbage collector has not freed yet; on a busy
    // machine the collector may lag the last calls (once seen: 254 MiB still after 5 s), so the executor has time to
    // come back under it: V8's memory reducer collects a heap that stopped allocating after about 8 s.
    const bound = instanceCacheBytes + 128 * 1024 * 1024;
    let grown = (await rssBytes(pid!)) - before;
    for (let waited = 0; grown >= bound && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      grown = (await rssBytes(pid!)) - before;
    }
    assert.ok(grown < bound, `the executor grew by ${grown} bytes`);
    await assertStillHealthy(sandbox);
  });
});

describe('exports the host cannot call', () => {
  let sandbox: Sandbox;
  /** Fails every read: a storage outage, the host's failure. */
  const brokenKv: KvStore = {
    get: () => Promise.reject(new Error('storage is down')),
    set: () => Promise.reject(new Error('storage is down')),
    delete: () => Promise.reject(new Error('storage is down')),
  };
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1, kv: brokenKv });
  });
  after(() => sandbox.stop());

  it('refuses an export with parameters, or a host function re-exported, as the plugin\'s error without calling it', async () => {
    const artifact = admitted(UNCALLABLE);
    const withParam = await sandbox.run(artifact, 'with_param', '', context());
    assert.equal(withParam.status, 'plugin_error');
    assert.match(withParam.error!.message, /"with_param" takes 1 parameter/);
    for (const exportName of ['reexported_alloc', 'reexported_input_length']) {
      const reexported = await sandbox.run(artifact, exportName, '', context());
      assert.equal(reexported.status, 'plugin_error', `${exportName}: ${reexported.error?.message}`);
      assert.match(reexported.error!.message, /is a host function the module imports/);
    }
    const reserved = await sandbox.run(admitted(wat('(module (func $s) (start $s))')), '__airlock_start', '', context());
    assert.equal(reserved.status, 'plugin_error', 'the names the sandbox adds are not the plugin\'s exports');
    await assertStillHealthy(sandbox);
  });

  it("reports none of the last call's logs with an export it refuses", async () => {
    const artifact = admitted(
      wat(`(module ${EXTISM_IMPORTS} (memory (export "memory") 1) (data (i32.const 1024) "said") ${GUEST_HELPERS}
        (func (export "talk") (result i32) (call $log_info (call $to_block (i32.const 1024) (i32.const 4))) (i32.const 0))
        (func (export "with_param") (param i64) (result i32) (i32.const 0)))`),
    );
    const talked = await sandbox.run(artifact, 'talk', '', context());
    assert.deepEqual(talked.logs.map((line) => line.message), ['said'], talked.error?.message);
    const refused = await sandbox.run(artifact, 'with_param', '', context());
    assert.equal(refused.status, 'plugin_error');
    assert.deepEqual(refused.logs, [], 'the warm instance\'s last call logged, not this one');
  });

  it('reports a signature JavaScript cannot call and an uncaught wasm exception as the plugin\'s fault, not the host\'s', async () => {
    const artifact = admitted(UNCALLABLE);
    const vector = await sandbox.run(artifact, 'vector', '', context());
    assert.equal(vector.status, 'plugin_error', vector.error?.message);
    assert.match(vector.error!.message, /cannot be called as a plugin function/);
    const thrown = await sandbox.run(artifact, 'throws', '', context());
    assert.equal(thrown.status, 'trap', thrown.error?.message);
    await assertStillHealthy(sandbox);
  });

  it('still reports a failure of the host as host_error, even when the plugin catches it', async () => {
    const result = await sandbox.run(admitted(SWALLOWING), 'kv_get', '', context());
    assert.equal(result.status, 'host_error', result.error?.message);
    assert.match(result.error!.message, /storage is down/);
  });

  it('starts a WASI command on a new instance every call', async () => {
    const wasiPolicy = policyWith({ wasi: true });
    const command = admitted(wat('(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1) (func (export "_start")))'), wasiPolicy);
    for (let n = 0; n < 2; n++) {
      const result = await sandbox.run(command, '_start', '', context(wasiPolicy));
      assert.equal(result.status, 'ok', `call ${n}: ${result.error?.message}`);
    }
  });
});

const BYTES_AT_A_TIME = wat(`(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory 1)
  (tag $again)
  ;; One line of 16 MB: decoded and escaped, it would exhaust the executor's heap.
  (func (export "log_16mb") (result i32)
    (call $log_info (call $alloc (i64.const 16000000)))
    (i32.const 0))
  ;; A 65,000-byte var read back 32,000 times (var_get takes its key block: a new one each time): 2 GB copied for one unit a call.
  (func (export "read_var") (result i32) (local $i i32)
    (call $var_set (call $alloc (i64.const 1)) (call $alloc (i64.const 65000)))
    (loop $l
      (call $free (call $var_get (call $alloc (i64.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 32000))))
    (i32.const 0))
  ;; Throws caught at once, 200,000 times: each a trip through the engine's unwinder.
  (func (export "throw_loop") (result i32) (local $i i32)
    (loop $l
      (try (do (throw $again)) (catch_all))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))
    (i32.const 0))
  ;; Grows of no pages, 200,000 times: each a trip through the engine's runtime, whatever it grows.
  (func (export "grow_loop") (result i32) (local $i i32)
    (loop $l
      (drop (memory.grow (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 200000))))
    (i32.const 0))
  ;; Grows memory by 100 pages, or asks for more than any policy grants (a -1 it handles).
  (func (export "grow_100_pages") (result i32) (drop (memory.grow (i32.const 100))) (i32.const 0))
  (func (export "grow_0_pages") (result i32) (drop (memory.grow (i32.const 0))) (i32.const 0))
  (func (export "grow_too_much") (result i32) (if (i32.ne (memory.grow (i32.const 60000)) (i32.const -1)) (then unreachable)) (i32.const 0))
  ;; The cheapest host function, 2,000,000 times: each a trip out of compiled code and back.
  (func (export "host_call_loop") (result i32) (local $i i32)
    (loop $l
      (drop (call $input_length))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))
    (i32.const 0))
)`);

/** The cheapest host function, called directly and through a table: each loop's body differs by the table index. */
const HOST_THROUGH_TABLE = wat(`(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (type $host (func (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) $input_length)
  (memory 1)
  (func $direct (param $n i32)
    (loop $l
      (drop (call $input_length))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func $through_table (param $n i32)
    (loop $l
      (drop (call_indirect (type $host) (i32.const 0)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func (export "direct_1000") (result i32) (call $direct (i32.const 1000)) (i32.const 0))
  (func (export "through_table_1000") (result i32) (call $through_table (i32.const 1000)) (i32.const 0))
  (func (export "through_table_2m") (result i32) (call $through_table (i32.const 2000000)) (i32.const 0))
)`);

describe('work a host function or a throw does, charged by its size', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('drops a log line past the room left without reading it, rather than let it exhaust the executor', async () => {
    const result = await sandbox.run(admitted(BYTES_AT_A_TIME, standardTier), 'log_16mb', '', context(standardTier));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual([result.logs, result.logsDropped], [[], 1]);
    // Its 16 MB block was charged as it was made: 1 unit per 16 bytes.
    assert.ok(result.fuelUsed >= 1_000_000, `charged ${result.fuelUsed}`);
    await assertStillHealthy(sandbox);
  });

  it('charges the bytes host functions copy: a var read back 32,000 times runs out of a free budget', async () => {
    // ~0.2 s on an idle machine: more time than the free tier's second, so that a busy machine does not end it first.
    const result = await sandbox.run(admitted(BYTES_AT_A_TIME), 'read_var', '', context(policyWith({ timeoutMs: 10_000 })));
    assert.equal(result.status, 'fuel_exhausted', result.error?.message);
    assert.match(result.error!.message, /ran out of fuel in a host function/);
    assert.equal(result.fuelUsed, freeTier.fuelPerCall + 1);
  });

  it('charges a throw as the unwinding it is: 200,000 of them run out of a free budget', async () => {
    const result = await sandbox.run(admitted(BYTES_AT_A_TIME), 'throw_loop', '', context());
    assert.equal(result.status, 'fuel_exhausted', result.error?.message);
    await assertStillHealthy(sandbox);
  });

  it('charges the pages a memory.grow grants, and not those it refuses', async () => {
    const policy = standardTier;
    const grown = await sandbox.run(admitted(BYTES_AT_A_TIME, policy), 'grow_100_pages', '', context(policy));
    const none = await sandbox.run(admitted(BYTES_AT_A_TIME, policy), 'grow_0_pages', '', context(policy));
    assert.deepEqual([grown.status, none.status], ['ok', 'ok']);
    assert.equal(grown.fuelUsed - none.fuelUsed, 100 * 4096, '1 unit per 16 bytes granted');
    const refused = await sandbox.run(admitted(BYTES_AT_A_TIME, policy), 'grow_too_much', '', context(policy));
    assert.equal(refused.status, 'ok', 'a refused grow is a -1 the plugin handles, not a charge it cannot pay');
    assert.ok(refused.fuelUsed < 10_000, `charged ${refused.fuelUsed}`);
  });

  it('charges memory.grow and host calls as the trips out of compiled code they are: loops of them run out of a free budget', async () => {
    for (const name of ['grow_loop', 'host_call_loop']) {
      const result = await sandbox.run(admitted(BYTES_AT_A_TIME), name, '', context());
      assert.equal(result.status, 'fuel_exhausted', `${name}: ${result.status} ${result.error?.message ?? ''}`);
      assert.ok(result.fuelUsed > freeTier.fuelPerCall, `${name} charged ${result.fuelUsed}`);
    }
    await assertStillHealthy(sandbox);
  });

  it('charges a host function called through a table as one called directly (plus the table index it pushes)', async () => {
    const run = (name: string) => sandbox.run(admitted(HOST_THROUGH_TABLE), name, '', context());
    const [direct, throughTable] = await Promise.all([run('direct_1000'), run('through_table_1000')]);
    assert.deepEqual([direct.status, throughTable.status], ['ok', 'ok']);
    assert.equal(throughTable.fuelUsed - direct.fuelUsed, 1000, 'one more instruction an iteration: the i32.const of the table index');
    const flood = await run('through_table_2m');
    assert.equal(flood.status, 'fuel_exhausted', `2,000,000 host calls through a table: ${flood.status}`);
    await assertStillHealthy(sandbox);
  });
});

/** Lengths and blocks a plugin hands the host to read: a "negative" u64 length, a megabytes-long error block. */
const HANDED_BLOCKS = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  (func (export "negative_output") (result i32) (local $block i64)
    (local.set $block (call $alloc (i64.const 8000000)))
    ;; u64 0xffff_ffff_ffff_ffff: as a signed number, -1.
    (call $output_set (local.get $block) (i64.const -1))
    (i32.const 0))
  (func $error_of (param $bytes i64) (result i32) (local $block i64)
    (local.set $block (call $alloc (local.get $bytes)))
    (call $error_set (local.get $block))
    (i32.const 1))
  (func (export "error_60000000") (result i32) (call $error_of (i64.const 60000000)))
  (func (export "error_16000000") (result i32) (call $error_of (i64.const 16000000)))
)`);

describe('lengths and blocks a plugin hands the host', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('reads an output length as the u64 it is: a "negative" one is too large, not all but the last byte of the block', async () => {
    const result = await sandbox.run(admitted(HANDED_BLOCKS), 'negative_output', '', context());
    assert.equal(result.status, 'output_too_large', result.error?.message);
    assert.equal(result.output.length, 0);
    assert.match(result.error!.message, /^output of 18446744073709551615 bytes is over the policy's 262144/);
  });

  it("reads no more of an error block than a message keeps, however large the block, and the executor lives", async () => {
    const pids = sandbox.executorPids();
    // 60 MB on the standard tier's 64 MiB of host memory: decoded whole, it exhausted the executor's heap (crashed,
    // retried as transient, charged nothing); 16 MB on the free tier took over its second of time.
    for (const [policy, bytes] of [[standardTier, 60_000_000], [freeTier, 16_000_000]] as const) {
      const started = performance.now();
      const result = await sandbox.run(admitted(HANDED_BLOCKS, policy), `error_${bytes}`, '', context(policy));
      assert.equal(result.status, 'plugin_error', `${bytes}: ${result.status} ${result.error?.message.slice(0, 200) ?? ''}`);
      assert.ok(result.error!.message.length <= 8192, `${result.error!.message.length} characters`);
      assert.ok(result.error!.message.endsWith(`… (${bytes} bytes in all)`), result.error!.message.slice(-80));
      assert.ok(performance.now() - started < 5000, 'ended promptly');
    }
    assert.deepEqual(sandbox.executorPids(), pids, 'the executor did not die');
    await assertStillHealthy(sandbox);
  });
});

const enterpriseTier: SandboxPolicy = await loadTier('enterprise');

/** Bytes as a WebAssembly text string: every byte escaped, so any text can go in a data segment. */
const watBytes = (text: string) => [...Buffer.from(text)].map((byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');

/** A request of 101 headers, for http_request. */
const MANY_HEADERS = JSON.stringify({ url: 'https://example.com/', headers: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${i}`, 'v'])) });
/** A POST, for a body of the plugin's. */
const POST = JSON.stringify({ url: 'https://example.com/', method: 'POST' });

/** Work the host does for a plugin, beyond what its bytes cost: many small vars, escaping log lines, headers. */
const HOST_WORK = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 0) "${watBytes(MANY_HEADERS)}")
  (data (i32.const 8192) "${watBytes(POST)}")
  ${GUEST_HELPERS}
  (func $post (param $bytes i64) (result i32)
    (drop (call $http_request (call $to_block (i32.const 8192) (i32.const ${Buffer.byteLength(POST)})) (call $alloc (local.get $bytes))))
    (i32.const 0))
  (func (export "post_8mb") (result i32) (call $post (i64.const 8000000)))
  (func (export "post_1600000") (result i32) (call $post (i64.const 1600000)))
  (func (export "post_0") (result i32) (call $post (i64.const 0)))
  (func (export "two_million_vars") (result i32) (local $key i64) (local $empty i64) (local $i i32)
    (local.set $key (call $alloc (i64.const 5)))
    (local.set $empty (call $alloc (i64.const 0)))
    (loop $next
      ;; The key: $i in five base-26 letters, each var a new one.
      (call $store_u8 (local.get $key) (i32.add (i32.const 65) (i32.rem_u (local.get $i) (i32.const 26))))
      (call $store_u8 (i64.add (local.get $key) (i64.const 1)) (i32.add (i32.const 65) (i32.rem_u (i32.div_u (local.get $i) (i32.const 26)) (i32.const 26))))
      (call $store_u8 (i64.add (local.get $key) (i64.const 2)) (i32.add (i32.const 65) (i32.rem_u (i32.div_u (local.get $i) (i32.const 676)) (i32.const 26))))
      (call $store_u8 (i64.add (local.get $key) (i64.const 3)) (i32.add (i32.const 65) (i32.rem_u (i32.div_u (local.get $i) (i32.const 17576)) (i32.const 26))))
      (call $store_u8 (i64.add (local.get $key) (i64.const 4)) (i32.add (i32.const 65) (i32.rem_u (i32.div_u (local.get $i) (i32.const 456976)) (i32.const 26))))
      (call $var_set (local.get $key) (local.get $empty))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 2000000))))
    (i32.const 0))
  (func (export "control_lines") (result i32) (local $line i64) (local $i i32)
    ;; A line of 1 MiB of U+0001: six times longer once made inert, past the room its bytes fit.
    (local.set $line (call $alloc (i64.const 1048576)))
    (loop $fill
      (call $store_u8 (i64.add (local.get $line) (i64.extend_i32_u (local.get $i))) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1048576))))
    (local.set $i (i32.const 0))
    (loop $again
      (call $log_info (local.get $line))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 50))))
    (i32.const 0))
  (func (export "many_headers") (result i32)
    (drop (call $http_request (call $to_block (i32.const 0) (i32.const ${Buffer.byteLength(MANY_HEADERS)})) (i64.const 0)))
    (i32.const 0))
)`);

/** Does nothing, with the largest table the enterprise tier allows: about 27 MB of the executor's heap an instance. */
const BIG_TABLE = wat(`(module
  (table 1000000 1000000 funcref)
  (memory (export "memory") 1)
  (func (export "run") (result i32) (i32.const 0))
)`);

describe('work the host does for a plugin', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('counts what keeping a var costs, not only its bytes: two million empty vars end as memory_limit, the executor alive', async () => {
    const pids = sandbox.executorPids();
    const result = await sandbox.run(admitted(HOST_WORK, enterpriseTier), 'two_million_vars', '', context(enterpriseTier));
    assert.equal(result.status, 'memory_limit', `${result.status} ${result.error?.message ?? ''}`);
    assert.match(result.error!.message, /^vars would hold \d+ bytes, over the policy's 10485760/);
    assert.deepEqual(sandbox.executorPids(), pids, 'the executor did not die');
    await assertStillHealthy(sandbox);
  });

  it('drops log lines unread once one made inert no longer fits', async () => {
    const started = performance.now();
    const result = await sandbox.run(admitted(HOST_WORK, enterpriseTier), 'control_lines', '', context(enterpriseTier));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.deepEqual([result.logs.length, result.logsDropped], [0, 50]);
    // Each line escaped took ~0.4 s of the executor: 50 of them, 20 s. One is escaped now.
    assert.ok(performance.now() - started < 5000, `${Math.round(performance.now() - started)} ms`);
  });

  it('refuses an HTTP request of more than 100 headers in the executor, before the supervisor reads it', async () => {
    const policy = policyWith({ http: { ...freeTier.http, maxRequestsPerCall: 1 } });
    const result = await sandbox.run(admitted(HOST_WORK, policy), 'many_headers', '', context(policy));
    assert.equal(result.status, 'http_refused', result.error?.message);
    assert.equal(result.error!.message, 'an HTTP request may carry at most 100 headers, 16384 bytes in all');
  });

  it('refuses a request past the policy\'s count before its body leaves the executor, and charges a body that does', async () => {
    // The free tier allows no HTTP request: refused at once, the 8 MB body never copied to the supervisor.
    const refused = await sandbox.run(admitted(HOST_WORK), 'post_8mb', '', context());
    assert.equal(refused.status, 'http_refused', refused.error?.message);
    assert.equal(refused.error!.message, 'more than 0 HTTP requests in one call');
    // Refused before the round trip was paid, let alone the body: the alloc of the body is all it cost.
    assert.ok(refused.fuelUsed < 8_000_000 / 16 + 50_000, `charged ${refused.fuelUsed}`);
    // One request allowed (to no host): the body crosses, charged 1 unit per 16 bytes like any block a host function copies.
    const policy = policyWith({ http: { ...freeTier.http, maxRequestsPerCall: 1 } });
    const [withBody, without] = [await sandbox.run(admitted(HOST_WORK, policy), 'post_1600000', '', context(policy)), await sandbox.run(admitted(HOST_WORK, policy), 'post_0', '', context(policy))];
    assert.deepEqual([withBody.status, without.status], ['http_refused', 'http_refused'], withBody.error?.message);
    // Charged twice: made (alloc), then copied out (the request).
    assert.ok(withBody.fuelUsed - without.fuelUsed >= (2 * 1_600_000) / 16, `the body charged ${withBody.fuelUsed - without.fuelUsed}`);
  });

  it('counts the tables of warm instances in the instance cache: twenty with a million elements each, the executor alive', async () => {
    const pids = sandbox.executorPids();
    const artifact = admitted(BIG_TABLE, enterpriseTier);
    for (let plugin = 0; plugin < 20; plugin++) {
      const result = await sandbox.run(artifact, 'run', '', context(enterpriseTier, { pluginId: `plugin-${plugin}` }));
      assert.equal(result.status, 'ok', `instance ${plugin}: ${result.status} ${result.error?.message ?? ''}`);
    }
    assert.deepEqual(sandbox.executorPids(), pids, 'the executor did not die');
    await assertStillHealthy(sandbox);
  });
});
