import { type BindingRepository, type InvocationRepository, type PluginVersionRepository, type Prisma, type TenantRepository } from '@airlock/db';
import { failedResult, type RunResult, type Sandbox } from '@airlock/sandbox';
import type { ArtifactCache } from './artifact-cache.js';
import { reviewPolicy } from './permission-review.js';
import type { PolicyResolver } from './policy-resolver.js';
import type { SecretBox } from './secret-box.js';

export interface InvocationRunnerDeps {
  tenants: TenantRepository;
  versions: PluginVersionRepository;
  bindings: BindingRepository;
  invocations: InvocationRepository;
  policies: PolicyResolver;
  secrets: SecretBox;
  artifacts: ArtifactCache;
  sandbox: Sandbox;
  /** Told once per finished invocation (fuel to charge, no longer in flight, results to post). */
  onFinished?: (invocation: { tenantId: string; id: string; eventId: string | null }, fuelUsed: bigint) => Promise<void>;
}

/** Failures that may not happen again: the executor died, or the host failed to serve a host function. */
export const TRANSIENT_STATUSES: ReadonlySet<string> = new Set(['crashed', 'host_error']);

export type RunOutcome = { kind: 'finished'; status: string } | { kind: 'already_finished' } | { kind: 'retry'; reason: string };

/**
 * Runs one invocation in the sandbox and records its outcome. Safe to call
 * twice for the same invocation (at-least-once delivery): a finished one is
 * left alone, and the outcome is written only once.
 */
export class InvocationRunner {
  constructor(private readonly deps: InvocationRunnerDeps) {}

  /**
   * Deterministic outcomes are final at once. A transient one is retried
   * (`retry`: the caller re-queues) until `attempt` reaches `maxAttempts`, when it
   * is recorded as final and dead-lettered.
   */
  async run(tenantId: string, invocationId: string, attempt = 1, maxAttempts = 1): Promise<RunOutcome> {
    const { deps } = this;
    const invocation = await deps.invocations.claim(tenantId, invocationId, new Date());
    if (invocation === null) return { kind: 'already_finished' };
    const result = await this.execute(tenantId, invocation);
    const transient = TRANSIENT_STATUSES.has(result.status);
    if (transient && attempt < maxAttempts) {
      const reason = `${result.status}: ${result.error?.message ?? ''}`;
      await deps.invocations.requeue(tenantId, invocationId, reason);
      return { kind: 'retry', reason };
    }
    const wrote = await deps.invocations.finish(
      tenantId,
      invocationId,
      {
        status: result.status,
        output: result.output,
        errorMessage: result.error?.message ?? null,
        fuelUsed: BigInt(result.fuelUsed),
        memoryPeakBytes: BigInt(result.memoryPeakBytes),
        durationMs: result.durationMs,
        logs: result.logs as unknown as Prisma.InputJsonValue,
        logsDropped: result.logsDropped,
      },
      new Date(),
      transient,
    );
    // Only the run that wrote the outcome charges it: a job delivered twice charges once.
    if (wrote) await deps.onFinished?.({ tenantId, id: invocationId, eventId: invocation.eventId }, BigInt(result.fuelUsed));
    return { kind: 'finished', status: result.status };
  }

  private async execute(tenantId: string, invocation: NonNullable<Awaited<ReturnType<InvocationRepository['claim']>>>): Promise<RunResult> {
    const { deps } = this;
    const failed = failedResult;
    const tenant = await deps.tenants.findById(tenantId);
    const version = await deps.versions.find(tenantId, invocation.pluginId, invocation.version);
    if (tenant === null || version === null) return failed('invalid_module', 'the plugin version no longer exists');
    const tenantPolicy = await deps.policies.forTenant(tenant);
    // A version whose permissions an admin approved runs with them.
    const policy = version.approvalStatus === 'approved' ? reviewPolicy(tenantPolicy) : tenantPolicy;
    // The module's bytes are read from the database only when its admission is not cached.
    const admission = await deps.artifacts.admit(
      version.sha256,
      async () => (await deps.versions.findWithWasm(tenantId, invocation.pluginId, invocation.version))?.wasm ?? new Uint8Array(0),
      policy,
    );
    if (!admission.ok) return failed(admission.rejection.kind === 'forbidden_import' ? 'forbidden_import' : 'invalid_module', admission.rejection.reason);
    const binding = invocation.bindingId === null ? null : await deps.bindings.findById(tenantId, invocation.bindingId);
    // Secrets reach the plugin as config entries, at run time only.
    const secrets = binding?.secrets ? (JSON.parse(deps.secrets.open(binding.secrets)) as Record<string, string>) : {};
    return deps.sandbox.run(admission.artifact, invocation.exportName, await deps.invocations.inputOf(invocation), {
      tenantId,
      pluginId: invocation.pluginId,
      policy,
      config: { ...(invocation.config as Record<string, string>), ...secrets },
    });
  }
}
