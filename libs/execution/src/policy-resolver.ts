import type { Tenant, TenantQuotaRepository } from '@airlock/db';
import { loadTier, type SandboxPolicy } from '@airlock/sandbox';
import { effectivePolicy } from './effective-policy.js';
import type { QuotaOverrides } from './quota-overrides.schema.js';

/** The policy a tenant runs under: its tier (a file in sandbox-policies/) with an admin's overrides. */
export class PolicyResolver {
  private readonly tiers = new Map<string, Promise<SandboxPolicy>>();

  constructor(private readonly quotas: TenantQuotaRepository) {}

  /** A tier, read once per process. */
  tier(name: string): Promise<SandboxPolicy> {
    let policy = this.tiers.get(name);
    if (policy === undefined) {
      policy = loadTier(name);
      this.tiers.set(name, policy);
    }
    return policy;
  }

  async overrides(tenantId: string): Promise<QuotaOverrides> {
    return (await this.quotas.overrides(tenantId)) as QuotaOverrides;
  }

  async forTenant(tenant: Tenant): Promise<SandboxPolicy> {
    return effectivePolicy(await this.tier(tenant.tier), await this.overrides(tenant.id));
  }
}
