import type { PrismaClient } from '../generated/prisma/client.js';

/** Plugins' key-value data, per tenant and plugin. */
export class PluginKvRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async get(tenantId: string, pluginId: string, key: string): Promise<Uint8Array | null> {
    const entry = await this.prisma.pluginKvEntry.findUnique({ where: { tenantId_pluginId_key: { tenantId, pluginId, key } } });
    return entry?.value ?? null;
  }

  async set(tenantId: string, pluginId: string, key: string, value: Uint8Array): Promise<void> {
    const id = { tenantId, pluginId, key };
    const bytes = value as Uint8Array<ArrayBuffer>;
    await this.prisma.pluginKvEntry.upsert({ where: { tenantId_pluginId_key: id }, create: { ...id, value: bytes }, update: { value: bytes } });
  }

  async delete(tenantId: string, pluginId: string, key: string): Promise<void> {
    await this.prisma.pluginKvEntry.deleteMany({ where: { tenantId, pluginId, key } });
  }
}
