import { availableParallelism } from 'node:os';
import { type Context as OtelContext, context as otelContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR, SPAN, withSpan } from '@airlock/telemetry/api';
import type { AdmittedArtifact } from './admission/admit.js';
import { checkImports } from './admission/import-policy.js';
import type { HostAnswer, HostCall } from './executor/executor-protocol.js';
import { type EgressMeter, guardedHttp, type GuardedHttpOptions, HttpRefusedError } from './host/guarded-http.js';
import { type KvScope, type KvStore, MemoryKvStore } from './host/kv-store.js';
import { failedResult, type RunResult, type SandboxStatus } from './outcome.js';
import type { SandboxPolicy } from './policy/sandbox-policy.schema.js';
import { storableText } from './storable-text.js';
import { ExecutorPool, type PoolStats } from './supervisor/executor-pool.js';

const tracer = trace.getTracer('airlock-sandbox');

export interface SandboxOptions {
  /** Executor processes; default: one per core. */
  executors?: number;
  /** V8 heap of each executor, MiB (default 256). Wasm memories are capped per policy, apart from this. */
  executorHeapMb?: number;
  /** Compiled modules each executor keeps, by module size (default 64 MiB). */
  moduleCacheBytes?: number;
  /** Plugin instances each executor keeps warm, by memory size (default 512 MiB). */
  instanceCacheBytes?: number;
  /** Where `kv_*` host functions read and write (default: in this process's memory). */
  kv?: KvStore;
  /** DNS resolution and address rules for plugin HTTP (defaults: system resolver, no private addresses). */
  http?: Pick<GuardedHttpOptions, 'resolve' | 'isAddressAllowed'>;
}

/** Who is calling and under which limits. */
export interface RunContext {
  tenantId: string;
  pluginId: string;
  policy: SandboxPolicy;
  /** Extism config handed to the plugin (per binding). */
  config?: Record<string, string>;
  /** Calls with the same key may share a warm instance and its vars; default: tenant, plugin, artifact and config. */
  instanceKey?: string;
  /**
   * Withdraws the call while it waits for an executor: aborted before one takes it, the call does not run and
   * ends at once with the abort's reason, which must be a RunResult (see failedResult). A call an executor has
   * taken runs on, within its limits.
   */
  withdrawal?: AbortSignal;
}

const immediate = failedResult;

/**
 * Runs admitted plugins in a pool of executor processes, under a policy per
 * call. The process that creates a Sandbox answers the plugins' host calls
 * (key-value, HTTP); plugin code itself never runs in it.
 */
