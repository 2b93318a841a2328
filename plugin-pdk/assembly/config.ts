import { config_get } from "./env";
import { bytesToString, stringToBlock, takeBlock } from "./memory";

/** The read-only configuration of the binding that runs the plugin. */
export class Config {
  /** The value of `key`, or null when the binding does not set it. */
  static get(key: string): string | null {
    const block = config_get(stringToBlock(key));
    return block == 0 ? null : bytesToString(takeBlock(block));
  }

  /** The value of `key`, or `fallback`. */
  static getOr(key: string, fallback: string): string {
    const value = Config.get(key);
    return value === null ? fallback : value;
  }
}
