import { openSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { FLAG_MEMORY_GROW_FAILED } from '../admission/fuel-metering.js';
import { FLAGS_GLOBAL, FUEL_GLOBAL, SANDBOX_IMPORT_MODULE } from '../admission/instrument-module.js';
import { WASI_MODULE } from '../admission/import-policy.js';
import { ExtismKernel, type KernelHost } from '../kernel/extism-kernel.js';
import { CallAbort } from '../kernel/limit-errors.js';
import type { RunResult, SandboxStatus } from '../outcome.js';
import type { CallLimits } from './executor-protocol.js';

const devNull = () => openSync('/dev/null', 'r+');

interface Failure {
  status: SandboxStatus;
  message: string;
}

/**
 * One instantiated plugin with its kernel and metering globals. Calls are
 * synchronous. After any outcome that may leave the instance in a bad state
 * (a trap, a limit), `reusable` is false and the instance must be dropped.
 */
export class PluginInstance {
  reusable = true;

  private constructor(
    private readonly instance: WebAssembly.Instance,
    private readonly kernel: ExtismKernel,
    private readonly fuel: WebAssembly.Global,
    private readonly flags: WebAssembly.Global,
    private readonly wasi: WASI | null,
  ) {}

  /** Instantiates `module`, running its start function under the call's fuel budget. */
  static create(module: WebAssembly.Module, limits: CallLimits, host: KernelHost): PluginInstance | RunResult {
    const kernel = new ExtismKernel(limits, host);
    const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(limits.fuelPerCall));
    const flags = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const imports: WebAssembly.Imports = { ...kernel.imports(), [SANDBOX_IMPORT_MODULE]: { [FUEL_GLOBAL]: fuel, [FLAGS_GLOBAL]: flags } };
    let wasi: WASI | null = null;
    if (limits.wasi) {
      // No files, no environment, no arguments; output goes nowhere.
      wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens: {}, stdin: devNull(), stdout: devNull(), stderr: devNull(), returnOnExit: true });
      imports[WASI_MODULE] = (wasi.getImportObject() as WebAssembly.Imports)[WASI_MODULE]!;
    }
    const started = performance.now();
    kernel.begin(new Uint8Array(0), {}, limits);
    try {
      const instance = new WebAssembly.Instance(module, imports);
      return new PluginInstance(instance, kernel, fuel, flags, wasi);
    } catch (error) {
      const failure = classify(error, fuel, flags, limits.fuelPerCall);
      return {
        status: failure.status,
        output: new Uint8Array(0),
        error: { message: `while starting the module: ${failure.message}` },
        fuelUsed: limits.fuelPerCall - Number(fuel.value),
        memoryPeakBytes: 0,
        durationMs: performance.now() - started,
        logs: kernel.logs.lines,
        logsDropped: kernel.logs.dropped,
      };
    }
  }

  call(exportName: string, input: Uint8Array, config: Record<string, string>, limits: CallLimits): RunResult {
    const started = performance.now();
    const exported = this.instance.exports[exportName];
    if (typeof exported !== 'function') {
      return this.result('plugin_error', `the module has no exported function "${exportName}"`, started, limits, 0);
    }
    this.fuel.value = BigInt(limits.fuelPerCall);
    this.flags.value = 0;
    this.kernel.begin(input, config, limits);
    let failure: Failure | null = null;
    let returned: unknown;
    try {
      if (this.wasi !== null && exportName === '_start') {
        const exitCode = this.wasi.start(this.instance);
        returned = exitCode;
      } else {
        returned = (exported as () => unknown)();
      }
    } catch (error) {
      failure = classify(error, this.fuel, this.flags, limits.fuelPerCall);
    }
    const end = this.kernel.end();
    if (failure === null && end.error !== null) failure = { status: 'plugin_error', message: end.error };
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

  /** Bytes of the instance's linear memory, for the executor's cache accounting. */
  memoryBytes(): number {
    const memory = this.instance.exports.memory;
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
    };
  }
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
  if (error instanceof WebAssembly.LinkError || error instanceof WebAssembly.CompileError) {
    return { status: 'invalid_module', message };
  }
  return { status: 'host_error', message };
}
