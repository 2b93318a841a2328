// Rate counting with the key-value store: at most `limit` events per key and window.
// Config: limit (default 5). Input: {"key": "customer-42", "window": "2026-11-22T10:05"}
// (the window is the host's time bucket; plugins have no clock).
// Output: {"allowed": true|false, "count": n, "limit": n}
import { Config, Host, JSON, Kv } from "@airlock/plugin-pdk";

export function hit(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the input must be a JSON object");
  const request = <JSON.Obj>input;
  const key = request.getString("key");
  const window = request.getString("window");
  if (key === null || window === null) return Host.fail("expected key and window");
  const slot = "rate:" + key.valueOf() + ":" + window.valueOf();
  const stored = Kv.getString(slot);
  const count = (stored === null ? 0 : I64.parseInt(stored)) + 1;
  Kv.setString(slot, count.toString());
  const limit = I64.parseInt(Config.getOr("limit", "5"));
  const out = new JSON.Obj();
  out.set("allowed", count <= limit);
  out.set<i64>("count", count);
  out.set<i64>("limit", limit);
  Host.outputJson(out);
  return 0;
}
