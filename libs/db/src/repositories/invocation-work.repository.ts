import type { PrismaClient } from '../generated/prisma/client.js';
import type { SqlExecutor } from '../sql-executor.js';
import { RELAXED_COMMIT } from './relaxed-commit.js';
import type { InvocationOutcome } from './invocation.repository.js';

/** An invocation a worker has claimed, with everything its run needs, read in the same round trip. */
export interface ClaimedInvocation {
  id: string;
  tenantId: string;
  eventId: string | null;
  eventType: string | null;
  bindingId: string | null;
  pluginId: string;
  version: number;
  exportName: string;
  /** The direct input, or the event's payload. */
  input: Uint8Array;
  /** The Extism config the plugin gets: its binding's as it is at the claim (with its secrets), else what the call gave. */
  config: Record<string, string>;
  /** Attempts so far, this one included. */
  attempts: number;
  tenantTier: string;
  /** The admin's quota overrides ({} when none). */
  quotaOverrides: unknown;
  /** Null when the version no longer exists. `published` is false once it was unpublished (it was published when queued). */
  module: { sha256: string; approvalStatus: string; published: boolean } | null;
  /** The plugin was deleted since the invocation was queued: it no longer runs. */
  pluginDeleted: boolean;
  /** It was queued for a binding that has been deleted since (with its secrets). */
  bindingDeleted: boolean;
  /** The binding's sealed secrets, if any. */
  bindingSecrets: string | null;
  /** Whether the tenant has an enabled webhook (deliveries need planning). */
  hasWebhooks: boolean;
}

/** What decides whether a claimed invocation may run, as it stands now (see InvocationWorkRepository.runStates). */
export type InvocationRunState = Pick<ClaimedInvocation, 'id' | 'version' | 'module' | 'pluginDeleted' | 'bindingDeleted'>;

/** The columns a run state is read from, as the claim and `runStates` select them. */
interface RunStateRow {
  sha256: string | null;
  approval_status: string | null;
  version_status: string | null;
}

function moduleOf(row: RunStateRow): ClaimedInvocation['module'] {
  return row.sha256 === null ? null : { sha256: row.sha256, approvalStatus: row.approval_status ?? 'not_required', published: row.version_status === 'published' };
}

/** What recording an outcome needs to know of an invocation beyond its id (metrics, quota settle, webhooks). */
export type FinishedInvocation = Pick<ClaimedInvocation, 'id' | 'tenantId' | 'tenantTier' | 'eventType' | 'hasWebhooks'>;

/** An invocation not finished yet (queued, running, or waiting for a retry). */
export interface UnfinishedInvocation {
  id: string;
  createdAt: Date;
}

export interface ClaimRequest {
  tenantId: string;
  id: string;
}

export interface FinishRequest {
  tenantId: string;
  id: string;
  outcome: InvocationOutcome;
  /** A transient failure that outlasted its retries. */
  deadLettered: boolean;
}

interface ClaimRow extends RunStateRow {
  id: string;
  tenant_id: string;
  event_id: string | null;
  event_type: string | null;
  binding_id: string | null;
  plugin_id: string;
  version: number;
  export_name: string;
  input: Uint8Array | null;
  payload: Uint8Array | null;
  config: Record<string, string>;
  attempts: number;
  tier: string;
  overrides: unknown;
  plugin_deleted: boolean;
  binding_deleted: boolean;
  secrets: string | null;
  binding_config: Record<string, string> | null;
  has_webhooks: boolean;
}

/**
 * The worker's side of invocations: claim and finish, many at a time. Each is
 * one statement whatever the batch size, so the database costs a round trip per
 * batch rather than the ten a run used to take; both are guarded by status, so
 * a job delivered twice runs and records once.
 *
 * Rows are found by primary key, and the tenant is checked with IS NOT
 * DISTINCT FROM: the same test for these non-null columns, but one no index
 * answers, so the planner cannot take the tenant's index instead. It did while
 * a table's statistics were stale (a new database, a burst of events): each
 * claim then read every invocation of the tenant. Every statement here is a
 * named one on the database's keyed-lookup connections (`Database.keyedSql`),
 * planned once per connection: each must find its rows by key.
 */
