// npm run bench:sandbox [-- --json]
// Fuel overhead, call latency and throughput of libs/sandbox, each against a
// baseline measured in the same run. The last line with --json is one JSON object.
import { availableParallelism } from 'node:os';
import createPlugin from '@extism/extism';
import { admit, type AdmittedArtifact, loadTier, type SandboxPolicy, Sandbox } from '@airlock/sandbox';
import { compileKernels, largePlugin, TINY_PLUGIN } from './fixtures.js';
import { geomean, median, percentile, timeMs } from './stats.js';

const json = process.argv.includes('--json');
const log = (line: string) => console.log(line);

const base = await loadTier('enterprise');
const policy: SandboxPolicy = { ...base, fuelPerCall: Number.MAX_SAFE_INTEGER, memoryPages: 65_536, timeoutMs: 60_000 };

function mustAdmit(bytes: Uint8Array): AdmittedArtifact {
  const result = admit(bytes, policy);
  if (!result.ok) throw new Error(result.rejection.reason);
  return result.artifact;
}

// 1. Fuel overhead: each kernel, unmetered vs metered, alternating, median of rounds.
const KERNEL_SIZES: Record<string, number> = { fib: 32, sumLoop: 30_000_000, sieve: 8_000_000, quicksort: 800_000, matmul: 300, hash: 300 };
const kernels = compileKernels();
const meteredKernels = mustAdmit(kernels).bytes;
const instantiate = (bytes: Uint8Array, metered: boolean) => {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {});
  if (metered) {
    (exports.__airlock_fuel as WebAssembly.Global).value = BigInt(Number.MAX_SAFE_INTEGER);
    (exports.__airlock_start as (() => void) | undefined)?.(); // admission exports the start function
  }
  return exports as Record<string, (n: number) => unknown>;
};
const overheads: Record<string, number> = {};
for (const [name, size] of Object.entries(KERNEL_SIZES)) {
  const plain = instantiate(kernels, false);
  const metered = instantiate(meteredKernels, true);
  const plainResult = plain[name]!(size);
  if (metered[name]!(size) !== plainResult) throw new Error(`${name}: metering changed the result`);
  // Warm up first, so both run optimised (TurboFan) code rather than the baseline compiler's.
  for (let round = 0; round < 3; round++) {
    plain[name]!(size);
    metered[name]!(size);
  }
  const plainTimes: number[] = [];
  const meteredTimes: number[] = [];
  for (let round = 0; round < 15; round++) {
    plainTimes.push(timeMs(() => plain[name]!(size)));
    meteredTimes.push(timeMs(() => metered[name]!(size)));
  }
  overheads[name] = median(meteredTimes) / median(plainTimes) - 1;
  log(`fuel overhead ${name.padEnd(10)} unmetered ${median(plainTimes).toFixed(1)} ms, metered ${median(meteredTimes).toFixed(1)} ms: ${(overheads[name]! * 100).toFixed(1)}%`);
}
const overheadValues = Object.values(overheads);
const fuelOverheadGeomean = geomean(overheadValues.map((value) => 1 + value)) - 1;
const fuelOverheadWorst = Math.max(...overheadValues);
log(`fuel overhead: geomean ${(fuelOverheadGeomean * 100).toFixed(1)}%, worst ${(fuelOverheadWorst * 100).toFixed(1)}% (goal <= 10%, <= 40%)`);

// 2. Warm call of a tiny plugin: inside an executor vs @extism/extism in this thread.
const input = new TextEncoder().encode('airlock');
const extism = await createPlugin({ wasm: [{ data: TINY_PLUGIN }] }, { useWasi: false, runInWorker: false });
const extismTimes: number[] = [];
for (let i = 0; i < 3000; i++) {
  const started = process.hrtime.bigint();
  await extism.call('greet', input);
  if (i >= 500) extismTimes.push(Number(process.hrtime.bigint() - started) / 1000);
}
await extism.close();

