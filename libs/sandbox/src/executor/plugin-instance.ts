import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WASI } from 'node:wasi';
import { FLAG_MEMORY_GROW_FAILED } from '../admission/fuel-metering.js';
import { FLAGS_EXPORT, FUEL_EXPORT, LOCAL_FUEL_SECTION, MEMORY_EXPORT, RESERVED_EXPORT_PREFIX, START_EXPORT } from '../admission/instrument-module.js';
import { WASI_MODULE } from '../admission/import-policy.js';
import { ExtismKernel, type KernelHost } from '../kernel/extism-kernel.js';
import { CallAbort } from '../kernel/limit-errors.js';
import type { RunResult, SandboxStatus } from '../outcome.js';
import { ByteReader } from '../wasm/byte-reader.js';
import type { CallLimits } from './executor-protocol.js';

// One /dev/null for every WASI instance of this executor: a descriptor per instance would never be closed (an
// instance is dropped, not closed), and enough of them would exhaust the process's descriptors. No guest may
// close it or renumber over it (see guardStdio): the next instance, maybe another tenant's, uses it too.
let devNullFd: number | undefined;
const devNull = () => (devNullFd ??= openSync('/dev/null', 'r+'));

/** WASI preview 1's errno for an operation that is not supported. */
const WASI_ENOTSUP = 58;

/** The WASI imports with `fd_close` and `fd_renumber` refused on the standard streams (the shared descriptor). */
function guardStdio(wasiImports: WebAssembly.ModuleImports): WebAssembly.ModuleImports {
  const close = wasiImports.fd_close as (fd: number) => number;
  const renumber = wasiImports.fd_renumber as (from: number, to: number) => number;
  return {
    ...wasiImports,
    fd_close: (fd: number) => (fd <= 2 ? WASI_ENOTSUP : close(fd)),
    fd_renumber: (from: number, to: number) => (from <= 2 || to <= 2 ? WASI_ENOTSUP : renumber(from, to)),
  };
}

/**
 * The least an instance counts for in the executor's cache, whatever memory it
 * has: it bounds how many instances are kept (a module may have no memory, and
 * an artifact admitted before MEMORY_EXPORT existed shows only one it exports).
 */
const MIN_INSTANCE_BYTES = 4 * 1024 * 1024;
// Loaded only for policies with WASI: node:wasi prints an experimental warning when loaded.
const loadWasi = () => (createRequire(import.meta.url)('node:wasi') as typeof import('node:wasi')).WASI;

interface Failure {
  status: SandboxStatus;
  message: string;
}

/** Per compiled module, the functions that count their fuel in a local (LOCAL_FUEL_SECTION). */
const localFuelFunctions = new WeakMap<WebAssembly.Module, ReadonlySet<number>>();

function countingLocally(module: WebAssembly.Module): ReadonlySet<number> {
  let functions = localFuelFunctions.get(module);
  if (functions === undefined) {
    const indices = new Set<number>();
    for (const section of WebAssembly.Module.customSections(module, LOCAL_FUEL_SECTION)) {
      const reader = new ByteReader(new Uint8Array(section));
      for (let count = reader.u32(); count > 0; count--) indices.add(reader.u32());
    }
    localFuelFunctions.set(module, (functions = indices));
  }
  return functions;
}

/** Per compiled module, how many functions it imports (the first indices of its function space). */
const importedFunctionCounts = new WeakMap<WebAssembly.Module, number>();

function importedFunctionCount(module: WebAssembly.Module): number {
  let count = importedFunctionCounts.get(module);
  if (count === undefined) {
    count = WebAssembly.Module.imports(module).filter((entry) => entry.kind === 'function').length;
    importedFunctionCounts.set(module, count);
  }
  return count;
}

/** The index of the wasm function a trap was raised in: the top wasm frame of its stack. */
function trappedIn(error: unknown): number | undefined {
  const frame = error instanceof Error ? /wasm-function\[(\d+)\]/.exec(error.stack ?? '') : null;
  return frame === null ? undefined : Number(frame[1]);
}

/**
 * One instantiated plugin with its kernel and metering globals. Calls are
 * synchronous. After any outcome that may leave the instance in a bad state
 * (a trap, a limit), `reusable` is false and the instance must be dropped.
 */
