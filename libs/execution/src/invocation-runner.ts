import type { ClaimedInvocation, ClaimRequest, FinishedInvocation, FinishRequest, InvocationOutcome, InvocationRunState, InvocationWorkRepository, PluginVersionRepository } from '@airlock/db';
import { failedResult, type RunResult, type Sandbox, type SandboxPolicy, storableText } from '@airlock/sandbox';
import { trace } from '@opentelemetry/api';
import { metrics } from '@airlock/telemetry';
import { ATTR, SPAN, withSpan } from '@airlock/telemetry/api';
import type { ArtifactCache } from './artifact-cache.js';
import { CoalescingBatcher } from './coalescing-batcher.js';
import { heldForApproval, reviewPolicy } from './permission-review.js';
import type { PolicyResolver } from './policy-resolver.js';
import type { QuotaOverrides } from './quota-overrides.schema.js';
import { type SecretBox, sealedFor } from './secret-box.js';

export interface InvocationRunnerDeps {
  work: InvocationWorkRepository;
  /** Reads a module's bytes when its admission is not cached. */
  versions: PluginVersionRepository;
  policies: PolicyResolver;
  secrets: SecretBox;
  artifacts: ArtifactCache;
  sandbox: Sandbox;
  /** Told once per outcome written (metrics). */
  onFinished?: (invocation: FinishedInvocation, result: RunResult) => void;
  /**
   * What a written outcome leads to: the fuel of the attempt that wrote it
   * charged, the invocation no longer in flight, its results posted. Must be
   * safe to repeat: it is called again when an invocation's job comes back
   * finished (its worker died after writing the outcome, maybe before this).
   */
  settle?: (invocation: FinishedInvocation, lastAttemptFuel: bigint) => Promise<void>;
  /** Told of each attempt that failed transiently and will be retried: its fuel is the tenant's too. */
  onRetrying?: (invocation: FinishedInvocation, result: RunResult) => Promise<void>;
}

const tracer = trace.getTracer('airlock-worker');

/** A version's module was deleted between its claim and its admission. */
class VersionGone extends Error {}

/** Failures that may not happen again: the executor died, or the host failed to serve a host function. */
export const TRANSIENT_STATUSES: ReadonlySet<string> = new Set(['crashed', 'host_error']);

/**
 * Which finish requests of a batch wrote their outcome, given the ids the
 * statement wrote. Two runs of one invocation (a job fetched again after its
 * lock lapsed) can finish in one batch; the row is written once, so only the
 * first of them is its writer, the one that charges the run.
 */
export function writersOf(requests: ReadonlyArray<{ id: string }>, written: ReadonlySet<string>): boolean[] {
  const unclaimed = new Set(written);
  return requests.map((request) => unclaimed.delete(request.id));
}

/** A run's result as it is stored. */
function storedOutcome(result: RunResult): InvocationOutcome {
  return {
    status: result.status,
    output: result.output,
    // Results made outside the sandbox (the worker's own failures) are made storable here too.
    errorMessage: result.error === undefined ? null : storableText(result.error.message),
    fuelUsed: BigInt(result.fuelUsed),
    memoryPeakBytes: BigInt(result.memoryPeakBytes),
    durationMs: result.durationMs,
    egressBytes: BigInt(result.egressBytes),
    logs: result.logs as never,
    logsDropped: result.logsDropped,
  };
}

/**
 * Why a claimed invocation must not run, as its state stands (read at its claim, or again while it waits for an
 * executor), or null when it may.
 */
