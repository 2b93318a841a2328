import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admit, type AdmissionRejectionKind, Sandbox } from '@airlock/sandbox';
import { admitted, assertStillHealthy, context, freeTier, policyWith } from '../support/sandbox-harness.js';
import { WELL_BEHAVED, wat } from '../support/wasm.js';

function rejection(bytes: Uint8Array, policy = freeTier): { kind: AdmissionRejectionKind; reason: string } {
  const result = admit(bytes, policy);
  assert.equal(result.ok, false, 'expected a rejection');
  return (result as { ok: false; rejection: { kind: AdmissionRejectionKind; reason: string } }).rejection;
}

const GROWS = (memory: string) =>
  wat(`(module
    (memory (export "memory") ${memory})
    (func (export "grow") (result i32) (memory.grow (i32.const 1000)))
    (func (export "size") (result i32) (memory.size)))`);

describe('admission', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  it('admits a well-behaved module, deterministically, and records what it is', () => {
    const first = admitted(WELL_BEHAVED);
    const second = admitted(WELL_BEHAVED);
    assert.equal(first.artifactHash, second.artifactHash);
    assert.deepEqual(first.bytes, second.bytes);
    assert.match(first.originalSha256, /^[0-9a-f]{64}$/);
    assert.notEqual(first.originalSha256, first.artifactHash, 'the running module is the rewritten one');
    assert.deepEqual(first.functions, ['echo', 'greet']);
    assert.deepEqual(first.permissions, ['http', 'logs', 'vars'], 'from its imports: http_request, log_info, var_set');
    assert.ok(first.imports.some((entry) => entry.module === 'extism:host/env' && entry.name === 'alloc' && entry.signature === 'I>I'));
    const otherPolicy = admitted(WELL_BEHAVED, policyWith({ memoryPages: 512 }));
    assert.notEqual(otherPolicy.artifactHash, first.artifactHash, 'the memory cap is part of the artifact');
  });

  it('caps memories with no maximum or a huge one at the policy', async () => {
    for (const memory of ['1', '1 65536']) {
      const artifact = admitted(GROWS(memory));
      assert.deepEqual(artifact.memory, { initialPages: 1, maxPages: freeTier.memoryPages }, memory);
      const grown = await sandbox.run(artifact, 'grow', '', context());
      // The export returns memory.grow's -1 as its code: a failure after a refused grow.
      assert.equal(grown.status, 'memory_limit', memory);
      assert.match(grown.error!.message, /the plugin returned -1 \(after the memory limit refused to grow memory\)/);
    }
    const small = admitted(GROWS('1 4'));
    assert.deepEqual(small.memory, { initialPages: 1, maxPages: 4 }, 'a smaller declared maximum stays');
    await assertStillHealthy(sandbox);
  });

  it('refuses memory64, shared, imported and oversized memories, naming the problem', () => {
    assert.deepEqual(rejection(wat('(module (memory i64 1))')), { kind: 'memory_not_allowed', reason: 'the module uses a 64-bit memory (memory64), which is not allowed' });
    assert.deepEqual(rejection(wat('(module (memory 1 2 shared))', { validate: false })), { kind: 'memory_not_allowed', reason: 'the module uses a shared memory, which is not allowed' });
    assert.deepEqual(rejection(wat('(module (import "env" "memory" (memory 1)))')), {
      kind: 'memory_not_allowed',
      reason: 'the module imports its memory; a plugin must define its own',
    });
    assert.deepEqual(rejection(GROWS('300')), {
      kind: 'memory_not_allowed',
      reason: 'the module starts with 300 memory pages; the policy allows 256',
    });
  });

  it('refuses imports the policy does not grant, naming each', () => {
    const system = rejection(wat('(module (import "env" "system" (func (param i32) (result i32))))'));
    assert.equal(system.kind, 'forbidden_import');
    assert.match(system.reason, /"env" "system" \(no such host function\)/);

    const wasiModule = wat('(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))');
    const wasi = rejection(wasiModule);
    assert.equal(wasi.kind, 'forbidden_import');
    assert.match(wasi.reason, /"wasi_snapshot_preview1" "fd_write" \(WASI is not enabled by this policy\)/);
    assert.deepEqual(admitted(wasiModule, policyWith({ wasi: true })).permissions, ['wasi']);

    const wrongSignature = rejection(wat('(module (import "extism:host/env" "alloc" (func (param i32) (result i32))))'));
    assert.match(wrongSignature.reason, /"extism:host\/env" "alloc" \(has signature i>i, the host function has I>I/);

    assert.deepEqual(rejection(wat('(module (func (export "__airlock_fuel")))')), {
      kind: 'invalid_module',
      reason: 'the module exports "__airlock_fuel"; names starting with __airlock_ are reserved',
    });

    const global = rejection(wat('(module (import "env" "g" (global i32)))'));
    assert.match(global.reason, /imports a global/);

    const kv = wat('(module (import "airlock:host/env" "kv_get" (func (param i64) (result i64))))');
    assert.deepEqual(admitted(kv).permissions, ['kv']);
    assert.match(rejection(kv, policyWith({ kv: { ...freeTier.kv, enabled: false } })).reason, /key-value store is not enabled/);
  });

  it('refuses thousands of imports in a refusal of bounded size, and lists no function a call cannot name', () => {
    const imports = Array.from({ length: 5_000 }, (_, n) => `(import "env" "${n === 0 ? 'x'.repeat(300) : `f${n}`}" (func))`).join('\n');
    const many = admit(wat(`(module ${imports})`), freeTier);
    assert.equal(many.ok, false);
    const { reason, forbiddenImports } = (many as { ok: false; rejection: { reason: string; forbiddenImports: Array<{ name: string }> } }).rejection;
    assert.equal(
      reason,
      `the module imports what this policy does not allow: "env" "${'x'.repeat(100)}… (300 characters)" (no such host function); ${Array.from({ length: 9 }, (_, n) => `"env" "f${n + 1}" (no such host function)`).join('; ')}; and 4990 more`,
    );
    assert.equal(forbiddenImports.length, 100);
    assert.equal(forbiddenImports[0]!.name, `${'x'.repeat(100)}… (300 characters)`);

    // A function no call can name (empty, or past the 200 characters a call may name) is admitted and not listed.
    const names = ['', 'y'.repeat(201), 'y'.repeat(200), 'run'];
    const unnamed = admitted(wat(`(module ${names.map((name) => `(func (export "${name}"))`).join(' ')})`));
    assert.deepEqual(unnamed.functions, ['y'.repeat(200), 'run']);
  });

  it('refuses malformed, truncated and oversized modules', () => {
    assert.equal(rejection(new TextEncoder().encode('not wasm at all')).kind, 'invalid_module');
    const truncated = WELL_BEHAVED.subarray(0, WELL_BEHAVED.length - 10);
    const cut = rejection(truncated);
    assert.equal(cut.kind, 'invalid_module');
    assert.match(cut.reason, /^not a valid WebAssembly module: /);
    const corrupted = WELL_BEHAVED.slice();
    corrupted[8] = 0x7f; // the first section's id
    assert.deepEqual(rejection(corrupted), { kind: 'invalid_module', reason: 'not a valid WebAssembly module: unknown section id 127' });
    const oversized = rejection(WELL_BEHAVED, policyWith({ maxModuleBytes: 100 }));
    assert.deepEqual(oversized, { kind: 'module_too_large', reason: `the module is ${WELL_BEHAVED.length} bytes; the policy allows 100` });
  });

  it('checks imports again at run time, against the policy of the call', async () => {
    const kv = admitted(wat(`(module (import "airlock:host/env" "kv_delete" (func (param i64))) (func (export "run") (result i32) (i32.const 0)))`));
    const result = await sandbox.run(kv, 'run', '', context(policyWith({ kv: { ...freeTier.kv, enabled: false } })));
    assert.equal(result.status, 'forbidden_import');
    assert.equal((await sandbox.run(kv, 'run', '', context())).status, 'ok');
  });

  it('runs a WASI command module\'s _start when the policy enables WASI, with no files or environment', async () => {
    const command = wat(`(module
      (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
        ;; Exit with the number of environment variables: 0 in the sandbox.
        (call $proc_exit (i32.load (i32.const 0)))))`);
    const policy = policyWith({ wasi: true });
    const result = await sandbox.run(admitted(command, policy), '_start', '', context(policy));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.equal(rejection(command).kind, 'forbidden_import', 'and refuses it when WASI is off');
  });

  it('refuses inputs over the policy and exports that do not exist', async () => {
    const artifact = admitted(WELL_BEHAVED);
    const big = await sandbox.run(artifact, 'echo', new Uint8Array(freeTier.maxInputBytes + 1), context());
    assert.equal(big.status, 'input_too_large');
    const missing = await sandbox.run(artifact, 'nope', '', context());
    assert.equal(missing.status, 'plugin_error');
    assert.equal(missing.error!.message, 'the module has no exported function "nope"');
  });
});