export class InvocationWorkRepository {
  constructor(
    private readonly prisma: PrismaClient,
    /** Claim and finish run once per batch of runs: on the driver directly, without Prisma Client's cost per query. */
    private readonly sql: SqlExecutor,
  ) {}

  /**
   * Marks the invocations running and counts an attempt for each, returning what
   * their runs need. An invocation already finished is left out of the result.
   */
  async claim(requests: readonly ClaimRequest[], at: Date): Promise<ClaimedInvocation[]> {
    if (requests.length === 0) return [];
    const rows = await this.sql.query<ClaimRow>(
      // A claim lost in a database crash is harmless: the run is claimed again (the outcome is written whatever the
      // status was), so claims do not wait for the log flush. Outcomes do: a lost one would lose a finished job's result.
      // What a run needs is read by one small subquery per value rather than by joins: the same rows, but PostgreSQL
      // plans it in about half the time, and planning cost more than running it.
      `WITH wanted AS (
        SELECT w.* FROM unnest($1::uuid[], $2::uuid[]) AS w(id, tenant_id) CROSS JOIN ${RELAXED_COMMIT}
      ), claimed AS (
        UPDATE invocations i
           SET status = 'running', attempts = i.attempts + 1, started_at = $3
          FROM wanted w
         WHERE i.id = w.id AND i.tenant_id IS NOT DISTINCT FROM w.tenant_id AND i.status IN ('queued', 'running')
        RETURNING i.id, i.tenant_id, i.event_id, i.binding_id, i.plugin_id, i.version, i.export_name, i.input, i.config, i.attempts
      )
      SELECT c.*,
             (SELECT e.type FROM events e WHERE e.id = c.event_id) AS event_type,
             (SELECT e.payload FROM events e WHERE e.id = c.event_id) AS payload,
             (SELECT t.tier FROM tenants t WHERE t.id = c.tenant_id) AS tier,
             COALESCE((SELECT q.overrides FROM tenant_quotas q WHERE q.tenant_id = c.tenant_id), '{}'::jsonb) AS overrides,
             (SELECT v.sha256 FROM plugin_versions v
               WHERE v.plugin_id = c.plugin_id AND v.number = c.version AND v.tenant_id IS NOT DISTINCT FROM c.tenant_id) AS sha256,
             (SELECT v.approval_status FROM plugin_versions v
               WHERE v.plugin_id = c.plugin_id AND v.number = c.version AND v.tenant_id IS NOT DISTINCT FROM c.tenant_id) AS approval_status,
             (SELECT v.status FROM plugin_versions v
               WHERE v.plugin_id = c.plugin_id AND v.number = c.version AND v.tenant_id IS NOT DISTINCT FROM c.tenant_id) AS version_status,
             EXISTS (SELECT 1 FROM plugins p WHERE p.id = c.plugin_id AND p.deleted_at IS NOT NULL) AS plugin_deleted,
             (SELECT b.secrets FROM bindings b WHERE b.id = c.binding_id AND b.tenant_id IS NOT DISTINCT FROM c.tenant_id) AS secrets,
             (SELECT b.config FROM bindings b WHERE b.id = c.binding_id AND b.tenant_id IS NOT DISTINCT FROM c.tenant_id) AS binding_config,
             c.binding_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.id = c.binding_id) AS binding_deleted,
             EXISTS (SELECT 1 FROM webhooks h WHERE h.tenant_id = c.tenant_id AND h.enabled) AS has_webhooks
        FROM claimed c`,
      [requests.map((r) => r.id), requests.map((r) => r.tenantId), at],
      'airlock_claim_invocations',
    );
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      eventId: row.event_id,
      eventType: row.event_type,
      bindingId: row.binding_id,
      pluginId: row.plugin_id,
      version: row.version,
      exportName: row.export_name,
      input: row.input ?? row.payload ?? new Uint8Array(0),
      // A binding's config as it is now, read with its secrets: a run never sees one moment's config with another's
      // secrets (a binding changed while the run was queued, or fixed before a dead letter's replay).
      config: row.binding_config ?? row.config,
      attempts: row.attempts,
      tenantTier: row.tier,
      quotaOverrides: row.overrides,
      module: moduleOf(row),
      pluginDeleted: row.plugin_deleted,
      bindingDeleted: row.binding_deleted,
      bindingSecrets: row.secrets,
      hasWebhooks: row.has_webhooks,
    }));
  }

  /**
   * What decides now whether these claimed invocations may run: their version (gone, unpublished, its approval
   * withdrawn), their plugin and binding (deleted). Read again when a tenant's configuration changes, for runs
   * claimed before it changed and not started yet. An invocation gone (its tenant deleted) is left out.
   */
  async runStates(requests: readonly ClaimRequest[]): Promise<InvocationRunState[]> {
    if (requests.length === 0) return [];
    const rows = await this.sql.query<RunStateRow & { id: string; version: number; plugin_deleted: boolean; binding_deleted: boolean }>(
      `SELECT i.id, i.version, v.sha256, v.approval_status, v.status AS version_status,
              EXISTS (SELECT 1 FROM plugins p WHERE p.id = i.plugin_id AND p.deleted_at IS NOT NULL) AS plugin_deleted,
              i.binding_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.id = i.binding_id) AS binding_deleted
         FROM unnest($1::uuid[], $2::uuid[]) AS w(id, tenant_id)
         JOIN invocations i ON i.id = w.id AND i.tenant_id IS NOT DISTINCT FROM w.tenant_id
         LEFT JOIN plugin_versions v ON v.plugin_id = i.plugin_id AND v.number = i.version AND v.tenant_id IS NOT DISTINCT FROM i.tenant_id`,
      [requests.map((r) => r.id), requests.map((r) => r.tenantId)],
      'airlock_invocation_run_states',
    );
    return rows.map((row) => ({ id: row.id, version: row.version, module: moduleOf(row), pluginDeleted: row.plugin_deleted, bindingDeleted: row.binding_deleted }));
  }

  /**
   * Writes outcomes not written yet; returns the ids this call wrote (the
   * others were finished already). Fuel, egress and run time add to what
   * earlier attempts used (see `requeue`); the memory peak is the highest.
   */
  async finish(requests: readonly FinishRequest[], at: Date): Promise<Set<string>> {
    if (requests.length === 0) return new Set();
    const column = <T>(pick: (request: FinishRequest) => T) => requests.map(pick);
    // Arrays of text cast in SQL: bytea and jsonb travel as base64 and JSON text, bigints as decimal text.
    const rows = await this.sql.query<{ id: string }>(
      `UPDATE invocations i
         SET status = f.status, output = decode(f.output, 'base64'), error_message = f.error_message,
             fuel_used = COALESCE(i.fuel_used, 0) + f.fuel_used, last_attempt_fuel = f.fuel_used, memory_peak_bytes = GREATEST(i.memory_peak_bytes, f.memory_peak_bytes), duration_ms = COALESCE(i.duration_ms, 0) + f.duration_ms,
             egress_bytes = i.egress_bytes + f.egress_bytes, logs = f.logs, logs_dropped = f.logs_dropped, finished_at = $13,
             dead_lettered_at = CASE WHEN f.dead_lettered THEN $13::timestamptz END
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::float8[], $9::bigint[], $10::jsonb[], $11::int[], $12::bool[])
             AS f(id, tenant_id, status, output, error_message, fuel_used, memory_peak_bytes, duration_ms, egress_bytes, logs, logs_dropped, dead_lettered)
       WHERE i.id = f.id AND i.tenant_id IS NOT DISTINCT FROM f.tenant_id AND i.status IN ('queued', 'running')
      RETURNING i.id`,
      [
        column((r) => r.id),
        column((r) => r.tenantId),
        column((r) => r.outcome.status),
        column((r) => Buffer.from(r.outcome.output).toString('base64')),
        column((r) => r.outcome.errorMessage),
        column((r) => r.outcome.fuelUsed.toString()),
        column((r) => r.outcome.memoryPeakBytes.toString()),
        column((r) => r.outcome.durationMs),
        column((r) => r.outcome.egressBytes.toString()),
        column((r) => JSON.stringify(r.outcome.logs)),
        column((r) => r.outcome.logsDropped),
        column((r) => r.deadLettered),
        at,
      ],
      'airlock_finish_invocations',
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * A page of the tenant's unfinished invocations, by id after `afterId`. Rare
   * (the reconciler's sweep), so through Prisma; the tenant's finished_at index
   * holds the unfinished ones together (NULLs sort last).
   */
  async unfinished(tenantId: string, afterId: string | null, limit: number): Promise<UnfinishedInvocation[]> {
    return this.prisma.invocation.findMany({
      where: { tenantId, finishedAt: null, status: { in: ['queued', 'running'] }, ...(afterId === null ? {} : { id: { gt: afterId } }) },
      orderBy: { id: 'asc' },
      take: limit,
      select: { id: true, createdAt: true },
    });
  }

  /** What recording the outcome of an unfinished invocation needs, or null when it is finished or gone. */
  async describeUnfinished(tenantId: string, id: string): Promise<FinishedInvocation | null> {
    return (await this.describe(tenantId, id, true)) ?? null;
  }

  /**
   * A finished invocation, with the fuel of the attempt that wrote its outcome
   * (what settling it charges), or null when it is unfinished or gone.
   */
  async describeFinished(tenantId: string, id: string): Promise<(FinishedInvocation & { lastAttemptFuel: bigint }) | null> {
    return (await this.describe(tenantId, id, false)) ?? null;
  }

  private async describe(tenantId: string, id: string, unfinished: boolean): Promise<(FinishedInvocation & { lastAttemptFuel: bigint }) | undefined> {
    const [row] = await this.sql.query<{ id: string; tenant_id: string; tier: string; event_type: string | null; has_webhooks: boolean; last_attempt_fuel: string | null }>(
      `SELECT i.id, i.tenant_id, t.tier, e.type AS event_type, i.last_attempt_fuel,
              EXISTS (SELECT 1 FROM webhooks h WHERE h.tenant_id = i.tenant_id AND h.enabled) AS has_webhooks
         FROM invocations i
         JOIN tenants t ON t.id = i.tenant_id
         LEFT JOIN events e ON e.id = i.event_id
        WHERE i.id = $1 AND i.tenant_id IS NOT DISTINCT FROM $2 AND (i.status IN ('queued', 'running')) = $3`,
      [id, tenantId, unfinished],
      'airlock_describe_invocation',
    );
    if (row === undefined) return undefined;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      tenantTier: row.tier,
      eventType: row.event_type,
      hasWebhooks: row.has_webhooks,
      lastAttemptFuel: BigInt(row.last_attempt_fuel ?? 0),
    };
  }

  /**
   * Puts a running invocation back in the queue state after a transient
   * failure, keeping what went wrong and adding what the attempt used: an
   * invocation's fuel, egress and run time are those of all its attempts, its
   * memory peak the highest of them. False when it was not running (finished).
   */
  async requeue(tenantId: string, id: string, lastError: string, used: { fuel: bigint; egressBytes: bigint; durationMs: number; memoryPeakBytes: bigint }): Promise<boolean> {
    const changed = await this.prisma.$executeRaw`
      UPDATE invocations
         SET status = 'queued', error_message = ${lastError},
             fuel_used = COALESCE(fuel_used, 0) + ${used.fuel}, egress_bytes = egress_bytes + ${used.egressBytes},
             duration_ms = COALESCE(duration_ms, 0) + ${used.durationMs}::float8,
             memory_peak_bytes = GREATEST(memory_peak_bytes, ${used.memoryPeakBytes})
       WHERE id = ${id}::uuid AND tenant_id = ${tenantId}::uuid AND status = 'running'`;
    return changed > 0;
  }
}
