import { Injectable } from '@nestjs/common';
import { type Tenant, TenantQuotaRepository } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { loadTier, type SandboxPolicy, sandboxPolicySchema } from '@airlock/sandbox';
import type { QuotaOverrides } from './quota.schema.js';

/** The policy a tenant runs under: its tier (a file in sandbox-policies/) with an admin's overrides. */
@Injectable()
export class TenantPolicyService {
  private readonly tiers = new Map<string, Promise<SandboxPolicy>>();

  constructor(private readonly quotas: TenantQuotaRepository) {}

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
    return this.effective(await this.tier(tenant.tier), await this.overrides(tenant.id));
  }

  /** Applies overrides to a tier; a combination that is not a valid policy is a 400 naming the field. */
  effective(tier: SandboxPolicy, overrides: QuotaOverrides): SandboxPolicy {
    const { allowedHosts, maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns, ...limits } = overrides;
    const quotas = { maxPlugins, maxVersionsPerPlugin, invocationsPerDay, fuelPerDay, eventsPerSecond, concurrentRuns };
    const merged = {
      ...tier,
      ...limits,
      http: { ...tier.http, ...(allowedHosts === undefined ? {} : { allowedHosts }) },
      quotas: { ...tier.quotas, ...Object.fromEntries(Object.entries(quotas).filter(([, value]) => value !== undefined)) },
    };
    const parsed = sandboxPolicySchema.safeParse(merged);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ field: `overrides.${issue.path.join('.')}`, message: issue.message }));
      throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
        details: { issues },
      });
    }
    return parsed.data;
  }
}
