import type { PrismaClient } from '../generated/prisma/client.js';

/** What one sweep of a tenant deleted. */
export interface RetentionResult {
  invocations: number;
  events: number;
  spans: number;
  webhookDeliveries: number;
  /** Key-value entries of plugins that are gone: deleted plugins, and versions' own test namespaces. */
  kvEntries: number;
}

/**
 * Deletes a tenant's records older than its retention, a batch at a time (each
 * batch its own short statement, so a large backlog never holds long locks).
 * Unfinished invocations, and events with one, are kept whatever their age. A
 * live plugin's key-value data is its state, kept however old; that of a
 * deleted plugin, or of a version's own test namespace, goes once untouched for
 * the retention.
 */
export class RetentionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Every tenant with its tier and its retention override, if any. */
  async tenants(): Promise<Array<{ id: string; tier: string; overrides: unknown }>> {
    const tenants = await this.prisma.tenant.findMany({ select: { id: true, tier: true, quota: { select: { overrides: true } } }, orderBy: { id: 'asc' } });
    return tenants.map((tenant) => ({ id: tenant.id, tier: tenant.tier, overrides: tenant.quota?.overrides ?? {} }));
  }

  async sweep(tenantId: string, before: Date, batchSize: number): Promise<RetentionResult> {
    const result: RetentionResult = { invocations: 0, events: 0, spans: 0, webhookDeliveries: 0, kvEntries: 0 };
    result.webhookDeliveries = await this.inBatches(() => this.prisma.$executeRaw`
      DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries WHERE tenant_id = ${tenantId}::uuid AND created_at < ${before} LIMIT ${batchSize})`);
    // What the deleted invocations used is added to their days' usage in the same statement: usage outlives them.
    result.invocations = await this.inBatches(async () => {
      const [row] = await this.prisma.$queryRaw<Array<{ deleted: bigint }>>`
        WITH gone AS (
          DELETE FROM invocations WHERE id IN (
            SELECT id FROM invocations WHERE tenant_id = ${tenantId}::uuid AND created_at < ${before} AND finished_at IS NOT NULL LIMIT ${batchSize})
          RETURNING tenant_id, finished_at, status, fuel_used, duration_ms, egress_bytes
        ), rolled_up AS (
          INSERT INTO usage_days AS u (tenant_id, day, status, invocations, fuel, run_ms, egress_bytes)
          SELECT tenant_id, (finished_at AT TIME ZONE 'UTC')::date, status, count(*), COALESCE(sum(fuel_used), 0), COALESCE(sum(duration_ms), 0), sum(egress_bytes)
            FROM gone GROUP BY 1, 2, 3
          ON CONFLICT (tenant_id, day, status) DO UPDATE
            SET invocations = u.invocations + EXCLUDED.invocations, fuel = u.fuel + EXCLUDED.fuel,
                run_ms = u.run_ms + EXCLUDED.run_ms, egress_bytes = u.egress_bytes + EXCLUDED.egress_bytes
          RETURNING 1
        )
        SELECT count(*) AS deleted FROM gone`;
      return Number(row?.deleted ?? 0);
    });
    result.events = await this.inBatches(() => this.prisma.$executeRaw`
      DELETE FROM events WHERE id IN (
        SELECT e.id FROM events e
         WHERE e.tenant_id = ${tenantId}::uuid AND e.created_at < ${before}
           AND NOT EXISTS (SELECT 1 FROM invocations i WHERE i.event_id = e.id)
         LIMIT ${batchSize})`);
    result.spans = await this.inBatches(() => this.prisma.$executeRaw`
      DELETE FROM spans WHERE span_id IN (
        SELECT span_id FROM spans WHERE tenant_id = ${tenantId}::uuid AND start_time < ${before} LIMIT ${batchSize})`);
    // Key counts are locked before their keys (as the plugins' own writes do, see plugin_kv_set): one order of locks.
    result.kvEntries = await this.inBatches(async () => {
      const [, deleted] = await this.prisma.$transaction([
        this.prisma.$queryRaw`
          SELECT 1 FROM plugin_kv_usage u
           WHERE u.tenant_id = ${tenantId}::uuid AND NOT EXISTS (SELECT 1 FROM plugins p WHERE p.id = u.plugin_id AND p.deleted_at IS NULL)
           ORDER BY u.plugin_id
             FOR UPDATE`,
        this.prisma.$executeRaw`
          DELETE FROM plugin_kv WHERE (tenant_id, plugin_id, key) IN (
            SELECT k.tenant_id, k.plugin_id, k.key FROM plugin_kv k
             WHERE k.tenant_id = ${tenantId}::uuid AND k.updated_at < ${before}
               AND NOT EXISTS (SELECT 1 FROM plugins p WHERE p.id = k.plugin_id AND p.deleted_at IS NULL)
             LIMIT ${batchSize})`,
      ]);
      return deleted;
    });
    // The key counts those entries leave at zero (plugin_kv_set makes a count again if one is needed).
    await this.prisma.$executeRaw`
      DELETE FROM plugin_kv_usage u
       WHERE u.tenant_id = ${tenantId}::uuid AND u.keys = 0
         AND NOT EXISTS (SELECT 1 FROM plugins p WHERE p.id = u.plugin_id AND p.deleted_at IS NULL)`;
    return result;
  }

  private async inBatches(deleteBatch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let deleted = await deleteBatch(); deleted > 0; deleted = await deleteBatch()) total += deleted;
    return total;
  }
}
