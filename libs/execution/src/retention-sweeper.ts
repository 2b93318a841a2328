import type { RetentionRepository, RetentionResult } from '@airlock/db';
import type { PolicyResolver } from './policy-resolver.js';
import type { QuotaOverrides } from './quota-overrides.schema.js';

const DAY_MS = 86_400_000;

/** Tenants a sweep could not apply retention to, and why (the first few: the rest are counted). */
export interface RetentionFailures {
  failed: number;
  failures: Array<{ tenantId: string; reason: string }>;
}

const FAILURES_NAMED = 5;

/** Applies every tenant's retention (its tier's `retentionDays`, or an admin's override). */
export class RetentionSweeper {
  constructor(
    private readonly retention: RetentionRepository,
    private readonly policies: PolicyResolver,
    private readonly batchSize: number,
  ) {}

  /**
   * One tenant that cannot be swept (its tier's file gone, a statement refused) is reported and passed over:
   * the tenants after it are swept all the same, or their data would grow without end.
   */
  async sweep(now = new Date()): Promise<RetentionResult & RetentionFailures & { tenants: number }> {
    const total = { tenants: 0, invocations: 0, events: 0, spans: 0, webhookDeliveries: 0, kvEntries: 0, failed: 0, failures: [] as RetentionFailures['failures'] };
    for (const tenant of await this.retention.tenants()) {
      let deleted: RetentionResult;
      try {
        const { retentionDays } = (await this.policies.resolve(tenant.tier, tenant.overrides as QuotaOverrides)).quotas;
        deleted = await this.retention.sweep(tenant.id, new Date(now.getTime() - retentionDays * DAY_MS), this.batchSize);
      } catch (error) {
        total.failed++;
        if (total.failures.length < FAILURES_NAMED) total.failures.push({ tenantId: tenant.id, reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      total.tenants++;
      total.invocations += deleted.invocations;
      total.events += deleted.events;
      total.spans += deleted.spans;
      total.webhookDeliveries += deleted.webhookDeliveries;
      total.kvEntries += deleted.kvEntries;
    }
    return total;
  }
}
