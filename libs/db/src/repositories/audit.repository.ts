import type { AuditEvent, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { createdBefore, type ListPage } from './list-position.js';

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

  /**
   * Newest first; `tenantId` null means every tenant (admins only). `after`
   * is the last entry of the previous page: entries recorded in the same
   * millisecond are told apart by id, in the order of the listing.
   */
  list(tenantId: string | null, page: ListPage & { before?: Date | undefined }): Promise<AuditEvent[]> {
    return this.prisma.auditEvent.findMany({
      where: {
        ...(tenantId === null ? {} : { tenantId }),
        ...(page.before ? { createdAt: { lt: page.before } } : {}),
        ...createdBefore(page.after),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.take,
    });
  }
}
