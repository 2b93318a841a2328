// comment.posted -> allow, review or block, with reasons.
// Config: blocked (comma-separated words, default "spam,scam"), maxLinks (default 3).
// Input: the text. Output: {"verdict": "allow" | "review" | "block", "reasons": [...]}
import { Config, Host, JSON } from "@airlock/plugin-pdk";

function countOf(text: string, needle: string): i32 {
  let count = 0;
  let at = text.indexOf(needle);
  while (at >= 0) {
    count++;
    at = text.indexOf(needle, at + needle.length);
  }
  return count;
}

export function moderate(): i32 {
  const text = Host.inputString();
  const lower = text.toLowerCase();
  const reasons = new JSON.Arr();
  let verdict = "allow";

  const blocked = Config.getOr("blocked", "spam,scam").split(",");
  for (let i = 0; i < blocked.length; i++) {
    const word = blocked[i].trim().toLowerCase();
    if (word.length > 0 && lower.includes(word)) {
      verdict = "block";
      reasons.push(JSON.from("contains \"" + word + "\""));
    }
  }
  const links = countOf(lower, "http://") + countOf(lower, "https://");
  const maxLinks = I32.parseInt(Config.getOr("maxLinks", "3"));
  if (links > maxLinks) {
    if (verdict == "allow") verdict = "review";
    reasons.push(JSON.from(links.toString() + " links"));
  }
  let letters = 0;
  let upper = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      letters++;
      upper++;
    } else if (c >= 97 && c <= 122) letters++;
  }
  if (letters >= 12 && upper * 10 > letters * 7) {
    if (verdict == "allow") verdict = "review";
    reasons.push(JSON.from("shouting"));
  }
  const out = new JSON.Obj();
  out.set("verdict", verdict);
  out.set("reasons", reasons);
  Host.outputJson(out);
  return 0;
}
