import type { Binding, Prisma, PrismaClient } from '../generated/prisma/client.js';

export interface BindingFields {
  event: string;
  pluginId: string;
  version: number | null;
  exportName: string;
  config: Prisma.InputJsonValue;
  /** Sealed by the API's SecretBox; null for none. */
  secrets: string | null;
  secretNames: string[];
  enabled: boolean;
}

/** A tenant's bindings: what runs on which event. */
export class BindingRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(tenantId: string, fields: BindingFields): Promise<Binding> {
    return this.prisma.binding.create({ data: { tenantId, ...fields } });
  }

  findById(tenantId: string, id: string): Promise<Binding | null> {
    return this.prisma.binding.findFirst({ where: { id, tenantId } });
  }

  list(tenantId: string, filter: { event?: string | undefined; pluginId?: string | undefined }): Promise<Binding[]> {
    return this.prisma.binding.findMany({
      where: { tenantId, ...(filter.event ? { event: filter.event } : {}), ...(filter.pluginId ? { pluginId: filter.pluginId } : {}) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  countEnabledForPlugin(tenantId: string, pluginId: string): Promise<number> {
    return this.prisma.binding.count({ where: { tenantId, pluginId, enabled: true } });
  }

  update(tenantId: string, id: string, fields: BindingFields): Promise<Binding> {
    return this.prisma.binding.update({ where: { id, tenantId }, data: fields });
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.binding.deleteMany({ where: { id, tenantId } });
    return count > 0;
  }
}
