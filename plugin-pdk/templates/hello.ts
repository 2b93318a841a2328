// hello: answers "hello, <input>". The smallest useful plugin.
import { Host } from "@airlock/plugin-pdk";

export function greet(): i32 {
  Host.outputString("hello, " + Host.inputString());
  return 0;
}
