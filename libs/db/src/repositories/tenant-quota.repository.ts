import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/** An admin's overrides of each tenant's tier. */
export class TenantQuotaRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async overrides(tenantId: string): Promise<Record<string, unknown>> {
    const quota = await this.prisma.tenantQuota.findUnique({ where: { tenantId } });
    return (quota?.overrides as Record<string, unknown> | undefined) ?? {};
  }

  /** Sets the tier and the overrides together, in one transaction. */
  async set(tenantId: string, tier: string, overrides: Prisma.InputJsonValue): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.tenant.update({ where: { id: tenantId }, data: { tier } }),
      this.prisma.tenantQuota.upsert({ where: { tenantId }, create: { tenantId, overrides }, update: { overrides } }),
    ]);
  }
}
