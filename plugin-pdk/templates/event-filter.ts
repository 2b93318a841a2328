// Event filter: decides whether the host app should act on an event.
// Config "minTotal" (default 100). Output: {"act": true|false, "reason": "..."}
import { Config, Host, JSON } from "@airlock/plugin-pdk";

export function filter(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the input must be a JSON object");
  const total = (<JSON.Obj>input).getValue("total");
  let amount = 0.0;
  if (total !== null && total.isInteger) amount = <f64>(<JSON.Integer>total).valueOf();
  else if (total !== null && total.isFloat) amount = (<JSON.Float>total).valueOf();
  const threshold = F64.parseFloat(Config.getOr("minTotal", "100"));
  const out = new JSON.Obj();
  out.set("act", amount >= threshold);
  out.set("reason", amount >= threshold ? "total reaches " + threshold.toString() : "total below " + threshold.toString());
  Host.outputJson(out);
  return 0;
}
