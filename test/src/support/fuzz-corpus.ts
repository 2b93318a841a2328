import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { wat } from './wasm.js';

const require = createRequire(import.meta.url);
const WASM_OPT = join(require.resolve('binaryen').replace(/index\.js$/, ''), 'bin', 'wasm-opt');
const BINARYEN_VERSION: string = require('binaryen/package.json').version;
const CACHE_DIR = fileURLToPath(new URL(`../../../node_modules/.cache/airlock-fuzz/binaryen-${BINARYEN_VERSION}/`, import.meta.url));

/** Features WebAssembly in Node 20 accepts, for the fuzzer to use. */
const FEATURES = [
  '--enable-simd',
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-reference-types',
  '--enable-tail-call',
  '--enable-mutable-globals',
];

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

/** The random bytes binaryen turns into module number `index`: the same every run. */
function seedFor(index: number): Buffer {
  const blocks: Buffer[] = [];
  for (let block = 0; block < 64; block++) blocks.push(createHash('sha256').update(`airlock-fuzz-${index}-${block}`).digest());
  return Buffer.concat(blocks);
}

async function generate(index: number, templatePath: string): Promise<Uint8Array> {
  const path = join(CACHE_DIR, `${index}.wasm`);
  if (existsSync(path)) return new Uint8Array(await readFile(path));
  const seedPath = `${path}.seed`;
  await writeFile(seedPath, seedFor(index));
  await promisify(execFile)(process.execPath, [
    WASM_OPT, seedPath, '-ttf', `--initial-fuzz=${templatePath}`, '--fuzz-preserve-imports-exports', ...FEATURES, '-o', `${path}.tmp`,
  ]);
  await rename(`${path}.tmp`, path);
  return new Uint8Array(await readFile(path));
}

/**
 * `count` random valid modules from binaryen's fuzzer (`wasm-opt -ttf`), made
 * from fixed seeds with `parallel` generators at a time and cached under
 * node_modules/.cache, since each takes half a second to make.
 */
export async function fuzzCorpus(count: number, parallel: number): Promise<Uint8Array[]> {
  await mkdir(CACHE_DIR, { recursive: true });
  const templatePath = join(CACHE_DIR, 'template.wasm');
  await writeFile(templatePath, FUZZ_TEMPLATE);
  const modules: Uint8Array[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const index = next++;
        modules[index] = await generate(index, templatePath);
      }
    }),
  );
  return modules;
}
