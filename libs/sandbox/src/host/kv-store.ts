/** Whose key-value data a call may touch: always one tenant's one plugin. */
export interface KvScope {
  tenantId: string;
  pluginId: string;
}

/** The store behind Airlock's `kv_*` host functions. Implementations must keep scopes apart. */
export interface KvStore {
  get(scope: KvScope, key: string): Promise<Uint8Array | null>;
  /** Stores the value; false (storing nothing) when the key is new and the scope holds `maxKeys` keys already. */
  set(scope: KvScope, key: string, value: Uint8Array, maxKeys: number): Promise<boolean>;
  delete(scope: KvScope, key: string): Promise<void>;
}

/** A KvStore in this process's memory: for a plain script, tests, and single-process use. */
export class MemoryKvStore implements KvStore {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly keysPerScope = new Map<string, number>();

  private static id(scope: KvScope, key: string): string {
    return JSON.stringify([scope.tenantId, scope.pluginId, key]);
  }

  private static scopeId(scope: KvScope): string {
    return JSON.stringify([scope.tenantId, scope.pluginId]);
  }

  async get(scope: KvScope, key: string): Promise<Uint8Array | null> {
    return this.entries.get(MemoryKvStore.id(scope, key))?.slice() ?? null;
  }

  async set(scope: KvScope, key: string, value: Uint8Array, maxKeys: number): Promise<boolean> {
    const id = MemoryKvStore.id(scope, key);
    if (!this.entries.has(id)) {
      const held = this.keysPerScope.get(MemoryKvStore.scopeId(scope)) ?? 0;
      if (held >= maxKeys) return false;
      this.keysPerScope.set(MemoryKvStore.scopeId(scope), held + 1);
    }
    this.entries.set(id, value.slice());
    return true;
  }

  async delete(scope: KvScope, key: string): Promise<void> {
    if (!this.entries.delete(MemoryKvStore.id(scope, key))) return;
    this.keysPerScope.set(MemoryKvStore.scopeId(scope), (this.keysPerScope.get(MemoryKvStore.scopeId(scope)) ?? 1) - 1);
  }
}