export function refusalOf(state: InvocationRunState): RunResult | null {
  const { module } = state;
  if (module === null) return failedResult('invalid_module', 'the plugin version no longer exists');
  // Deleting a plugin stops what it had queued too, as it refuses new calls.
  if (state.pluginDeleted) return failedResult('invalid_module', 'the plugin was deleted');
  // Nor does a deleted binding's queued work run: its secrets went with it, and half its config is not its config.
  if (state.bindingDeleted) return failedResult('invalid_module', 'the binding was deleted');
  // Unpublishing is a tenant's way to stop a bad version at once: what it had queued does not run either.
  if (!module.published) return failedResult('invalid_module', `version ${state.version} was unpublished after this was queued`);
  // What was queued before a version's permissions went back under review, or were refused, does not run with them.
  if (heldForApproval(module.approvalStatus)) {
    return failedResult('forbidden_import', `version ${state.version}'s permissions ${module.approvalStatus === 'pending' ? "await an admin's approval" : 'were refused by an admin'}`);
  }
  return null;
}

/** A run claimed in this process and not finished: withdrawn (see `recheckClaimed`) if it may no longer run. */
interface ClaimedRun {
  invocation: ClaimedInvocation;
  withdrawal: AbortController;
}

export type RunOutcome =
  | { kind: 'finished'; status: string }
  | { kind: 'already_finished' }
  | { kind: 'retry'; reason: string }
  /** The worker is shutting down and gave up on the call: nothing was recorded. */
  | { kind: 'abandoned' };

/**
 * Runs invocations in the sandbox and records their outcomes. Safe to call
 * twice for the same invocation (at-least-once delivery): a finished one is
 * left alone, and the outcome is written only once. Claims and outcomes of
 * concurrent runs share database round trips (CoalescingBatcher).
 */
export class InvocationRunner {
  private readonly claims: CoalescingBatcher<ClaimRequest, ClaimedInvocation | null>;
  private readonly finishes: CoalescingBatcher<FinishRequest, boolean>;
  private readonly reviewed = new WeakMap<SandboxPolicy, SandboxPolicy>();
  private abandoning = false;
  /**
   * Runs under way in this process, by invocation. The queue delivers a job again when its lock lapses, which
   * happens to a live worker too when Redis is away longer than a lock lasts: the second delivery then waits for
   * the first run rather than running the plugin a second time beside it (the claim takes a running invocation,
   * since one whose worker died is running for good).
   */
  private readonly underway = new Map<string, Promise<RunOutcome>>();
  /** Runs claimed here and not finished, by invocation. */
  private readonly claimed = new Map<string, ClaimedRun>();
  /** A recheck under way, and the tenants (null: all) whose changes came during its read: the next read's. */
  private rechecking: { done: Promise<void>; next: Set<string> | null | undefined } | null = null;
  /** Counts the changes announced: a claim that spanned one may have read what the change since undid. */
  private changesHeard = 0;

  constructor(private readonly deps: InvocationRunnerDeps) {
    this.claims = new CoalescingBatcher(async (requests) => {
      const claimed = new Map((await deps.work.claim(requests, new Date())).map((invocation) => [invocation.id, invocation]));
      return requests.map((request) => claimed.get(request.id) ?? null);
    });
    // Outputs may be megabytes each: a statement carries at most 16 MiB of them.
    this.finishes = new CoalescingBatcher(async (requests) => writersOf(requests, await deps.work.finish(requests, new Date())), 128, 1, {
      of: (request) => request.outcome.output.length,
      max: 16 * 1024 * 1024,
    });
  }

  /**
   * Deterministic outcomes are final at once. A transient one is retried
   * (`retry`: the caller re-queues) until `attempt` reaches `maxAttempts`, when it
   * is recorded as final and dead-lettered.
   */
  async run(tenantId: string, invocationId: string, attempt = 1, maxAttempts = 1): Promise<RunOutcome> {
    // In line behind the delivery before it, registered at once: a third delivery waits for the second, not beside
    // it for the first (two that waited for one run that did not finish would both claim, and run the plugin twice).
    const earlier = this.underway.get(invocationId);
    const run = (earlier === undefined ? Promise.resolve() : earlier.then(() => undefined, () => undefined)).then(() => this.runOnce(tenantId, invocationId, attempt, maxAttempts));
    this.underway.set(invocationId, run);
    try {
      return await run;
    } finally {
      if (this.underway.get(invocationId) === run) this.underway.delete(invocationId);
    }
  }