export class PluginInstance {
  reusable = true;
  /** Fuel the start function burned, charged to (and taken from the budget of) the first call. */
  private startFuel = 0;

  private constructor(
    private readonly instance: WebAssembly.Instance,
    private readonly kernel: ExtismKernel,
    private readonly fuel: WebAssembly.Global,
    private readonly flags: WebAssembly.Global,
    private readonly wasi: WASI | null,
    private readonly countsLocally: ReadonlySet<number>,
    private readonly importedFunctions: number,
    /** What the instance's tables may take of the heap (see the executor's TABLE_ELEMENT_BYTES). */
    private readonly tableBytes: number,
  ) {}

  /**
   * Instantiates `module` and runs its start function (which admission turned
   * into an export) under the call's fuel budget.
   */
  static create(module: WebAssembly.Module, limits: CallLimits, host: KernelHost, tableBytes = 0): PluginInstance | RunResult {
    const kernel = new ExtismKernel(limits, host);
    const imports: WebAssembly.Imports = kernel.imports();
    let wasi: WASI | null = null;
    if (limits.wasi) {
      // No files, no environment, no arguments; output goes nowhere.
      const Wasi = loadWasi();
      wasi = new Wasi({ version: 'preview1', args: [], env: {}, preopens: {}, stdin: devNull(), stdout: devNull(), stderr: devNull(), returnOnExit: true });
      imports[WASI_MODULE] = guardStdio((wasi.getImportObject() as WebAssembly.Imports)[WASI_MODULE]!);
    }
    const started = performance.now();
    kernel.begin(new Uint8Array(0), {}, limits);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return startFailure(kernel, { status: 'invalid_module', message }, 0, started);
    }
    const fuel = instance.exports[FUEL_EXPORT];
    const flags = instance.exports[FLAGS_EXPORT];
    if (!(fuel instanceof WebAssembly.Global) || !(flags instanceof WebAssembly.Global)) {
      return startFailure(kernel, { status: 'invalid_module', message: 'the module was not admitted (no fuel metering)' }, 0, started);
    }
    fuel.value = BigInt(limits.fuelPerCall);
    kernel.fuelUsed = () => limits.fuelPerCall - Number(fuel.value);
    kernel.spendFuel = (units) => {
      const left = (fuel.value as bigint) - BigInt(units);
      // As the metering's own out-of-fuel path leaves it: the budget and one more spent, not a debt for work not done.
      fuel.value = left < 0n ? -1n : left;
      if (left < 0n) throw new CallAbort('fuel_exhausted', 'the call ran out of fuel in a host function (it handled more bytes than its budget pays for)');
    };
    const start = instance.exports[START_EXPORT];
    if (typeof start === 'function') {
      let failure: Failure | null = null;
      try {
        (start as () => void)();
      } catch (error) {
        failure = chargeUncounted(classify(error, fuel, flags, limits.fuelPerCall), error, countingLocally(module), fuel);
      }
      // A start function that caught a host function's abort has failed all the same.
      if (kernel.aborted !== null) failure = { status: kernel.aborted.status, message: kernel.aborted.message };
      if (failure !== null) return startFailure(kernel, failure, limits.fuelPerCall - Number(fuel.value), started);
    }
    const created = new PluginInstance(instance, kernel, fuel, flags, wasi, countingLocally(module), importedFunctionCount(module), tableBytes);
    created.startFuel = limits.fuelPerCall - Number(fuel.value);
    return created;
  }

  /** Whether a call has run on this instance (its logs are then no one else's). */
  private called = false;

  call(exportName: string, input: Uint8Array, config: Record<string, string>, limits: CallLimits): RunResult {
    const started = performance.now();
    // Start and first call share one budget: a start function cannot burn a budget of its own.
    this.fuel.value = BigInt(limits.fuelPerCall - this.startFuel);
    this.startFuel = 0;
    this.kernel.fuelUsed = () => limits.fuelPerCall - Number(this.fuel.value);
    const exported = this.instance.exports[exportName];
    const notCallable = this.whyNotCallable(exportName, exported);
    if (notCallable !== null) {
      // What the logs hold is the last call's (or, before the first, the start function's, which this call reports).
      if (this.called) this.kernel.logs.begin(limits.logs);
      return this.result('plugin_error', notCallable, started, limits, 0);
    }
    this.called = true;
    this.flags.value = 0;
    this.kernel.begin(input, config, limits);
    const budget = this.fuel.value as bigint;
    let failure: Failure | null = null;
    let returned: unknown;
    try {
      if (this.wasi !== null && exportName === '_start') {
        // WASI starts an instance once (a second start throws): the next call of a command needs a new one.
        this.reusable = false;
        const exitCode = this.wasi.start(this.instance);
        returned = exitCode;
      } else {
        returned = (exported as () => unknown)();
      }
    } catch (error) {
      failure = refusedAtBoundary(error, exportName, this.fuel.value === budget) ?? classify(error, this.fuel, this.flags, limits.fuelPerCall);
      failure = chargeUncounted(failure, error, this.countsLocally, this.fuel);
      // Whatever the error says, the instance went through a failure (a plugin_error otherwise keeps it).
      this.reusable = false;
    }
    const end = this.kernel.end();
    // A host function's abort ends the call even if the plugin caught it and went on (returned, or failed otherwise).
    if (end.abort !== null) failure = { status: end.abort.status, message: end.abort.message };
    if (failure === null && end.error !== null) failure = { status: 'plugin_error', message: end.error };
    // A plugin that set an error and then trapped (AssemblyScript's abort does) explains the trap.
    if (failure?.status === 'trap' && end.error !== null) failure = { status: 'trap', message: `${end.error} (${failure.message})` };
    if (failure === null && typeof returned === 'number' && returned !== 0) {
      failure = { status: 'plugin_error', message: `the plugin returned ${returned}` };
    }
    if (failure !== null && failure.status !== 'plugin_error') this.reusable = false;
    if (failure?.status === 'plugin_error' && ((this.flags.value as number) & FLAG_MEMORY_GROW_FAILED) !== 0) {
      failure = { status: 'memory_limit', message: `${failure.message} (after the memory limit refused to grow memory)` };
      this.reusable = false;
    }
    return {
      ...this.result(failure?.status ?? 'ok', failure?.message, started, limits, end.hostMemoryPeakBytes),
      output: failure === null ? end.output : new Uint8Array(0),
    };
  }

  /**
   * Why an export cannot be called as a plugin function (Extism's `() -> i32`),
   * or null. Checked before calling it: called anyway, a function with
   * parameters gets `undefined` for each, which the JS API refuses with a
   * TypeError that would pass for the host's failure (retried, in vain).
   */
  private whyNotCallable(exportName: string, exported: unknown): string | null {
    // The names the sandbox adds (the start function's among them) are not the plugin's exports.
    if (typeof exported !== 'function' || exportName.startsWith(RESERVED_EXPORT_PREFIX)) {
      return `the module has no exported function "${exportName}"`;
    }
    // The JS API names an exported wasm function after its index in the module's function space, where the
    // imported functions come first: a lower index is a host function the module exports again.
    if (!/^\d+$/.test(exported.name) || Number(exported.name) < this.importedFunctions) {
      return `the export "${exportName}" is a host function the module imports, not a function of the plugin`;
    }
    if (exported.length > 0) {
      return `the exported function "${exportName}" takes ${exported.length} parameter(s); a plugin function takes none`;
    }
    return null;
  }

  /**
   * What keeping the instance costs, for the executor's cache: its linear
   * memory, and its tables and vars (which last across calls), those on the
   * heap weighed by `heapByteWeight`; at least MIN_INSTANCE_BYTES.
   */
  cacheBytes(heapByteWeight = 1): number {
    return Math.max(MIN_INSTANCE_BYTES, this.memoryBytes() + (this.tableBytes + this.kernel.retainedBytes()) * heapByteWeight);
  }

  /**
   * Bytes of the instance's linear memory: admission exports it as
   * MEMORY_EXPORT whether the module exports it or not (an artifact admitted
   * before that shows only a memory exported as `memory`).
   */
  memoryBytes(): number {
    const memory = this.instance.exports[MEMORY_EXPORT] ?? this.instance.exports.memory;
    return memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : 0;
  }

  private result(status: SandboxStatus, message: string | undefined, started: number, limits: CallLimits, hostPeak: number): RunResult {
    return {
      status,
      output: new Uint8Array(0),
      ...(message === undefined ? {} : { error: { message } }),
      fuelUsed: limits.fuelPerCall - Number(this.fuel.value),
      memoryPeakBytes: this.memoryBytes() + hostPeak,
      durationMs: performance.now() - started,
      logs: this.kernel.logs.lines,
      logsDropped: this.kernel.logs.dropped,
      // Counted by the supervisor, which makes the requests.
      egressBytes: 0,
    };
  }
}

