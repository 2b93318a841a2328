import wabtInit from 'wabt';

const wabt = await wabtInit();

/**
 * Compiles WebAssembly text to a module, with every feature Node's engine accepts.
 * `validate: false` skips wabt's validator (which refuses shared memories whatever the features).
 */
export function wat(source: string, { validate = true } = {}): Uint8Array {
  const module = wabt.parseWat('fixture.wat', source, {
    multi_value: true,
    mutable_globals: true,
    bulk_memory: true,
    sign_extension: true,
    sat_float_to_int: true,
    reference_types: true,
    simd: true,
    threads: true,
    memory64: true,
    tail_call: true,
    exceptions: true,
  });
  try {
    if (validate) module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** The Extism kernel imports, in WebAssembly text, for fixtures to pick from. */
export const EXTISM_IMPORTS = `
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (import "extism:host/env" "http_status_code" (func $http_status_code (result i32)))
`;

/**
 * Helpers written in WebAssembly text: copy guest memory to an Extism block
 * ($to_block ptr len -> block) and copy the input to guest memory at 0
 * ($input_to_memory -> len). Fixtures include them after EXTISM_IMPORTS.
 */
export const GUEST_HELPERS = `
  (func $to_block (param $ptr i32) (param $len i32) (result i64) (local $block i64) (local $i i32)
    (local.set $block (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8 (i64.add (local.get $block) (i64.extend_i32_u (local.get $i)))
                      (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (local.get $block))
  (func $input_to_memory (result i32) (local $n i32) (local $i i32)
    (local.set $n (i32.wrap_i64 (call $input_length)))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (local.get $i) (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (local.get $n))
`;

/** A well-behaved plugin: `echo` returns its input, `greet` returns "hello, <input>". */
export const WELL_BEHAVED = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 1024) "hello, ")
  ${GUEST_HELPERS}
  (func (export "echo") (result i32) (local $n i32)
    (local.set $n (call $input_to_memory))
    (call $output_set (call $to_block (i32.const 0) (local.get $n)) (i64.extend_i32_u (local.get $n)))
    (i32.const 0))
  (func (export "greet") (result i32) (local $n i32)
    (local.set $n (call $input_to_memory))
    (memory.copy (i32.const 1031) (i32.const 0) (local.get $n))
    (call $output_set (call $to_block (i32.const 1024) (i32.add (local.get $n) (i32.const 7)))
                      (i64.extend_i32_u (i32.add (local.get $n) (i32.const 7))))
    (i32.const 0))
)`);
