import type { Tenant, TenantQuotaRepository } from '@airlock/db';
import { loadTier, type SandboxPolicy } from '@airlock/sandbox';
import { effectivePolicy } from './effective-policy.js';
import type { QuotaOverrides } from './quota-overrides.schema.js';

/** Distinct (tier, overrides) pairs kept resolved; there are about as many as tenants with overrides. */
const MAX_RESOLVED = 1000;

/** The policy a tenant runs under: its tier (a file in sandbox-policies/) with an admin's overrides. */
export class PolicyResolver {
  private readonly tiers = new Map<string, Promise<SandboxPolicy>>();
  private readonly resolved = new Map<string, SandboxPolicy>();

  constructor(private readonly quotas: TenantQuotaRepository) {}

  /** A tier, read once per process; a read that failed is not kept (the next call reads again). */
  tier(name: string): Promise<SandboxPolicy> {
    let policy = this.tiers.get(name);
    if (policy === undefined) {
      const reading = loadTier(name);
      reading.catch(() => this.tiers.get(name) === reading && this.tiers.delete(name));
      this.tiers.set(name, (policy = reading));
    }
    return policy;
  }

  async overrides(tenantId: string): Promise<QuotaOverrides> {
    return (await this.quotas.overrides(tenantId)) as QuotaOverrides;
  }

  /** The tenant's policy; its overrides are read unless the tenant was loaded with them (`quota`, as authentication does). */
  async forTenant(tenant: Tenant & { quota?: { overrides: unknown } | null }): Promise<SandboxPolicy> {
    const overrides = tenant.quota === undefined ? await this.overrides(tenant.id) : ((tenant.quota?.overrides ?? {}) as QuotaOverrides);
    return this.resolve(tenant.tier, overrides);
  }

  /**
   * The tier with these overrides applied. The same inputs give the same
   * (frozen) object, so what is derived from a policy can be cached by identity.
   */
  async resolve(tierName: string, overrides: QuotaOverrides): Promise<SandboxPolicy> {
    const key = `${tierName}\n${JSON.stringify(overrides)}`;
    let policy = this.resolved.get(key);
    if (policy === undefined) {
      policy = deepFreeze(effectivePolicy(await this.tier(tierName), overrides));
      if (this.resolved.size >= MAX_RESOLVED) this.resolved.delete(this.resolved.keys().next().value!);
      this.resolved.set(key, policy);
    }
    return policy;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