function startFailure(kernel: ExtismKernel, failure: Failure, fuelUsed: number, started: number): RunResult {
  return {
    status: failure.status,
    output: new Uint8Array(0),
    error: { message: `while starting the module: ${failure.message}` },
    fuelUsed,
    memoryPeakBytes: 0,
    durationMs: performance.now() - started,
    logs: kernel.logs.lines,
    logsDropped: kernel.logs.dropped,
    egressBytes: 0,
  };
}

/**
 * A trap the engine raised (not `unreachable` nor a host function's, which
 * come after a write-back) inside a function that counts its fuel in a local
 * lost what that function counted since its last write-back (its entry or its
 * last call): the call is charged its whole budget (the fuel global set to 0),
 * or a trap at the end of a long loop would be a way to compute for free.
 */
function chargeUncounted(failure: Failure, error: unknown, countsLocally: ReadonlySet<number>, fuel: WebAssembly.Global): Failure {
  // Whatever the outcome is named (a trap after a refused memory.grow is memory_limit): a host function's abort
  // (CallAbort) and `unreachable` (the out-of-fuel path's too) came after a write-back, and the count is exact.
  const raisedByEngine = error instanceof WebAssembly.RuntimeError && error.message !== 'unreachable';
  const index = raisedByEngine ? trappedIn(error) : undefined;
  if (index === undefined || !countsLocally.has(index)) return failure;
  fuel.value = 0n;
  return { ...failure, message: `${failure.message} (in a function with loops, which counts its fuel as it returns: the call is charged its whole budget)` };
}

