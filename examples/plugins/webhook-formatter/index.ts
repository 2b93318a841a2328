// Any event -> a chat message posted to a webhook on an allowed host.
// Config: webhookUrl (required), channel (default "#events").
// Input: {"type": "order.created", "id": "o-1", "summary": "3 items, 120 EUR"}
// Output: {"delivered": true|false, "status": <webhook's HTTP status>}
import { Config, Host, Http, JSON, Log } from "@airlock/plugin-pdk";

export function post(): i32 {
  const url = Config.get("webhookUrl");
  if (url === null) return Host.fail("config webhookUrl is required");
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the event must be a JSON object");
  const event = <JSON.Obj>input;
  const type = event.getString("type");
  const id = event.getString("id");
  const summary = event.getString("summary");
  const message = new JSON.Obj();
  message.set("channel", Config.getOr("channel", "#events"));
  message.set(
    "text",
    "*" + (type === null ? "event" : type.valueOf()) + "* " + (id === null ? "" : id.valueOf()) + (summary === null ? "" : ": " + summary.valueOf()),
  );
  const response = Http.postJson(url, message);
  Log.info("webhook answered " + response.status.toString());
  const out = new JSON.Obj();
  out.set("delivered", response.status >= 200 && response.status < 300);
  out.set<i64>("status", response.status);
  Host.outputJson(out);
  return 0;
}
