// order.created -> a discount. Config: minSubtotal (default 100), percent (default 10),
// vipExtraPercent (default 5, for customers of tier "vip").
// Input: {"id": "o-1", "customer": {"tier": "vip"}, "items": [{"sku": "A", "price": 40.0, "qty": 3}]}
// Output: {"orderId", "subtotalCents", "discountPercent", "discountCents", "reason"}
import { Config, Host, JSON } from "@airlock/plugin-pdk";

function numberOf(value: JSON.Value | null): f64 {
  if (value === null) return 0;
  if (value.isInteger) return <f64>(<JSON.Integer>value).valueOf();
  if (value.isFloat) return (<JSON.Float>value).valueOf();
  return 0;
}

export function apply(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the order must be a JSON object");
  const order = <JSON.Obj>input;
  const items = order.getArr("items");
  if (items === null) return Host.fail("the order has no items");
  let subtotal = 0.0;
  const list = items.valueOf();
  for (let i = 0; i < list.length; i++) {
    if (!list[i].isObj) return Host.fail("item " + i.toString() + " is not an object");
    const item = <JSON.Obj>list[i];
    subtotal += numberOf(item.getValue("price")) * numberOf(item.getValue("qty"));
  }
  const minSubtotal = F64.parseFloat(Config.getOr("minSubtotal", "100"));
  let percent = 0.0;
  let reason = "subtotal below " + minSubtotal.toString();
  if (subtotal >= minSubtotal) {
    percent = F64.parseFloat(Config.getOr("percent", "10"));
    reason = "subtotal reaches " + minSubtotal.toString();
    const customer = order.getObj("customer");
    let tier: JSON.Str | null = null;
    if (customer !== null) tier = customer.getString("tier");
    if (tier !== null && tier.valueOf() == "vip") {
      percent += F64.parseFloat(Config.getOr("vipExtraPercent", "5"));
      reason += ", vip customer";
    }
  }
  const id = order.getString("id");
  const out = new JSON.Obj();
  out.set("orderId", id === null ? "" : id.valueOf());
  out.set<i64>("subtotalCents", <i64>Math.round(subtotal * 100));
  out.set<f64>("discountPercent", percent);
  out.set<i64>("discountCents", <i64>Math.round(subtotal * percent));
  out.set("reason", reason);
  Host.outputJson(out);
  return 0;
}
