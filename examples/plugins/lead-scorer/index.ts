// lead.created -> a score from 0 to 100 and a grade.
// Input: {"email": "ana@acme.io", "employees": 250, "source": "referral", "pageViews": 12}
// Output: {"score", "grade": "A" | "B" | "C", "signals": [...]}
import { Host, JSON } from "@airlock/plugin-pdk";

const FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"];

export function score(): i32 {
  const input = Host.inputJson();
  if (!input.isObj) return Host.fail("the lead must be a JSON object");
  const lead = <JSON.Obj>input;
  const signals = new JSON.Arr();
  let points: i64 = 0;

  const email = lead.getString("email");
  if (email !== null && email.valueOf().includes("@")) {
    const domain = email.valueOf().split("@")[1].toLowerCase();
    if (!FREE_MAIL.includes(domain)) {
      points += 25;
      signals.push(JSON.from("company email"));
    }
  }
  const employees = lead.getInteger("employees");
  if (employees !== null && employees.valueOf() >= 100) {
    points += 30;
    signals.push(JSON.from("100+ employees"));
  }
  const source = lead.getString("source");
  if (source !== null && source.valueOf() == "referral") {
    points += 20;
    signals.push(JSON.from("referral"));
  }
  const views = lead.getInteger("pageViews");
  if (views !== null && views.valueOf() > 0) {
    const fromViews = views.valueOf() > 25 ? 25 : views.valueOf();
    points += fromViews;
    signals.push(JSON.from(fromViews.toString() + " points from page views"));
  }
  const out = new JSON.Obj();
  out.set<i64>("score", points);
  out.set("grade", points >= 70 ? "A" : points >= 40 ? "B" : "C");
  out.set("signals", signals);
  Host.outputJson(out);
  return 0;
}