const tiny = mustAdmit(TINY_PLUGIN);
const context = { tenantId: 'bench', pluginId: 'tiny', policy };
const single = await Sandbox.start({ executors: 1 });
const insideTimes: number[] = [];
const runTimes: number[] = [];
for (let i = 0; i < 5000; i++) {
  const started = process.hrtime.bigint();
  const result = await single.run(tiny, 'greet', input, context);
  if (result.status !== 'ok') throw new Error(`tiny plugin: ${result.status}`);
  if (i >= 500) {
    runTimes.push(Number(process.hrtime.bigint() - started) / 1000);
    insideTimes.push(result.durationMs * 1000);
  }
}
const warmCallAddedUsP50 = median(insideTimes) - median(extismTimes);
const runUsP50 = median(runTimes);
log(`warm call: @extism/extism in-thread p50 ${median(extismTimes).toFixed(1)} us; inside an executor p50 ${median(insideTimes).toFixed(1)} us: added ${warmCallAddedUsP50.toFixed(1)} us (goal <= 5)`);
log(`run() across the executor boundary: p50 ${runUsP50.toFixed(1)} us, p99 ${percentile(runTimes, 99).toFixed(1)} us (goal p50 <= 150)`);

// 3. A 100 KB module: admission, and the cold path (transfer, compile, instantiate, first call).
const admitTimes: number[] = [];
const coldTimes: number[] = [];
let size = 0;
for (let variant = 0; variant < 12; variant++) {
  const bytes = largePlugin(100 * 1024, variant);
  size = bytes.length;
  let artifact: AdmittedArtifact | undefined;
  admitTimes.push(timeMs(() => (artifact = mustAdmit(bytes))));
  const started = process.hrtime.bigint();
  const result = await single.run(artifact!, 'greet', input, { ...context, pluginId: `large-${variant}` });
  if (result.status !== 'ok') throw new Error(`large plugin: ${result.status}`);
  coldTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
}
const admit100kMs = median(admitTimes.slice(2));
const coldLoad100kMs = median(coldTimes.slice(2));
log(`${(size / 1024).toFixed(0)} KB module: admission p50 ${admit100kMs.toFixed(2)} ms (goal <= 500); cold run() p50 ${coldLoad100kMs.toFixed(2)} ms (goal <= 2)`);
await single.stop();

// 4. Throughput: calls per second through the pool, 1 executor and one per core.
async function throughput(executors: number): Promise<number> {
  const sandbox = await Sandbox.start({ executors });
  try {
    for (let i = 0; i < 200; i++) await sandbox.run(tiny, 'greet', input, context);
    const calls = 20_000;
    let issued = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: executors * 4 }, async () => {
        while (issued++ < calls) await sandbox.run(tiny, 'greet', input, context);
      }),
    );
    return calls / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await sandbox.stop();
  }
}
const cores = availableParallelism();
const callsPerSecond1 = await throughput(1);
const callsPerSecondN = await throughput(cores);
log(`throughput: ${callsPerSecond1.toFixed(0)} calls/s with 1 executor, ${callsPerSecondN.toFixed(0)} calls/s with ${cores}`);

if (json) {
  console.log(
    JSON.stringify({
      fuelOverheadGeomean: round(fuelOverheadGeomean, 4),
      fuelOverheadWorst: round(fuelOverheadWorst, 4),
      fuelOverheadByKernel: Object.fromEntries(Object.entries(overheads).map(([k, v]) => [k, round(v, 4)])),
      warmCallAddedUsP50: round(warmCallAddedUsP50, 2),
      extismCallUsP50: round(median(extismTimes), 2),
      runUsP50: round(runUsP50, 2),
      runUsP99: round(percentile(runTimes, 99), 2),
      coldLoad100kMs: round(coldLoad100kMs, 3),
      admit100kMs: round(admit100kMs, 3),
      callsPerSecond1: Math.round(callsPerSecond1),
      callsPerSecondN: Math.round(callsPerSecondN),
      executorsN: cores,
    }),
  );
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
