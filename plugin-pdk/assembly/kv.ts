import { JSON } from "assemblyscript-json/assembly";
import { kv_delete, kv_get, kv_set } from "./env";
import { readJson, writeJson } from "./json-text";
import { bytesToString, stringToBlock, takeBlock, toBlock } from "./memory";

/**
 * A key-value store of this tenant's plugin, kept by Airlock across calls.
 * Keys and values are capped by the tenant's tier; other plugins and tenants never see it.
 */
export class Kv {
  static get(key: string): Uint8Array | null {
    const block = kv_get(stringToBlock(key));
    return block == 0 ? null : takeBlock(block);
  }

  static getString(key: string): string | null {
    const value = Kv.get(key);
    return value === null ? null : bytesToString(value);
  }

  /** The value parsed as JSON; aborts the call, saying where, if it is not JSON (see readJson). */
  static getJson(key: string): JSON.Value | null {
    const value = Kv.get(key);
    return value === null ? null : readJson(value, "the stored value of " + key);
  }

  static set(key: string, value: Uint8Array): void {
    kv_set(stringToBlock(key), toBlock(value));
  }

  static setString(key: string, value: string): void {
    Kv.set(key, Uint8Array.wrap(String.UTF8.encode(value)));
  }

  static setJson(key: string, value: JSON.Value): void {
    Kv.setString(key, writeJson(value));
  }

  static delete(key: string): void {
    kv_delete(stringToBlock(key));
  }
}
