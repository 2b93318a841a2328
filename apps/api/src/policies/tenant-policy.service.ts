import { Injectable } from '@nestjs/common';
import { TenantQuotaRepository } from '@airlock/db';
import { PolicyResolver } from '@airlock/execution';

/** The API's handle on PolicyResolver: a tenant's tier with an admin's overrides. */
@Injectable()
export class TenantPolicyService extends PolicyResolver {
  constructor(quotas: TenantQuotaRepository) {
    super(quotas);
  }
}
