import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryKvStore, ROUND_TRIP_FUEL, Sandbox } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, freeTier, policyWith } from '../support/sandbox-harness.js';
import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

const CHATTY = wat(`(module
  ${EXTISM_IMPORTS}
  (import "airlock:host/env" "kv_get" (func $kv_get (param i64) (result i64)))
  (import "airlock:host/env" "kv_set" (func $kv_set (param i64 i64)))
  (memory (export "memory") 1)
  ;; An ANSI colour escape, a carriage return and a newline that tries to forge a second line.
  (data (i32.const 0) "ok \\1b[31mred\\1b[0m\\0d\\0a[error] forged")
  (data (i32.const 100) "counter")
  ;; Keys a database cannot tell apart or hold: a NUL inside, and bytes that are not UTF-8.
  (data (i32.const 120) "a\\00b")
  (data (i32.const 130) "\\ff\\fe")
  ${GUEST_HELPERS}
  (func (export "flood") (result i32) (local $i i32)
    (loop $more
      (call $log_info (call $to_block (i32.const 0) (i32.const 31)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (i32.const 0))
  (func (export "hoard") (result i32) (local $i i32)
    ;; Keeps setting new 4 KiB vars under new names until something stops it.
    (loop $more
      (i32.store (i32.const 200) (local.get $i))
      (call $var_set (call $to_block (i32.const 200) (i32.const 4)) (call $alloc (i64.const 4096)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more))
    (i32.const 0))
  (func (export "hoard_keys") (result i32) (local $key i64) (local $i i32)
    ;; Sets vars under ever new 64 KiB keys, each with a one-byte value.
    (local.set $key (call $alloc (i64.const 65536)))
    (loop $more
      (call $store_u8 (local.get $key) (local.get $i))
      (call $store_u8 (i64.add (local.get $key) (i64.const 1)) (i32.shr_u (local.get $i) (i32.const 8)))
      (call $var_set (local.get $key) (call $alloc (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more))
    (i32.const 0))
  (func (export "kv_many") (result i32) (local $n i32) (local $i i32) (local $key i64)
    ;; Sets as many distinct one-byte keys as its input's first byte says, then one of them again.
    (drop (call $input_to_memory))
    (local.set $n (i32.load8_u (i32.const 0)))
    (local.set $key (call $alloc (i64.const 1)))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (local.get $key) (i32.add (i32.const 65) (local.get $i)))
      (call $kv_set (local.get $key) (call $alloc (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more)))
    (call $store_u8 (local.get $key) (i32.const 65))
    (call $kv_set (local.get $key) (call $alloc (i64.const 1)))
    (i32.const 0))
  (func (export "kv_reads") (result i32) (local $n i32) (local $i i32) (local $key i64)
    ;; Reads a missing key as many times as its input's first byte says.
    (drop (call $input_to_memory))
    (local.set $n (i32.load8_u (i32.const 0)))
    (local.set $key (call $to_block (i32.const 100) (i32.const 7)))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (drop (call $kv_get (local.get $key)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more)))
    (i32.const 0))
  (func (export "nul_key") (result i32)
    (drop (call $kv_get (call $to_block (i32.const 120) (i32.const 3))))
    (i32.const 0))
  (func (export "non_utf8_key") (result i32)
    (drop (call $kv_get (call $to_block (i32.const 130) (i32.const 2))))
    (i32.const 0))
  (func (export "count") (result i32) (local $value i64) (local $n i32)
    ;; Increments a little-endian u32 stored under "counter" and outputs it.
    (local.set $value (call $kv_get (call $to_block (i32.const 100) (i32.const 7))))
    (if (i64.ne (local.get $value) (i64.const 0))
      (then (local.set $n (i32.add (call $load_u8 (local.get $value)) (i32.const 1))))
      (else (local.set $n (i32.const 1))))
    (i32.store8 (i32.const 300) (local.get $n))
    (call $kv_set (call $to_block (i32.const 100) (i32.const 7)) (call $to_block (i32.const 300) (i32.const 1)))
    (call $output_set (call $to_block (i32.const 300) (i32.const 1)) (i64.const 1))
    (i32.const 0))
)`);

