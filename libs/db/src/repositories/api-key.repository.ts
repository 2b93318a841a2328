import type { ApiKey, PrismaClient, Tenant, TenantQuota } from '../generated/prisma/client.js';
import { createdAfter, type ListPage } from './list-position.js';

export interface NewApiKey {
  tenantId: string;
  name: string;
  prefix: string;
  secretHash: string;
}

/** A tenant's API keys. Every method but the lookup by prefix is scoped to a tenant. */
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(key: NewApiKey): Promise<ApiKey> {
    return this.prisma.apiKey.create({ data: key });
  }

  /** Oldest first, revoked ones included. */
  listForTenant(tenantId: string, page: ListPage): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({ where: { tenantId, ...createdAfter(page.after) }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: page.take });
  }

  /**
   * Marks a key revoked. Returns the key and whether this call revoked it (false:
   * it was revoked already), or null when the tenant has no such key (including
   * when the id belongs to another tenant).
   */
  async revoke(tenantId: string, keyId: string, at: Date): Promise<{ key: ApiKey; revokedNow: boolean } | null> {
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id: keyId, tenantId, revokedAt: null },
      data: { revokedAt: at },
    });
    const key = await this.prisma.apiKey.findFirst({ where: { id: keyId, tenantId } });
    return key === null ? null : { key, revokedNow: count > 0 };
  }

  /**
   * For authentication only: the key with this public prefix, with its tenant
   * and the tenant's quota overrides, in one query (a join), since nearly every
   * request needs the tenant's policy next.
   */
  findByPrefix(prefix: string): Promise<(ApiKey & { tenant: Tenant & { quota: TenantQuota | null } }) | null> {
    return this.prisma.apiKey.findUnique({ where: { prefix }, include: { tenant: { include: { quota: true } } }, relationLoadStrategy: 'join' });
  }

  /** Best effort, for the keys list; never blocks authentication. */
  async touchLastUsed(keyId: string, at: Date): Promise<void> {
    await this.prisma.apiKey.update({ where: { id: keyId }, data: { lastUsedAt: at } });
  }
}
