import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import createPlugin from '@extism/extism';
import { type RunResult, Sandbox, type SandboxPolicy } from '@airlock/sandbox';
import { admitted, context, policyWith } from '../support/sandbox-harness.js';
import { wat } from '../support/wasm.js';

// Each export uses one part of the Extism kernel ABI the way the official PDKs do.
const ABI = wat(`(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "log_warn" (func $log_warn (param i64)))
  (import "extism:host/env" "log_error" (func $log_error (param i64)))
  (import "extism:host/env" "log_debug" (func $log_debug (param i64)))
  (import "extism:host/env" "get_log_level" (func $get_log_level (result i32)))
  (import "extism:host/env" "error_get" (func $error_get (result i64)))
  (import "extism:host/env" "length_unsafe" (func $length_unsafe (param i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "greeting")
  (data (i32.const 16) "missing")
  (data (i32.const 32) "bad thing happened")
  (data (i32.const 64) "counter")
  (data (i32.const 80) "info line")
  (data (i32.const 96) "warn line")
  (data (i32.const 112) "error line")
  (data (i32.const 128) "debug line")
  (data (i32.const 144) "gone")
  ;; A new Extism block holding guest memory [ptr, ptr+len).
  (func $block (param $ptr i32) (param $len i32) (result i64) (local $b i64) (local $i i32)
    (local.set $b (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8 (i64.add (local.get $b) (i64.extend_i32_u (local.get $i))) (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (local.get $b))
  (func $output_block (param $b i64) (call $output_set (local.get $b) (call $length (local.get $b))))
  (func (export "input_bytes") (result i32) (local $n i64) (local $i i64) (local $out i64)
    (local.set $n (call $input_length))
    (local.set $out (call $alloc (local.get $n)))
    (block $done (loop $copy
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $out) (local.get $i)) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $copy)))
    (call $output_set (local.get $out) (local.get $n))
    (i32.const 0))
  (func (export "input_words") (result i32) (local $n i64) (local $i i64) (local $out i64)
    (local.set $n (call $input_length))
    (local.set $out (call $alloc (local.get $n)))
    (block $done (loop $copy
      (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
      (call $store_u64 (i64.add (local.get $out) (local.get $i)) (call $input_load_u64 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $copy)))
    (block $done (loop $rest
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $out) (local.get $i)) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $rest)))
    (call $output_set (local.get $out) (local.get $n))
    (i32.const 0))
  (func (export "input_via_offset") (result i32) (local $in i64) (local $n i64) (local $i i64) (local $out i64)
    (local.set $in (call $input_offset))
    (local.set $n (call $length (local.get $in)))
    (local.set $out (call $alloc (local.get $n)))
    (block $done (loop $copy
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $out) (local.get $i)) (call $load_u8 (i64.add (local.get $in) (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $copy)))
    (call $output_set (local.get $out) (local.get $n))
    (i32.const 0))
  (func (export "load_store_free") (result i32) (local $b i64) (local $out i64)
    (local.set $b (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $b) (i64.const 0x0807060504030201))
    (call $store_u8 (i64.add (local.get $b) (i64.const 8)) (i32.const 9))
    (local.set $out (call $alloc (i64.const 10)))
    (call $store_u64 (local.get $out) (call $load_u64 (local.get $b)))
    (call $store_u8 (i64.add (local.get $out) (i64.const 8)) (call $load_u8 (i64.add (local.get $b) (i64.const 8))))
    (call $store_u8 (i64.add (local.get $out) (i64.const 9)) (i32.wrap_i64 (call $length (local.get $b))))
    (call $free (local.get $b))
    (call $output_set (local.get $out) (i64.const 10))
    (i32.const 0))
  (func (export "fail") (result i32)
    (call $error_set (call $block (i32.const 32) (i32.const 18)))
    (i32.const 1))
  (func (export "config") (result i32) (local $value i64)
    (local.set $value (call $config_get (call $block (i32.const 0) (i32.const 8))))
    (if (i64.eqz (local.get $value)) (then (local.set $value (call $block (i32.const 16) (i32.const 7)))))
    (call $output_block (local.get $value))
    (i32.const 0))
  (func (export "count") (result i32) (local $value i64) (local $n i32) (local $out i64)
    (local.set $value (call $var_get (call $block (i32.const 64) (i32.const 7))))
    (if (i64.ne (local.get $value) (i64.const 0)) (then (local.set $n (call $load_u8 (local.get $value)))))
    (local.set $out (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $out) (i32.add (local.get $n) (i32.const 1)))
    (call $var_set (call $block (i32.const 64) (i32.const 7)) (local.get $out))
    (call $output_set (local.get $out) (i64.const 1))
    (i32.const 0))
  (func (export "forget") (result i32)
    (call $var_set (call $block (i32.const 64) (i32.const 7)) (i64.const 0))
    (if (i64.eqz (call $var_get (call $block (i32.const 64) (i32.const 7))))
      (then (call $output_block (call $block (i32.const 144) (i32.const 4)))))
    (i32.const 0))
  (func (export "logs") (result i32) (local $out i64)
    (call $log_info (call $block (i32.const 80) (i32.const 9)))
    (call $log_warn (call $block (i32.const 96) (i32.const 9)))
    (call $log_error (call $block (i32.const 112) (i32.const 10)))
    (call $log_debug (call $block (i32.const 128) (i32.const 10)))
    (local.set $out (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $out) (call $get_log_level))
    (call $output_set (local.get $out) (i64.const 1))
    (i32.const 0))
  (func (export "nothing") (result i32) (i32.const 0))
  ;; Sets an error, reads it back with error_get and length_unsafe, outputs it: the call still fails with it.
  (func (export "error_roundtrip") (result i32)
    (call $error_set (call $block (i32.const 32) (i32.const 3)))
    (call $output_set (call $error_get) (call $length_unsafe (call $error_get)))
    (i32.const 0))
)`);

