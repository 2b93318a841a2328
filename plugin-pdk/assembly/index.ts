// Airlock's plugin kit for AssemblyScript. A plugin exports functions that take
// no arguments and return 0 (success) or 1 (failure, see Host.fail):
//
//   import { Host } from "@airlock/plugin-pdk";
//   export function greet(): i32 {
//     Host.outputString("hello, " + Host.inputString());
//     return 0;
//   }
import { error_set } from "./env";
import { stringToBlock } from "./memory";

export { JSON } from "assemblyscript-json/assembly";
export { Config } from "./config";
export { Host } from "./host";
export { Http, HttpRequest, HttpResponse } from "./http";
export { parseJson, stringifyJson } from "./json-text";
export { Kv } from "./kv";
export { Log, LogLevel } from "./log";
export { Var } from "./var";

/**
 * Where AssemblyScript's `abort` goes (the build passes `--use abort=...`):
 * the message becomes the call's error, then the call traps.
 */
export function airlockAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = (message === null ? "abort" : message) + (fileName === null ? "" : " at " + fileName + ":" + line.toString() + ":" + column.toString());
  error_set(stringToBlock(text));
  unreachable();
}
