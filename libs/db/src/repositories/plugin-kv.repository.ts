import type { PrismaClient } from '../generated/prisma/client.js';

/** Plugins' key-value data, per tenant and plugin. */
export class PluginKvRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async get(tenantId: string, pluginId: string, key: string): Promise<Uint8Array | null> {
    const entry = await this.prisma.pluginKvEntry.findUnique({ where: { tenantId_pluginId_key: { tenantId, pluginId, key } } });
    return entry?.value ?? null;
  }

  /**
   * Stores the value, unless the key is new and the plugin holds `maxKeys` keys
   * already (false then). The count is read by the statement that writes, so
   * concurrent calls of one plugin can pass it by the few writing at that moment.
   */
  async set(tenantId: string, pluginId: string, key: string, value: Uint8Array, maxKeys: number): Promise<boolean> {
    const written = await this.prisma.$queryRaw<unknown[]>`
      INSERT INTO plugin_kv (tenant_id, plugin_id, key, value, updated_at)
      SELECT ${tenantId}::uuid, ${pluginId}::uuid, ${key}, ${Buffer.from(value)}, now()
       WHERE EXISTS (SELECT 1 FROM plugin_kv WHERE tenant_id = ${tenantId}::uuid AND plugin_id = ${pluginId}::uuid AND key = ${key})
          OR (SELECT count(*) FROM plugin_kv WHERE tenant_id = ${tenantId}::uuid AND plugin_id = ${pluginId}::uuid) < ${maxKeys}
      ON CONFLICT (tenant_id, plugin_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
      RETURNING 1 AS written`;
    return written.length > 0;
  }

  async delete(tenantId: string, pluginId: string, key: string): Promise<void> {
    await this.prisma.pluginKvEntry.deleteMany({ where: { tenantId, pluginId, key } });
  }
}
