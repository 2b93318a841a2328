import { Injectable } from '@nestjs/common';
import type { Tenant } from '@airlock/db';
import { loadTier, type SandboxPolicy } from '@airlock/sandbox';

/** The sandbox policy a tenant's plugins run under: its tier, from sandbox-policies/. */
@Injectable()
export class TenantPolicyService {
  private readonly tiers = new Map<string, Promise<SandboxPolicy>>();

  forTenant(tenant: Tenant): Promise<SandboxPolicy> {
    let policy = this.tiers.get(tenant.tier);
    if (policy === undefined) {
      policy = loadTier(tenant.tier);
      this.tiers.set(tenant.tier, policy);
    }
    return policy;
  }
}
