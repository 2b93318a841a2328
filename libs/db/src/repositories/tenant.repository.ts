import type { PrismaClient, Tenant } from '../generated/prisma/client.js';

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
  list(page: { limit: number; after?: string | undefined }): Promise<Tenant[]> {
    return this.prisma.tenant.findMany({
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
      ...(page.after === undefined ? {} : { cursor: { id: page.after }, skip: 1 }),
    });
  }
}
