import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/** An admin's overrides of each tenant's tier. */
export class TenantQuotaRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async overrides(tenantId: string): Promise<Record<string, unknown>> {
    const quota = await this.prisma.tenantQuota.findUnique({ where: { tenantId } });
    return (quota?.overrides as Record<string, unknown> | undefined) ?? {};
  }

  /**
   * Sets the overrides, and the tier when one is given, in one transaction that holds the tenant's row:
   * `check` sees the tier the overrides will apply to, and a request that names no tier never writes back
   * one it read before another request changed it (an overrides-only change racing a tier change would
   * otherwise undo it). Returns the tier the overrides now apply to, or null for an unknown tenant.
   */
  async set(
    tenantId: string,
    tier: string | undefined,
    overrides: Prisma.InputJsonValue,
    check: (tier: string) => Promise<void>,
  ): Promise<string | null> {
    return this.prisma.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<Array<{ tier: string }>>`SELECT tier FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
      if (locked === undefined) return null;
      const applied = tier ?? locked.tier;
      await check(applied);
      if (applied !== locked.tier) await tx.tenant.update({ where: { id: tenantId }, data: { tier: applied } });
      await tx.tenantQuota.upsert({ where: { tenantId }, create: { tenantId, overrides }, update: { overrides } });
      return applied;
    });
  }
}
