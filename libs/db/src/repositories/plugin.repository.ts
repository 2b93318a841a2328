import { randomUUID } from 'node:crypto';
import type { Plugin, PrismaClient } from '../generated/prisma/client.js';
import { createdAfter, type ListPage } from './list-position.js';
import { insertInTurn, takeTurn } from './tenant-turns.js';

/** A tenant's plugins. Every method takes the tenant: another tenant's plugin is simply not found. */
export class PluginRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Creates a live plugin unless the tenant has a live one of that name or
   * `maxLive` live ones already; null when refused. A tenant's creations take
   * turns (`insertInTurn`), so concurrent requests can neither share a name nor
   * pass the limit.
   */
  async createWithin(tenantId: string, plugin: { name: string; description?: string | undefined }, maxLive: number): Promise<Plugin | null> {
    const id = randomUUID();
    const inserted = await insertInTurn(
      this.prisma,
      'plugins',
      tenantId,
      this.prisma.$queryRaw`
        INSERT INTO plugins (id, tenant_id, name, description)
        SELECT ${id}::uuid, ${tenantId}::uuid, ${plugin.name}, ${plugin.description ?? null}::varchar
         WHERE NOT EXISTS (SELECT 1 FROM plugins WHERE tenant_id = ${tenantId}::uuid AND name = ${plugin.name} AND deleted_at IS NULL)
           AND (SELECT count(*) FROM plugins WHERE tenant_id = ${tenantId}::uuid AND deleted_at IS NULL) < ${maxLive}
        RETURNING id`,
    );
    return !inserted ? null : this.prisma.plugin.findUniqueOrThrow({ where: { id } });
  }

  findById(tenantId: string, id: string): Promise<Plugin | null> {
    return this.prisma.plugin.findFirst({ where: { id, tenantId } });
  }

  findLiveByName(tenantId: string, name: string): Promise<Plugin | null> {
    return this.prisma.plugin.findFirst({ where: { tenantId, name, deletedAt: null } });
  }

  /** Oldest first. */
  list(tenantId: string, includeDeleted: boolean, page: ListPage): Promise<Plugin[]> {
    return this.prisma.plugin.findMany({
      where: { tenantId, ...(includeDeleted ? {} : { deletedAt: null }), ...createdAfter(page.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
    });
  }

  /**
   * Soft-deletes the plugin and removes its bindings, in one transaction taken
   * in turn with the tenant's binding creations, so none is made for it
   * meanwhile. Unless `force`, refused (with their count) while any binding is
   * enabled.
   */
  /**
   * Deletes a plugin (softly), in the tenant's bindings turn. `deleted` is
   * false when another request deleted it first: it keeps that deletion's time.
   */
  softDelete(tenantId: string, id: string, at: Date, force: boolean): Promise<{ plugin: Plugin; deleted: boolean } | { enabledBindings: number }> {
    return this.prisma.$transaction(async (tx) => {
      await takeTurn(tx, 'bindings', tenantId);
      const current = await tx.plugin.findUniqueOrThrow({ where: { id, tenantId } });
      if (current.deletedAt !== null) return { plugin: current, deleted: false };
      const enabledBindings = await tx.binding.count({ where: { tenantId, pluginId: id, enabled: true } });
      if (enabledBindings > 0 && !force) return { enabledBindings };
      await tx.binding.deleteMany({ where: { tenantId, pluginId: id } });
      return { plugin: await tx.plugin.update({ where: { id, tenantId }, data: { deletedAt: at } }), deleted: true };
    });
  }
}
