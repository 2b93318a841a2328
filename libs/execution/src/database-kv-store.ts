import type { PluginKvRepository } from '@airlock/db';
import type { KvScope, KvStore } from '@airlock/sandbox';

/** The sandbox's key-value store, kept in the database: shared by every process, lasting across restarts. */
export class DatabaseKvStore implements KvStore {
  constructor(private readonly entries: PluginKvRepository) {}

  get(scope: KvScope, key: string): Promise<Uint8Array | null> {
    return this.entries.get(scope.tenantId, scope.pluginId, key);
  }

  set(scope: KvScope, key: string, value: Uint8Array, maxKeys: number): Promise<boolean> {
    return this.entries.set(scope.tenantId, scope.pluginId, key, value, maxKeys);
  }

  delete(scope: KvScope, key: string): Promise<void> {
    return this.entries.delete(scope.tenantId, scope.pluginId, key);
  }
}
