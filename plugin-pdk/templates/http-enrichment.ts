// HTTP enrichment: looks a customer up on an allowed host and merges the answer.
// Config "lookupUrl" (e.g. https://crm.example.com/customers/), input {"customerId": "c-1"}.
// The tenant's policy must allow the host; anything else ends the call as http_refused.
import { Config, Host, Http, JSON, Log } from "@airlock/plugin-pdk";

export function enrich(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the input must be a JSON object");
  const event = <JSON.Obj>input;
  const customerId = event.getString("customerId");
  const base = Config.get("lookupUrl");
  if (customerId === null || base === null) return Host.fail("needs input customerId and config lookupUrl");
  const response = Http.get(base + customerId.valueOf());
  Log.info("lookup answered " + response.status.toString());
  if (response.status != 200) return Host.fail("lookup failed with status " + response.status.toString());
  event.set("customer", response.json());
  Host.outputJson(event);
  return 0;
}
