// Runs a plugin through libs/sandbox from a plain script: no Nest, no database,
// no Redis. `node libs/sandbox/example.mjs path/to/plugin.wasm [export] [input]`
// (after `npm run build`); without arguments it runs a tiny built-in plugin.
import { readFile } from 'node:fs/promises';
import { admit, loadTier, Sandbox } from '@airlock/sandbox';

// A tiny Extism plugin, `greet`: reads its input and outputs it prefixed by "hello, "
// (its WebAssembly text is TINY_PLUGIN in bench/src/fixtures.ts).
const GREET_WASM_BASE64 =
  'AGFzbQEAAAABHQZgAAF+YAF+AX9gAX4BfmACfn8AYAJ+fgBgAAF/ApABBQ9leHRpc206aG9zdC9lbnYMaW5wdXRfbGVuZ3RoAAAPZXh0aXNtOmhvc3QvZW52DWlucHV0X2xvYWRfdTgAAQ9leHRpc206aG9zdC9lbnYFYWxsb2MAAg9leHRpc206aG9zdC9lbnYIc3RvcmVfdTgAAw9leHRpc206aG9zdC9lbnYKb3V0cHV0X3NldAAEAwIBBQUDAQABBxICBm1lbW9yeQIABWdyZWV0AAUKdQFzAwJ/AX4BfxAApyEAAkADQCABIABPDQFBhwggAWogAa0QAToAACABQQFqIQEMAAsLIABBB2ohAyADrRACIQJBACEBAkADQCABIANPDQEgAiABrXxBgAggAWotAAAQAyABQQFqIQEMAAsLIAIgA60QBEEACwsOAQBBgAgLB2hlbGxvLCA=';

const [path, exportName = 'greet', input = 'world'] = process.argv.slice(2);
const bytes = path === undefined ? Buffer.from(GREET_WASM_BASE64, 'base64') : await readFile(path);

const policy = await loadTier('free'); // sandbox-policies/free.json
const admission = admit(bytes, policy);
if (!admission.ok) {
  console.error(`refused (${admission.rejection.kind}): ${admission.rejection.reason}`);
  process.exit(1);
}
const { artifact } = admission;
console.log(`admitted ${artifact.originalSha256.slice(0, 12)}: exports ${artifact.functions.join(', ')}; permissions [${artifact.permissions.join(', ')}]`);

const sandbox = await Sandbox.start({ executors: 1 });
try {
  const result = await sandbox.run(artifact, exportName, input, { tenantId: 'example', pluginId: 'example', policy });
  console.log(`status: ${result.status}${result.error ? ` (${result.error.message})` : ''}`);
  console.log(`output: ${Buffer.from(result.output).toString()}`);
  console.log(`fuel: ${result.fuelUsed}, memory: ${result.memoryPeakBytes} bytes, ${result.durationMs.toFixed(2)} ms, ${result.logs.length} log lines`);
} finally {
  await sandbox.stop();
}