interface Outcome {
  output: string;
  error: string | null;
  logs: string[];
}

describe('Extism ABI conformance: Airlock and @extism/extism agree', () => {
  let sandbox: Sandbox;
  const policy: SandboxPolicy = policyWith({ logs: { maxLines: 100, maxBytes: 10_000, level: 'debug' } });
  const artifact = admitted(ABI, policy);
  before(async () => {
    sandbox = await Sandbox.start({ executors: 1 });
  });
  after(() => sandbox.stop());

  async function ours(exportName: string, input: string, config: Record<string, string> = {}, instanceKey = 'abi'): Promise<Outcome> {
    const result: RunResult = await sandbox.run(artifact, exportName, input, context(policy, { config, instanceKey: `${instanceKey}-${JSON.stringify(config)}` }));
    return {
      output: Buffer.from(result.output).toString('latin1'),
      error: result.status === 'plugin_error' ? result.error!.message : result.status === 'ok' ? null : `${result.status}: ${result.error?.message}`,
      logs: result.logs.map((line) => `${line.level}:${line.message}`),
    };
  }

  async function reference(exportNames: string[], input: string, config: Record<string, string> = {}): Promise<Outcome[]> {
    const logs: string[] = [];
    const record = (level: string) => (message: string) => logs.push(`${level}:${message}`);
    const logger = { trace: record('trace'), debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'), log: record('info') };
    const plugin = await createPlugin(
      { wasm: [{ data: ABI }], config },
      { useWasi: false, runInWorker: false, logger: logger as unknown as Console, logLevel: 'debug' },
    );
    const outcomes: Outcome[] = [];
    try {
      for (const exportName of exportNames) {
        logs.length = 0;
        try {
          const output = await plugin.call(exportName, input);
          outcomes.push({ output: output === null ? '' : Buffer.from(output.bytes()).toString('latin1'), error: null, logs: [...logs] });
        } catch (error) {
          outcomes.push({ output: '', error: (error as Error).message.replace(/^Plugin-originated error: /, ''), logs: [...logs] });
        }
      }
    } finally {
      await plugin.close();
    }
    return outcomes;
  }

  const cases: Array<[string, string, Record<string, string>?]> = [
    ['input_bytes', 'héllo, wörld ✓'],
    ['input_words', 'exactly-sixteen!plus some more bytes'],
    ['input_words', 'short'],
    ['input_via_offset', 'read through input_offset'],
    ['load_store_free', ''],
    ['fail', ''],
    ['config', '', { greeting: 'bonjour' }],
    ['config', ''],
    ['logs', ''],
    ['nothing', ''],
    ['error_roundtrip', ''],
  ];

  for (const [exportName, input, config] of cases) {
    it(`${exportName}(${JSON.stringify(input)}${config ? `, config ${JSON.stringify(config)}` : ''})`, async () => {
      const [expected] = await reference([exportName], input, config);
      assert.deepEqual(await ours(exportName, input, config), expected);
    });
  }

  it('var_get / var_set keep state across calls of one instance, and delete', async () => {
    const expected = await reference(['count', 'count', 'count', 'forget', 'count'], '');
    const actual: Outcome[] = [];
    for (const exportName of ['count', 'count', 'count', 'forget', 'count']) actual.push(await ours(exportName, '', {}, 'vars'));
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual.map((outcome) => outcome.output), ['\u0001', '\u0002', '\u0003', 'gone', '\u0001']);
  });
});