export class Sandbox {
  private constructor(
    private readonly pool: ExecutorPool,
    private readonly kv: KvStore,
    private readonly http: SandboxOptions['http'],
  ) {}

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const pool = new ExecutorPool(options.executors ?? availableParallelism(), {
      heapMb: options.executorHeapMb ?? 256,
      moduleCacheBytes: options.moduleCacheBytes ?? 64 * 1024 * 1024,
      instanceCacheBytes: options.instanceCacheBytes ?? 512 * 1024 * 1024,
    });
    await pool.start();
    return new Sandbox(pool, options.kv ?? new MemoryKvStore(), options.http);
  }

  /**
   * Calls `exportName` with `input`. Never throws for anything the plugin does:
   * every outcome is a RunResult with a status. Traced as a `sandbox.run` span
   * (status, fuel) with a child span per host function call.
   */
  run(artifact: AdmittedArtifact, exportName: string, input: Uint8Array | string, context: RunContext): Promise<RunResult> {
    const attributes = { [ATTR.tenantId]: context.tenantId, [ATTR.pluginId]: context.pluginId, [ATTR.exportName]: exportName };
    return withSpan(tracer, SPAN.run, { attributes }, async (span) => {
      const executed = await this.execute(artifact, exportName, input, context, otelContext.active());
      // Whatever the message came from (the plugin, a host call, the engine), it is one that can be stored.
      const result = executed.error === undefined ? executed : { ...executed, error: { message: storableText(executed.error.message) } };
      span.setAttributes({ [ATTR.status]: result.status, [ATTR.fuelUsed]: result.fuelUsed, [ATTR.memoryPeakBytes]: result.memoryPeakBytes });
      if (result.status !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? result.status });
      return result;
    });
  }

  private async execute(artifact: AdmittedArtifact, exportName: string, input: Uint8Array | string, context: RunContext, runContext: OtelContext): Promise<RunResult> {
    const { policy } = context;
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    if (bytes.length > policy.maxInputBytes) {
      return immediate('input_too_large', `the input is ${bytes.length} bytes; the policy allows ${policy.maxInputBytes}`);
    }
    if (!artifact.functions.includes(exportName)) {
      return immediate('plugin_error', `the module has no exported function "${exportName}"`);
    }
    if (artifact.memory !== null && artifact.memory.maxPages > policy.memoryPages) {
      return immediate('memory_limit', `the module was admitted for ${artifact.memory.maxPages} memory pages; this policy allows ${policy.memoryPages}: admit it again`);
    }
    // The policy may have changed since admission: the imports are checked again.
    const forbidden = forbiddenImports(artifact, policy);
    if (forbidden.length > 0) {
      return immediate('forbidden_import', `this policy does not allow: ${forbidden.map((f) => `"${f.module}" "${f.name}" (${f.reason})`).join('; ')}`);
    }
    const config = context.config ?? {};
    const scope: KvScope = { tenantId: context.tenantId, pluginId: context.pluginId };
    // What the call has done so far, against its per-call limits.
    const counts = { httpRequests: 0, kvWrites: 0, kvReads: 0 };
    const egress: EgressMeter = { bytesSent: 0 };
    // Host calls arrive on the executor's pipe, outside this call's async context: their spans are parented explicitly.
    const answerHostCall = (call: HostCall): Promise<HostAnswer> =>
      otelContext.with(runContext, () =>
        withSpan(tracer, SPAN.hostCall(call.op), { kind: call.op === 'http' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: { [ATTR.hostFunction]: call.op } }, async (span) => {
          const answer = await this.answerHostCall(call, scope, policy, egress, counts);
          if (!answer.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: answer.message });
          return answer;
        }),
      );
    const result = await this.pool.submit({
      message: {
        type: 'run',
        artifactHash: artifact.artifactHash,
        exportName,
        input: bytes,
        config,
        instanceKey: context.instanceKey ?? JSON.stringify([context.tenantId, context.pluginId, artifact.artifactHash, config]),
        limits: {
          fuelPerCall: policy.fuelPerCall,
          hostMemoryBytes: policy.hostMemoryBytes,
          maxOutputBytes: policy.maxOutputBytes,
          maxVarBytes: policy.maxVarBytes,
          logs: policy.logs,
          kv: policy.kv,
          maxHttpRequests: policy.http.maxRequestsPerCall,
          wasi: policy.wasi,
        },
      },
      artifactBytes: artifact.bytes,
      timeoutMs: policy.timeoutMs,
      answerHostCall,
    }, context.tenantId, context.withdrawal);
    return { ...result, egressBytes: egress.bytesSent };
  }

  /** Serves one host function call of a running plugin (KV, HTTP) under its policy. */
  private async answerHostCall(
    call: HostCall,
    scope: KvScope,
    policy: SandboxPolicy,
    egress: EgressMeter,
    counts: { httpRequests: number; kvWrites: number; kvReads: number },
  ): Promise<HostAnswer> {
    try {
      switch (call.op) {
        case 'kvGet':
          if (++counts.kvReads > policy.kv.maxReadsPerCall) return refusal('trap', `more than ${policy.kv.maxReadsPerCall} key-value reads in one call`);
          return { type: 'host-answer', ok: true, value: await this.kv.get(scope, call.key) };
        case 'kvSet':
          if (++counts.kvWrites > policy.kv.maxWritesPerCall) return refusal('trap', `more than ${policy.kv.maxWritesPerCall} key-value writes in one call`);
          if (!(await this.kv.set(scope, call.key, call.value, policy.kv.maxKeys))) {
            return refusal('trap', `the plugin's key-value store holds ${policy.kv.maxKeys} keys, its most: delete some first`);
          }
          return { type: 'host-answer', ok: true, value: null };
        case 'kvDelete':
          if (++counts.kvWrites > policy.kv.maxWritesPerCall) return refusal('trap', `more than ${policy.kv.maxWritesPerCall} key-value writes in one call`);
          await this.kv.delete(scope, call.key);
          return { type: 'host-answer', ok: true, value: null };
        case 'http': {
          if (++counts.httpRequests > policy.http.maxRequestsPerCall) {
            return refusal('http_refused', `more than ${policy.http.maxRequestsPerCall} HTTP requests in one call`);
          }
          const response = await guardedHttp(call.request, { ...policy.http, ...this.http }, egress);
          return { type: 'host-answer', ok: true, value: response };
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return refusal(error instanceof HttpRefusedError ? 'http_refused' : 'host_error', message);
    }
  }

  /** Process ids of the executors. */
  executorPids(): number[] {
    return this.pool.pids();
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** Kills the executors; calls still queued end as `crashed`. */
  stop(): Promise<void> {
    return this.pool.stop();
  }
}

const importVerdicts = new WeakMap<AdmittedArtifact, WeakMap<SandboxPolicy, ReturnType<typeof checkImports>['forbidden']>>();

/** The artifact's imports this policy refuses; remembered per artifact and policy object, off the hot path. */
function forbiddenImports(artifact: AdmittedArtifact, policy: SandboxPolicy) {
  let byPolicy = importVerdicts.get(artifact);
  if (byPolicy === undefined) importVerdicts.set(artifact, (byPolicy = new WeakMap()));
  let forbidden = byPolicy.get(policy);
  if (forbidden === undefined) byPolicy.set(policy, (forbidden = checkImports(artifact.imports, policy).forbidden));
  return forbidden;
}

function refusal(status: SandboxStatus, message: string): HostAnswer {
  return { type: 'host-answer', ok: false, status, message: storableText(message) };
}
