import type { HttpRequestSpec, HttpResponseSpec, KernelLimits } from '../kernel/extism-kernel.js';
import type { PluginLogLine, RunResult, SandboxStatus } from '../outcome.js';

/** What an executor needs to know of the policy for one call. */
export interface CallLimits extends KernelLimits {
  fuelPerCall: number;
  wasi: boolean;
}

export interface RunMessage {
  type: 'run';
  artifactHash: string;
  exportName: string;
  input: Uint8Array;
  config: Record<string, string>;
  limits: CallLimits;
  /** Calls with the same key may share a plugin instance (and its vars). */
  instanceKey: string;
}

export interface ModuleMessage {
  type: 'module';
  artifactHash: string;
  bytes: Uint8Array;
}

export type HostCall =
  | { op: 'http'; request: HttpRequestSpec }
  | { op: 'kvGet'; key: string }
  | { op: 'kvSet'; key: string; value: Uint8Array }
  | { op: 'kvDelete'; key: string };

export type HostAnswer =
  | { type: 'host-answer'; ok: true; value: HttpResponseSpec | Uint8Array | null }
  | { type: 'host-answer'; ok: false; status: SandboxStatus; message: string };

export type SupervisorMessage = RunMessage | ModuleMessage | HostAnswer;

export type ExecutorMessage =
  | { type: 'ready' }
  | { type: 'need-module'; artifactHash: string }
  /** `fuelUsed`: what the call had used when it asked (see KernelHost), all it has used while it waits for the answer. */
  | { type: 'host-call'; call: HostCall; fuelUsed: number }
  /** Log lines the call kept, sent in batches as they are kept (see KernelHost.logKept). */
  | { type: 'logs'; lines: PluginLogLine[] }
  /** The call's result; its `logs` are those sent before it, and come empty. */
  | { type: 'result'; result: RunResult };
