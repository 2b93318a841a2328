import { Injectable } from '@nestjs/common';
import { type ApiKey, ApiKeyRepository, type ListPage } from '@airlock/db';
import { generateApiKey } from '../auth/credentials.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { notFound } from '../validation/id-param.pipe.js';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly apiKeys: ApiKeyRepository,
    private readonly tenants: TenantsService,
  ) {}

  /** Issues a key; the returned `key` is the only time the secret exists outside the caller. */
  async issue(tenantId: string, name: string): Promise<{ record: ApiKey; key: string }> {
    await this.tenants.get(tenantId);
    const generated = generateApiKey();
    const record = await this.apiKeys.create({
      tenantId,
      name,
      prefix: generated.prefix,
      secretHash: generated.secretHash,
    });
    return { record, key: generated.key };
  }

  async list(tenantId: string, page: ListPage): Promise<ApiKey[]> {
    await this.tenants.get(tenantId);
    return this.apiKeys.listForTenant(tenantId, page);
  }

  /** Revokes at once; revoking a revoked key again returns it unchanged (`revokedNow` false). */
  async revoke(tenantId: string, keyId: string): Promise<{ key: ApiKey; revokedNow: boolean }> {
    const revoked = await this.apiKeys.revoke(tenantId, keyId, new Date());
    if (revoked === null) {
      // Named as listing and issuing name it: an unknown tenant is not an unknown key.
      await this.tenants.get(tenantId);
      throw notFound('API key');
    }
    return revoked;
  }
}
