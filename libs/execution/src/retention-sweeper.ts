import type { RetentionRepository, RetentionResult } from '@airlock/db';
import type { PolicyResolver } from './policy-resolver.js';
import type { QuotaOverrides } from './quota-overrides.schema.js';

const DAY_MS = 86_400_000;

/** Applies every tenant's retention (its tier's `retentionDays`, or an admin's override). */
export class RetentionSweeper {
  constructor(
    private readonly retention: RetentionRepository,
    private readonly policies: PolicyResolver,
    private readonly batchSize: number,
  ) {}

  async sweep(now = new Date()): Promise<RetentionResult & { tenants: number }> {
    const total = { tenants: 0, invocations: 0, events: 0, spans: 0, webhookDeliveries: 0, kvEntries: 0 };
    for (const tenant of await this.retention.tenants()) {
      const { retentionDays } = (await this.policies.resolve(tenant.tier, tenant.overrides as QuotaOverrides)).quotas;
      const deleted = await this.retention.sweep(tenant.id, new Date(now.getTime() - retentionDays * DAY_MS), this.batchSize);
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