/**
 * A TypeError raised before any of the plugin's code ran (its fuel untouched):
 * the JS API refused to call the export as it is declared (a v128 in its
 * signature, say), or WASI's start refused the module. The plugin's fault, and
 * deterministic; a TypeError after plugin code ran may be a host function's
 * (or its result's conversion) and is left to classify.
 */
function refusedAtBoundary(error: unknown, exportName: string, noCodeRan: boolean): Failure | null {
  if (!(error instanceof TypeError) || !noCodeRan) return null;
  return { status: 'plugin_error', message: `the export "${exportName}" cannot be called as a plugin function: ${error.message}` };
}

/** Names what stopped a call, from the error it threw and the metering globals. */
function classify(error: unknown, fuel: WebAssembly.Global, flags: WebAssembly.Global, budget: number): Failure {
  if (error instanceof CallAbort) return { status: error.status, message: error.message };
  if ((fuel.value as bigint) < 0n) {
    return { status: 'fuel_exhausted', message: `the call used more than its ${budget} units of fuel` };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError && /call stack/i.test(message)) {
    return { status: 'stack_overflow', message: 'the call stack overflowed (unbounded recursion?)' };
  }
  if (((flags.value as number) & FLAG_MEMORY_GROW_FAILED) !== 0) {
    return { status: 'memory_limit', message: `the plugin failed after the memory limit refused to grow its memory: ${message}` };
  }
  if (error instanceof WebAssembly.RuntimeError) return { status: 'trap', message };
  // The plugin's own `throw` that nothing in it caught: its fault, like a trap (not the host's, to retry).
  if (error instanceof WebAssembly.Exception) return { status: 'trap', message: 'the plugin threw a WebAssembly exception it did not catch' };
  if (error instanceof WebAssembly.LinkError || error instanceof WebAssembly.CompileError) {
    return { status: 'invalid_module', message };
  }
  return { status: 'host_error', message };
}