  private async runOnce(tenantId: string, invocationId: string, attempt: number, maxAttempts: number): Promise<RunOutcome> {
    const { deps } = this;
    const heardBefore = this.changesHeard;
    const invocation = await withSpan(tracer, SPAN.claim, {}, () => this.claims.submit({ tenantId, id: invocationId }));
    if (invocation === null) {
      await this.settleIfFinished(tenantId, invocationId);
      return { kind: 'already_finished' };
    }
    trace.getActiveSpan()?.setAttributes({
      [ATTR.pluginId]: invocation.pluginId,
      [ATTR.pluginVersion]: invocation.version,
      [ATTR.exportName]: invocation.exportName,
      ...(invocation.eventType === null ? {} : { [ATTR.eventType]: invocation.eventType }),
      ...(invocation.eventId === null ? {} : { [ATTR.eventId]: invocation.eventId }),
    });
    const claimed: ClaimedRun = { invocation, withdrawal: new AbortController() };
    this.claimed.set(invocationId, claimed);
    // A change announced while the claim was on its way may have committed after the claim read: read again.
    if (this.changesHeard !== heardBefore) void this.recheck(tenantId).catch(() => undefined);
    const result = await this.execute(invocation, claimed.withdrawal.signal)
      .catch((error: unknown) =>
        // The worker failed to prepare or hand over the call (a secret that no longer opens, the database gone
        // meanwhile): a host failure like any other, retried and then dead-lettered, so the invocation never stays
        // `running` and its tenant's in-flight count is released.
        failedResult('host_error', `the worker could not run it: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => this.claimed.get(invocationId) === claimed && this.claimed.delete(invocationId));
    trace.getActiveSpan()?.setAttributes({ [ATTR.status]: result.status, [ATTR.fuelUsed]: result.fuelUsed });
    // Its executor was stopped under it, or its result came too late to keep: the run did not count.
    if (this.abandoning) return { kind: 'abandoned' };
    const transient = TRANSIENT_STATUSES.has(result.status);
    if (transient && attempt < maxAttempts) {
      const reason = storableText(`${result.status}: ${result.error?.message ?? ''}`);
      const requeued = await deps.work.requeue(tenantId, invocationId, reason, {
        fuel: BigInt(result.fuelUsed),
        egressBytes: BigInt(result.egressBytes),
        durationMs: result.durationMs,
        memoryPeakBytes: BigInt(result.memoryPeakBytes),
      });
      // Not running any more: another delivery of its job finished it meanwhile, and charged that.
      if (requeued) await deps.onRetrying?.(invocation, result);
      return { kind: 'retry', reason };
    }
    const wrote = await withSpan(tracer, SPAN.record, {}, () =>
      this.finishes.submit({ tenantId, id: invocationId, outcome: storedOutcome(result), deadLettered: transient }),
    ).catch((error: unknown) => this.keepAttemptOf(invocation, result, error));
    // Only the run that wrote the outcome charges it: a job delivered twice charges once. One told it did not may
    // have all the same: a batch of outcomes that committed as its connection broke is sent again request by
    // request, and each then finds its invocation finished. Its job completes and never comes back to settle, so
    // it settles now what no run has (settling is marked: what the writer settled is not settled twice).
    if (wrote) await this.afterOutcome(invocation, result);
    else await this.settleIfFinished(tenantId, invocationId);
    return { kind: 'finished', status: result.status };
  }

  /**
   * The outcome could not be written (the database went away): the job fails and runs again, so what this
   * attempt used is kept with the invocation and charged to the day, as for a transient failure; then the
   * error goes on. Only if the invocation is still running: a write that committed before its connection
   * broke has recorded the attempt already.
   */
  private async keepAttemptOf(invocation: ClaimedInvocation, result: RunResult, error: unknown): Promise<never> {
    const reason = storableText(`its outcome (${result.status}) could not be recorded: ${error instanceof Error ? error.message : String(error)}`);
    const used = { fuel: BigInt(result.fuelUsed), egressBytes: BigInt(result.egressBytes), durationMs: result.durationMs, memoryPeakBytes: BigInt(result.memoryPeakBytes) };
    const kept = await this.deps.work.requeue(invocation.tenantId, invocation.id, reason, used).catch(() => false);
    if (kept) await this.deps.onRetrying?.(invocation, result).catch(() => undefined);
    throw error;
  }

  private async afterOutcome(invocation: FinishedInvocation, result: RunResult): Promise<void> {
    this.deps.onFinished?.(invocation, result);
    await this.deps.settle?.(invocation, BigInt(result.fuelUsed));
  }

  /**
   * Settles a finished invocation whose settle may have been missed: a job came back for it (its worker died
   * between writing the outcome and settling it), or its job failed before settling it. Settling is marked, so
   * this settles only what was not. False when the invocation is unfinished or gone.
   */
  async settleIfFinished(tenantId: string, invocationId: string): Promise<boolean> {
    if (this.deps.settle === undefined) return false;
    const finished = await this.deps.work.describeFinished(tenantId, invocationId);
    if (finished === null) return false;
    await this.deps.settle(finished, finished.lastAttemptFuel);
    return true;
  }

  /**
   * Records an invocation whose job the queue gave up on outside any run (it
   * stalled too often, or was failed while its worker went away): `crashed` and
   * dead-lettered, then settled like any finished run. False when it had
   * finished meanwhile.
   */
  async recordLost(tenantId: string, invocationId: string, message: string): Promise<boolean> {
    const invocation = await this.deps.work.describeUnfinished(tenantId, invocationId);
    if (invocation === null) return false;
    const result = failedResult('crashed', message);
    const wrote = await this.finishes.submit({ tenantId, id: invocationId, outcome: storedOutcome(result), deadLettered: true });
    // As in runOnce: not told it wrote, it may have; what is settled already is not settled again.
    if (wrote) await this.afterOutcome(invocation, result);
    else await this.settleIfFinished(tenantId, invocationId);
    return wrote;
  }

  /**
   * From now on, runs that finish record nothing: the worker is going away and
   * their jobs will run again elsewhere (the executors may be killed under them).
   */
  abandonRunning(): void {
    this.abandoning = true;
  }

  /**
   * A tenant's configuration changed (`null`: any tenant's): its runs claimed here before the change are
   * read again, and those that may no longer run are withdrawn. One still waiting for an executor then ends
   * without running, as it would have at its claim; one already running runs on. Rechecks asked for while one
   * reads share the next read.
   */
  recheckClaimed(tenantId: string | null): Promise<void> {
    this.changesHeard++;
    return this.recheck(tenantId);
  }

  /** Reads the claimed runs of `tenantId` (null: all) again, sharing a read under way (see recheckClaimed). */
  private recheck(tenantId: string | null): Promise<void> {
    if (this.rechecking !== null) {
      const { next } = this.rechecking;
      this.rechecking.next = tenantId === null || next === null ? null : new Set([...(next ?? []), tenantId]);
      return this.rechecking.done;
    }
    const recheck: { done: Promise<void>; next: Set<string> | null | undefined } = { done: Promise.resolve(), next: undefined };
    recheck.done = (async () => {
      let tenants: Set<string> | null | undefined = tenantId === null ? null : new Set([tenantId]);
      let failure: unknown;
      try {
        while (tenants !== undefined) {
          recheck.next = undefined;
          // A read that fails leaves the requests that came during it to the next one, which may succeed.
          failure = await this.withdrawRefused(tenants).then(() => undefined, (error: unknown) => error ?? new Error('the recheck failed'));
          tenants = recheck.next;
        }
      } finally {
        this.rechecking = null;
      }
      if (failure !== undefined) throw failure;
    })();
    this.rechecking = recheck;
    return recheck.done;
  }

  private async withdrawRefused(tenants: ReadonlySet<string> | null): Promise<void> {
    const runs = [...this.claimed.values()].filter((run) => tenants === null || tenants.has(run.invocation.tenantId));
    if (runs.length === 0) return;
    const states = await this.deps.work.runStates(runs.map(({ invocation }) => ({ tenantId: invocation.tenantId, id: invocation.id })));
    const byId = new Map(runs.map((run) => [run.invocation.id, run]));
    for (const state of states) {
      const refusal = refusalOf(state);
      if (refusal !== null) byId.get(state.id)?.withdrawal.abort(refusal);
    }
  }

  private async execute(invocation: ClaimedInvocation, withdrawal: AbortSignal): Promise<RunResult> {
    const { deps } = this;
    const { module } = invocation;
    const refusal = refusalOf(invocation);
    // refusalOf refuses a missing module first.
    if (refusal !== null || module === null) return refusal ?? failedResult('invalid_module', 'the plugin version no longer exists');
    const tenantPolicy = await deps.policies.resolve(invocation.tenantTier, invocation.quotaOverrides as QuotaOverrides);
    // A version whose permissions an admin approved runs with them.
    const policy = module.approvalStatus === 'approved' ? this.reviewedPolicy(tenantPolicy) : tenantPolicy;
    // The module's bytes are read from the database only when its admission is not cached. A version gone
    // meanwhile is this invocation's end, and nothing is cached for it: the same bytes may be another version's.
    const admission = await deps.artifacts
      .admit(
        module.sha256,
        async () => {
          const stored = await deps.versions.findWithWasm(invocation.tenantId, invocation.pluginId, invocation.version);
          if (stored === null) throw new VersionGone();
          return stored.wasm;
        },
        policy,
      )
      .catch((error: unknown) => (error instanceof VersionGone ? null : Promise.reject(error)));
    if (admission === null) return failedResult('invalid_module', 'the plugin version no longer exists');
    if (!admission.ok) {
      metrics.admissionRejections.inc({ kind: admission.rejection.kind });
      return failedResult(admission.rejection.kind === 'forbidden_import' ? 'forbidden_import' : 'invalid_module', admission.rejection.reason);
    }
    // Secrets reach the plugin as config entries, at run time only.
    const secrets = this.openSecrets(invocation);
    return deps.sandbox.run(admission.artifact, invocation.exportName, invocation.input, {
      tenantId: invocation.tenantId,
      pluginId: invocation.pluginId,
      policy,
      config: { ...invocation.config, ...secrets },
      withdrawal,
    });
  }

  /**
   * A binding's sealed secrets, opened. What keeps them shut (a key the deployment no longer holds, damage) is the
   * operator's: the tenant is told what it can do, without the key's id.
   */
  private openSecrets({ tenantId, bindingId, bindingSecrets }: ClaimedInvocation): Record<string, string> {
    if (bindingSecrets === null || bindingId === null) return {};
    try {
      return JSON.parse(this.deps.secrets.open(bindingSecrets, sealedFor.bindingSecrets(tenantId, bindingId))) as Record<string, string>;
    } catch (error) {
      throw new Error("its binding's secrets cannot be opened (sealed with a key this deployment no longer holds, or damaged): set them again", { cause: error });
    }
  }

  /** The same reviewed policy object for the same tenant policy, so what is cached per policy stays cached. */
  private reviewedPolicy(policy: SandboxPolicy): SandboxPolicy {
    let reviewed = this.reviewed.get(policy);
    if (reviewed === undefined) this.reviewed.set(policy, (reviewed = reviewPolicy(policy)));
    return reviewed;
  }
}
