/**
 * How a call ended. Every kind but `ok` is a failure; the retry rules of the
 * pipeline depend on them, so they never carry free text (that is `error.message`).
 */
export const SANDBOX_STATUSES = [
  'ok',
  /** The plugin reported an error (Extism error_set, or a non-zero return code). */
  'plugin_error',
  /** The plugin's code trapped (unreachable, out-of-bounds access, division by zero...). */
  'trap',
  'fuel_exhausted',
  /** Its memory, host-side memory or vars would exceed the policy. */
  'memory_limit',
  /** It ran past the wall-clock limit; its executor was killed. */
  'timeout',
  'output_too_large',
  'input_too_large',
  'stack_overflow',
  /** An HTTP request broke the policy: host not allowed, private address, too many, too large, too slow. */
  'http_refused',
  /** The host failed to serve a host function (network or storage failure): may succeed if retried. */
  'host_error',
  /** The executor died for a reason other than the call's own limits. */
  'crashed',
  'invalid_module',
  /** The module imports something the current policy does not grant. */
  'forbidden_import',
] as const;

export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface PluginLogLine {
  level: LogLevel;
  /** Control characters (ANSI escapes, CR, LF...) are stored escaped, as inert text. */
  message: string;
  /** Milliseconds since the call started. */
  atMs: number;
}

export interface RunResult {
  status: SandboxStatus;
  /** The plugin's output; empty unless set. */
  output: Uint8Array;
  error?: { message: string };
  fuelUsed: number;
  /** The plugin's linear memory plus its host-side blocks, at their largest. */
  memoryPeakBytes: number;
  durationMs: number;
  logs: PluginLogLine[];
  /** Log lines dropped by the policy's caps. */
  logsDropped: number;
  /** Bytes the call's HTTP requests sent out (request lines, headers, bodies; every hop). */
  egressBytes: number;
}

/** The result of a call that ended before (or without) running plugin code. */
export function failedResult(status: SandboxStatus, message: string, durationMs = 0): RunResult {
  return { status, output: new Uint8Array(0), error: { message }, fuelUsed: 0, memoryPeakBytes: 0, durationMs, logs: [], logsDropped: 0, egressBytes: 0 };
}
