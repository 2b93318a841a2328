/** Whose key-value data a call may touch: always one tenant's one plugin. */
export interface KvScope {
  tenantId: string;
  pluginId: string;
}

/** The store behind Airlock's `kv_*` host functions. Implementations must keep scopes apart. */
export interface KvStore {
  get(scope: KvScope, key: string): Promise<Uint8Array | null>;
  set(scope: KvScope, key: string, value: Uint8Array): Promise<void>;
  delete(scope: KvScope, key: string): Promise<void>;
}

/** A KvStore in this process's memory: for a plain script, tests, and single-process use. */
export class MemoryKvStore implements KvStore {
  private readonly entries = new Map<string, Uint8Array>();

  private static id(scope: KvScope, key: string): string {
    return JSON.stringify([scope.tenantId, scope.pluginId, key]);
  }

  async get(scope: KvScope, key: string): Promise<Uint8Array | null> {
    return this.entries.get(MemoryKvStore.id(scope, key))?.slice() ?? null;
  }

  async set(scope: KvScope, key: string, value: Uint8Array): Promise<void> {
    this.entries.set(MemoryKvStore.id(scope, key), value.slice());
  }

  async delete(scope: KvScope, key: string): Promise<void> {
    this.entries.delete(MemoryKvStore.id(scope, key));
  }
}
