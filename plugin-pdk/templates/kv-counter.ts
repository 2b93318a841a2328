// KV counter: counts calls per key in the plugin's key-value store.
// Input: the key (e.g. a customer id). Output: {"key": "...", "count": n}
import { Host, JSON, Kv } from "@airlock/plugin-pdk";

export function count(): i32 {
  const key = "count:" + Host.inputString();
  const stored = Kv.getString(key);
  const next = (stored === null ? 0 : I64.parseInt(stored)) + 1;
  Kv.setString(key, next.toString());
  const out = new JSON.Obj();
  out.set("key", key);
  out.set("count", next);
  Host.outputJson(out);
  return 0;
}
