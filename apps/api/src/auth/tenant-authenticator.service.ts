import { Injectable } from '@nestjs/common';
import { type ApiKey, ApiKeyRepository, type Tenant } from '@airlock/db';
import { TenantConfigCache } from '../tenant-config/tenant-config-cache.js';
import { digestsEqual, parseApiKey, sha256Hex } from './credentials.js';

export interface TenantPrincipal {
  tenant: Tenant;
  apiKey: ApiKey;
}

/** Compared against when no key matches, so unknown prefixes take as long as known ones. */
const DECOY_DIGEST = sha256Hex('decoy');
/** lastUsedAt is a hint for humans; writing it on every request would cost a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

@Injectable()
export class TenantAuthenticator {
  constructor(
    private readonly apiKeys: ApiKeyRepository,
    private readonly cache: TenantConfigCache,
  ) {}

  /** The tenant a bearer token belongs to, or null for a malformed, unknown or revoked key. */
  async authenticate(token: string): Promise<TenantPrincipal | null> {
    const parsed = parseApiKey(token);
    if (parsed === null) return null;
    // Revoking a key or changing its tenant's quota drops this entry (TenantConfigCache).
    const apiKey = await this.cache.get(`key:${parsed.prefix}`, () => this.apiKeys.findByPrefix(parsed.prefix), (found) => found?.tenantId ?? null);
    const matches = digestsEqual(sha256Hex(parsed.secret), apiKey?.secretHash ?? DECOY_DIGEST);
    if (apiKey === null || !matches || apiKey.revokedAt !== null) return null;
    const now = new Date();
    if (apiKey.lastUsedAt === null || now.getTime() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Noted on the cached copy too, so the next requests do not write it again.
      apiKey.lastUsedAt = now;
      await this.apiKeys.touchLastUsed(apiKey.id, now).catch(() => undefined);
    }
    const { tenant, ...key } = apiKey;
    return { tenant, apiKey: key };
  }

  /**
   * Whether the key a principal authenticated with still holds (not revoked,
   * not gone): for what outlasts its request, such as a stream. Read through
   * the same cache, which a revocation clears in every API process at once.
   */
  async stillValid(principal: TenantPrincipal): Promise<boolean> {
    const { prefix, id } = principal.apiKey;
    const apiKey = await this.cache.get(`key:${prefix}`, () => this.apiKeys.findByPrefix(prefix), (found) => found?.tenantId ?? null);
    return apiKey !== null && apiKey.id === id && apiKey.revokedAt === null;
  }
}
