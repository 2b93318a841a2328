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
   * already (false then). Exact under concurrent calls of one plugin: the
   * database function adds a new key under the lock of the plugin's key count.
   */
  async set(tenantId: string, pluginId: string, key: string, value: Uint8Array, maxKeys: number): Promise<boolean> {
    const [row] = await this.prisma.$queryRaw<Array<{ written: boolean }>>`
      SELECT plugin_kv_set(${tenantId}::uuid, ${pluginId}::uuid, ${key}, ${Buffer.from(value)}, ${maxKeys}::integer) AS written`;
    return row?.written === true;
  }

  async delete(tenantId: string, pluginId: string, key: string): Promise<void> {
    await this.prisma.$queryRaw`SELECT plugin_kv_delete(${tenantId}::uuid, ${pluginId}::uuid, ${key}) AS removed`;
  }

  /** How many keys the plugin holds, as its limit counts them. */
  async countKeys(tenantId: string, pluginId: string): Promise<number> {
    const usage = await this.prisma.pluginKvUsage.findUnique({ where: { tenantId_pluginId: { tenantId, pluginId } } });
    return usage?.keys ?? 0;
  }
}
