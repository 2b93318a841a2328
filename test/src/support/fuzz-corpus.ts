import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { wat } from './wasm.js';

const require = createRequire(import.meta.url);
const BINARYEN_VERSION: string = require('binaryen/package.json').version;
const CACHE_DIR = fileURLToPath(new URL(`../../../node_modules/.cache/airlock-fuzz/binaryen-${BINARYEN_VERSION}/`, import.meta.url));
const GENERATOR = fileURLToPath(new URL('./fuzz-generator.js', import.meta.url));

/** An Extism-style plugin for the fuzzer to fill with random code: its imports and exports are kept. */
export const FUZZ_TEMPLATE = wat(`(module
  (import "extism:host/env" "input_length" (func (result i64)))
  (import "extism:host/env" "input_load_u8" (func (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func (param i64) (result i64)))
  (import "extism:host/env" "free" (func (param i64)))
  (import "extism:host/env" "store_u8" (func (param i64 i32)))
  (import "extism:host/env" "load_u64" (func (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func (param i64 i64)))
  (import "extism:host/env" "error_set" (func (param i64)))
  (import "extism:host/env" "log_info" (func (param i64)))
  (import "extism:host/env" "var_set" (func (param i64 i64)))
  (memory (export "memory") 1 16)
  (func (export "run") (result i32) (i32.const 0)))`);

/**
 * `count` random valid modules from binaryen's fuzzer (`wasm-opt -ttf`), made
 * from fixed seeds by `parallel` generator processes and cached under
 * node_modules/.cache.
 */
export async function fuzzCorpus(count: number, parallel: number): Promise<Uint8Array[]> {
  await mkdir(CACHE_DIR, { recursive: true });
  const templatePath = join(CACHE_DIR, 'template.wasm');
  await writeFile(templatePath, FUZZ_TEMPLATE);
  const share = Math.ceil(count / parallel);
  await Promise.all(
    Array.from({ length: parallel }, (_, worker) =>
      promisify(execFile)(process.execPath, [GENERATOR, String(worker * share), String(Math.min(count, (worker + 1) * share)), CACHE_DIR, templatePath], {
        maxBuffer: 64 * 1024 * 1024,
      }),
    ),
  );
  return Promise.all(Array.from({ length: count }, async (_, index) => new Uint8Array(await readFile(join(CACHE_DIR, `${index}.wasm`)))));
}
