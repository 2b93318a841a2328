import { EXTISM_IMPORTS, GUEST_HELPERS, wat } from '../support/wasm.js';

/** A plugin whose input is an Extism HTTP request (`{"url": ...}`) and whose output is the response body. */
export const FETCHER = wat(`(module
  ${EXTISM_IMPORTS}
  (memory (export "memory") 1)
  ${GUEST_HELPERS}
  ;; The input is an Extism HTTP request ({"url": ...}); the output is the response body.
  (func (export "fetch") (result i32) (local $n i32) (local $body i64)
    (local.set $n (call $input_to_memory))
    (local.set $body (call $http_request (call $to_block (i32.const 0) (local.get $n)) (i64.const 0)))
    (call $output_set (local.get $body) (call $length (local.get $body)))
    (i32.const 0))
  (func (export "fetch_1000") (result i32) (local $n i32) (local $i i32)
    (local.set $n (call $input_to_memory))
    (loop $more
      (drop (call $http_request (call $to_block (i32.const 0) (local.get $n)) (i64.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 1000))))
    (i32.const 0))
)`);
