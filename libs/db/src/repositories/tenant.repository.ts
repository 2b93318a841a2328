import type { PrismaClient, Tenant } from '../generated/prisma/client.js';
import { createdAfter, type ListPage } from './list-position.js';

export interface NewTenant {
  name: string;
  tier: string;
}

/** Tenants, as admins manage them. */
export class TenantRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(tenant: NewTenant): Promise<Tenant> {
    return this.prisma.tenant.create({ data: tenant });
  }

  findById(id: string): Promise<Tenant | null> {
    return this.prisma.tenant.findUnique({ where: { id } });
  }

  /** Oldest first; `after` is the id of the last tenant of the previous page. */
  /** Oldest first. */
  list(page: ListPage): Promise<Tenant[]> {
    return this.prisma.tenant.findMany({ where: createdAfter(page.after), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: page.take });
  }
}
