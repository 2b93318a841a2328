// JSON transform: reads an event payload, outputs a reshaped document.
// Input: {"id": "o-1", "customer": {"email": "a@example.com"}, "total": 120.5}
// Output: {"orderId": "o-1", "email": "a@example.com", "totalCents": 12050}
import { Host, JSON } from "@airlock/plugin-pdk";

function numberOf(value: JSON.Value | null): f64 {
  if (value === null) return NaN;
  if (value.isInteger) return <f64>(<JSON.Integer>value).valueOf();
  if (value.isFloat) return (<JSON.Float>value).valueOf();
  return NaN;
}

export function transform(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the input must be a JSON object");
  const order = <JSON.Obj>input;
  const id = order.getString("id");
  const customer = order.getObj("customer");
  let email: JSON.Str | null = null;
  if (customer !== null) email = customer.getString("email");
  const total = numberOf(order.getValue("total"));
  if (id === null) return Host.fail("expected an id");
  if (email === null) return Host.fail("expected customer.email");
  if (isNaN(total)) return Host.fail("expected a numeric total");
  const out = new JSON.Obj();
  out.set("orderId", id.valueOf());
  out.set("email", email.valueOf());
  out.set<i64>("totalCents", <i64>Math.round(total * 100));
  Host.outputJson(out);
  return 0;
}
