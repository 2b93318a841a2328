import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const require = createRequire(import.meta.url);
const wabt = await wabtInit();

export function wat(source: string): Uint8Array {
  const module = wabt.parseWat('bench.wat', source, { bulk_memory: true, mutable_globals: true });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** The kernels of bench/kernels/kernels.ts, compiled by AssemblyScript with -O3. */
export function compileKernels(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  try {
    const asc = join(require.resolve('assemblyscript/package.json').replace(/package\.json$/, ''), 'bin', 'asc.js');
    const source = fileURLToPath(new URL('../kernels/kernels.ts', import.meta.url));
    execFileSync(process.execPath, [asc, source, '-O3', '--runtime', 'incremental', '--use', 'abort=', '-o', join(dir, 'kernels.wasm')]);
    return new Uint8Array(readFileSync(join(dir, 'kernels.wasm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EXTISM = `
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))`;

const GREET = `
  (data (i32.const 1024) "hello, ")
  (func (export "greet") (result i32) (local $n i32) (local $i i32) (local $out i64) (local $len i32)
    (local.set $n (i32.wrap_i64 (call $input_length)))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (i32.const 1031) (local.get $i)) (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (local.set $len (i32.add (local.get $n) (i32.const 7)))
    (local.set $out (call $alloc (i64.extend_i32_u (local.get $len))))
    (local.set $i (i32.const 0))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8 (i64.add (local.get $out) (i64.extend_i32_u (local.get $i))) (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (call $output_set (local.get $out) (i64.extend_i32_u (local.get $len)))
    (i32.const 0))`;

/** A tiny Extism plugin: `greet` answers "hello, <input>". */
export const TINY_PLUGIN = wat(`(module ${EXTISM} (memory (export "memory") 1) ${GREET})`);

/**
 * An Extism plugin of about `targetBytes`: `greet` plus many functions of
 * arithmetic and loops. `variant` changes a constant, so each variant is a new artifact.
 */
export function largePlugin(targetBytes: number, variant: number): Uint8Array {
  const functions: string[] = [];
  for (let i = 0; functions.length * 60 < targetBytes; i++) {
    functions.push(`(func $f${i} (param $x i32) (result i32) (local $i i32) (local $acc i32)
      (local.set $acc (i32.const ${variant * 1000 + i}))
      (loop $l
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (i32.xor (local.get $x) (local.get $i))))
        (local.set $acc (i32.rotl (local.get $acc) (i32.const ${(i % 31) + 1})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const ${(i % 5) + 2}))))
      (i32.add (local.get $acc) (i32.load (i32.const ${(i * 4) % 60000}))))`);
  }
  // Reachable from a table, as a plugin's internal functions would be, without being exported.
  const table = `(table ${functions.length} funcref) (elem (i32.const 0) ${functions.map((_, i) => `$f${i}`).join(' ')})`;
  return wat(`(module ${EXTISM} (memory (export "memory") 1) ${table} ${GREET} ${functions.join('\n')})`);
}
