import type { Plugin, PrismaClient } from '../generated/prisma/client.js';

/** A tenant's plugins. Every method takes the tenant: another tenant's plugin is simply not found. */
export class PluginRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create(tenantId: string, plugin: { name: string; description?: string | undefined }): Promise<Plugin> {
    return this.prisma.plugin.create({ data: { tenantId, name: plugin.name, description: plugin.description ?? null } });
  }

  findById(tenantId: string, id: string): Promise<Plugin | null> {
    return this.prisma.plugin.findFirst({ where: { id, tenantId } });
  }

  findLiveByName(tenantId: string, name: string): Promise<Plugin | null> {
    return this.prisma.plugin.findFirst({ where: { tenantId, name, deletedAt: null } });
  }

  list(tenantId: string, includeDeleted: boolean): Promise<Plugin[]> {
    return this.prisma.plugin.findMany({
      where: { tenantId, ...(includeDeleted ? {} : { deletedAt: null }) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  countLive(tenantId: string): Promise<number> {
    return this.prisma.plugin.count({ where: { tenantId, deletedAt: null } });
  }

  /** Soft-deletes the plugin and removes its bindings, in one transaction. */
  async softDelete(tenantId: string, id: string, at: Date): Promise<Plugin> {
    const [, plugin] = await this.prisma.$transaction([
      this.prisma.binding.deleteMany({ where: { tenantId, pluginId: id } }),
      this.prisma.plugin.update({ where: { id, tenantId }, data: { deletedAt: at } }),
    ]);
    return plugin;
  }
}
