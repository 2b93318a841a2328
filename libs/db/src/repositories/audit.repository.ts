import type { AuditEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';

export interface AuditEntry {
  tenantId: string | null;
  actor: string;
  action: string;
  target?: string | undefined;
  details?: Prisma.InputJsonValue | undefined;
}

/** The audit log: appended to, never changed. */
export class AuditRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.prisma.auditEvent.create({
      data: { tenantId: entry.tenantId, actor: entry.actor, action: entry.action, target: entry.target ?? null, details: entry.details ?? {} },
    });
  }

  /** Newest first; `tenantId` null means every tenant (admins only). */
  list(tenantId: string | null, page: { limit: number; before?: Date | undefined }): Promise<AuditEvent[]> {
    return this.prisma.auditEvent.findMany({
      where: { ...(tenantId === null ? {} : { tenantId }), ...(page.before ? { createdAt: { lt: page.before } } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.limit,
    });
  }
}