describe('plugin logs, vars and key-value data', () => {
  let sandbox: Sandbox;
  const kv = new MemoryKvStore();
  const artifact = admitted(CHATTY);
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1, kv });
  });
  after(() => sandbox.stop());

  it('caps a log flood and stores control characters inert', async () => {
    const result = await sandbox.run(artifact, 'flood', '', context());
    assert.equal(result.status, 'ok');
    assert.equal(result.logs.length, freeTier.logs.maxLines);
    assert.equal(result.logsDropped, 10_000 - freeTier.logs.maxLines);
    const line = result.logs[0]!;
    assert.equal(line.level, 'info');
    assert.equal(line.message, 'ok \\u001b[31mred\\u001b[0m\\r\\n[error] forged');
    // eslint-disable-next-line no-control-regex
    assert.ok(result.logs.every((entry) => !/[\u0000-\u001f]/.test(entry.message)), 'no raw control character survives');

    const byBytes = await sandbox.run(artifact, 'flood', '', context(policyWith({ logs: { maxLines: 1000, maxBytes: 500, level: 'info' } })));
    assert.ok(byBytes.logs.reduce((sum, entry) => sum + Buffer.byteLength(entry.message), 0) <= 500);
    assert.equal(byBytes.logs.length + byBytes.logsDropped, 10_000);

    const quiet = await sandbox.run(artifact, 'flood', '', context(policyWith({ logs: { ...freeTier.logs, level: 'warn' } })));
    assert.deepEqual([quiet.logs.length, quiet.logsDropped], [0, 0], 'info lines under a warn level are not kept');
    await assertStillHealthy(sandbox);
  });

  it('stops a plugin whose vars outgrow the policy, counting their keys too', async () => {
    for (const exportName of ['hoard', 'hoard_keys']) {
      const result = await sandbox.run(artifact, exportName, '', context());
      assert.equal(result.status, 'memory_limit', `${exportName}: ${result.error?.message}`);
      assert.match(result.error!.message, new RegExp(`vars would hold \\d+ bytes, over the policy's ${freeTier.maxVarBytes}`));
    }
    await assertStillHealthy(sandbox);
  });

  it('keeps key-value data per tenant and plugin', async () => {
    const count = async (tenantId: string, pluginId: string) => {
      const result = await sandbox.run(artifact, 'count', '', context(freeTier, { tenantId, pluginId }));
      assert.equal(result.status, 'ok', result.error?.message);
      return result.output[0];
    };
    assert.equal(await count('tenant-a', 'plugin-a'), 1);
    assert.equal(await count('tenant-a', 'plugin-a'), 2);
    assert.equal(await count('tenant-b', 'plugin-a'), 1, 'another tenant has its own data');
    assert.equal(await count('tenant-a', 'plugin-b'), 1, 'another plugin has its own data');
    assert.equal(await count('tenant-a', 'plugin-a'), 3);
    assert.deepEqual(await kv.get({ tenantId: 'tenant-a', pluginId: 'plugin-a' }, 'counter'), new Uint8Array([3]));
  });

  it("keeps a plugin to its tier's keys, and a call to its tier's writes", async () => {
    const kvPolicy = (maxKeys: number, maxWritesPerCall: number) => policyWith({ kv: { ...freeTier.kv, maxKeys, maxWritesPerCall } });
    const write = (keys: number, policy: ReturnType<typeof kvPolicy>, pluginId: string) =>
      sandbox.run(artifact, 'kv_many', new Uint8Array([keys]), context(policy, { tenantId: 'tenant-kv', pluginId }));
    // Three keys, then the first again: within a limit of three.
    assert.equal((await write(3, kvPolicy(3, 100), 'plugin-three')).status, 'ok');
    const fourth = await write(4, kvPolicy(3, 100), 'plugin-three');
    assert.equal(fourth.status, 'trap');
    assert.equal(fourth.error!.message, "the plugin's key-value store holds 3 keys, its most: delete some first");
    const busy = await write(20, kvPolicy(1000, 10), 'plugin-busy');
    assert.equal(busy.status, 'trap');
    assert.equal(busy.error!.message, 'more than 10 key-value writes in one call');
    await assertStillHealthy(sandbox);
  });

  it("keeps a call to its tier's reads, and charges each read as the round trip it is", async () => {
    const reads = (count: number, maxReadsPerCall: number) =>
      sandbox.run(artifact, 'kv_reads', new Uint8Array([count]), context(policyWith({ kv: { ...freeTier.kv, maxReadsPerCall } }), { tenantId: 'tenant-kv', pluginId: 'plugin-reads' }));
    const [none, ten] = [await reads(0, 10), await reads(10, 10)];
    assert.deepEqual([none.status, ten.status], ['ok', 'ok']);
    assert.ok(ten.fuelUsed - none.fuelUsed >= 10 * ROUND_TRIP_FUEL, `ten reads charged ${ten.fuelUsed - none.fuelUsed}`);
    const eleven = await reads(11, 10);
    assert.equal(eleven.status, 'trap');
    assert.equal(eleven.error!.message, 'more than 10 key-value reads in one call');
    await assertStillHealthy(sandbox);
  });

  it('refuses keys that are not UTF-8 text without NUL, as a trap of the plugin', async () => {
    for (const [exportName, message] of [['nul_key', 'kv keys cannot contain NUL (U+0000)'], ['non_utf8_key', 'kv keys must be valid UTF-8']]) {
      const result = await sandbox.run(artifact, exportName!, '', context());
      assert.equal(result.status, 'trap', exportName);
      assert.match(result.error!.message, new RegExp(message!.replace(/[()+]/g, '\\$&')));
    }
    await assertStillHealthy(sandbox);
  });
});