describe('Extism ABI: where Airlock deliberately differs from @extism/extism', () => {
  let sandbox: Sandbox;
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((request, response) => {
      response.setHeader('x-answer', '42');
      response.writeHead(201).end(`you asked ${request.method} ${request.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    sandbox = await Sandbox.start({ executors: 1, http: { resolve: async () => [{ address: '127.0.0.1', family: 4 }], isAddressAllowed: () => true } });
  });
  after(async () => {
    await sandbox.stop();
    server.close();
  });

  it('a non-zero return code without error_set is a failure (the JavaScript SDK ignores it)', async () => {
    const module = wat('(module (func (export "three") (result i32) (i32.const 3)))');
    const plugin = await createPlugin({ wasm: [{ data: module }] }, { useWasi: false, runInWorker: false });
    assert.equal(await plugin.call('three', ''), null, 'the SDK reports success with no output');
    await plugin.close();
    const result = await sandbox.run(admitted(module), 'three', '', context());
    assert.equal(result.status, 'plugin_error');
    assert.equal(result.error!.message, 'the plugin returned 3');
  });

  it('http_request, http_status_code and http_headers work in-process (the SDK needs its worker mode)', async () => {
    const policy = policyWith({ http: { allowedHosts: ['api.example.test'], maxRequestsPerCall: 1, maxResponseBytes: 1024, requestTimeoutMs: 2000 } });
    const module = wat(`(module
      (import "extism:host/env" "input_length" (func $input_length (result i64)))
      (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
      (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
      (import "extism:host/env" "length" (func $length (param i64) (result i64)))
      (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
      (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
      (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
      (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
      (import "extism:host/env" "http_status_code" (func $http_status_code (result i32)))
      (import "extism:host/env" "http_headers" (func $http_headers (result i64)))
      (memory (export "memory") 1)
      (func (export "fetch") (result i32) (local $body i64) (local $status i32) (local $out i64) (local $n i64) (local $i i64)
        ;; The input is the request JSON; the output is the status (one byte), then the body.
        (local.set $body (call $http_request (call $input_offset) (i64.const 0)))
        (local.set $status (call $http_status_code))
        (local.set $n (call $length (local.get $body)))
        (local.set $out (call $alloc (i64.add (local.get $n) (i64.const 1))))
        (call $store_u8 (local.get $out) (local.get $status))
        (block $done (loop $copy
          (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
          (call $store_u8 (i64.add (local.get $out) (i64.add (local.get $i) (i64.const 1))) (call $load_u8 (i64.add (local.get $body) (local.get $i))))
          (local.set $i (i64.add (local.get $i) (i64.const 1)))
          (br $copy)))
        (call $output_set (local.get $out) (i64.add (local.get $n) (i64.const 1)))
        (i32.const 0))
      (func (export "headers") (result i32) (local $headers i64)
        (drop (call $http_request (call $input_offset) (i64.const 0)))
        (local.set $headers (call $http_headers))
        (call $output_set (local.get $headers) (call $length (local.get $headers)))
        (i32.const 0)))`);
    const artifact = admitted(module, policy);
    const request = JSON.stringify({ url: `http://api.example.test:${port}/things?id=1`, method: 'POST', headers: {} });
    const result = await sandbox.run(artifact, 'fetch', request, context(policy));
    assert.equal(result.status, 'ok', result.error?.message);
    assert.equal(result.output[0], 201);
    assert.equal(Buffer.from(result.output.subarray(1)).toString(), 'you asked POST /things?id=1');
    const headers = await sandbox.run(artifact, 'headers', request, context(policy));
    assert.equal(JSON.parse(Buffer.from(headers.output).toString())['x-answer'], '42');
  });
});
