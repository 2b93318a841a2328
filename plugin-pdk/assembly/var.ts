import { var_get, var_set } from "./env";
import { bytesToString, stringToBlock, takeBlock, toBlock } from "./memory";

/**
 * Variables of the plugin instance: they last while the instance stays warm
 * (several calls), not forever. For lasting data use Kv.
 */
export class Var {
  static get(key: string): Uint8Array | null {
    const block = var_get(stringToBlock(key));
    return block == 0 ? null : takeBlock(block);
  }

  static getString(key: string): string | null {
    const value = Var.get(key);
    return value === null ? null : bytesToString(value);
  }

  static set(key: string, value: Uint8Array): void {
    var_set(stringToBlock(key), toBlock(value));
  }

  static setString(key: string, value: string): void {
    Var.set(key, Uint8Array.wrap(String.UTF8.encode(value)));
  }

  static remove(key: string): void {
    var_set(stringToBlock(key), 0);
  }
}
