// Typings of @airlock/plugin-pdk for the web editor's completions (Monaco), to load
// together with AssemblyScript's std/assembly/index.d.ts. The kit itself is in ../assembly.

declare module "@airlock/plugin-pdk" {
  /** assemblyscript-json's JSON values: `new JSON.Obj()`, `JSON.Value.String(text)`; read and write text with parseJson and stringifyJson. */
  export { JSON } from "assemblyscript-json/assembly";
  import { JSON } from "assemblyscript-json/assembly";

  /** `text` parsed as JSON, strictly (RFC 8259), integers exactly; aborts the call (`trap`), saying where, if it is not JSON. Prefer it to `JSON.parse`, which accepts more than JSON. */
  export function parseJson(text: string): JSON.Value;
  /** `value` as JSON text, escaped as JSON must be (NaN and infinities as null). Prefer it to `value.stringify()`, which leaves control characters unescaped. */
  export function stringifyJson(value: JSON.Value): string;

  /** The plugin's input and output, and its error. */
  export class Host {
    /** The input, as bytes. */
    static input(): Uint8Array;
    /** The input, decoded as UTF-8. */
    static inputString(): string;
    /** The input, parsed as JSON (an event's payload is JSON), strictly, integers exactly. Aborts the call (`trap`), saying where, if it is not one JSON value. */
    static inputJson(): JSON.Value;
    /** Sets the output. */
    static output(bytes: Uint8Array): void;
    /** Sets the output to `text`, as UTF-8. */
    static outputString(text: string): void;
    /** Sets the output to `value`, serialized as JSON (stringifyJson). */
    static outputJson(value: JSON.Value): void;
    /** Reports an error: the call ends as `plugin_error` with this message. Returns 1: `return Host.fail("...")`. */
    static fail(message: string): i32;
  }

  /** The read-only configuration of the binding that runs the plugin. */
  export class Config {
    /** The value of `key`, or null when the binding does not set it. */
    static get(key: string): string | null;
    /** The value of `key`, or `fallback`. */
    static getOr(key: string, fallback: string): string;
  }

  /** Variables of the plugin instance: they last while it stays warm, not forever. For lasting data use Kv. */
  export class Var {
    static get(key: string): Uint8Array | null;
    static getString(key: string): string | null;
    static set(key: string, value: Uint8Array): void;
    static setString(key: string, value: string): void;
    static remove(key: string): void;
  }

  export enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
  }

  /** Log lines, kept with the call's result (within the tier's caps). */
  export class Log {
    /** The least severe level the host keeps. */
    static level(): LogLevel;
    static enabled(level: LogLevel): bool;
    static trace(message: string): void;
    static debug(message: string): void;
    static info(message: string): void;
    static warn(message: string): void;
    static error(message: string): void;
  }

  /** An HTTP request; only hosts the tenant's policy allows can be reached. */
  export class HttpRequest {
    url: string;
    method: string;
    headers: Map<string, string>;
    constructor(url: string);
    withMethod(method: string): HttpRequest;
    withHeader(name: string, value: string): HttpRequest;
  }

  export class HttpResponse {
    status: i32;
    body: Uint8Array;
    bodyString(): string;
    json(): JSON.Value;
  }

  /** Outgoing HTTP, through the host. A refused request ends the call (`http_refused`). */
  export class Http {
    static request(request: HttpRequest, body?: Uint8Array | null): HttpResponse;
    static get(url: string): HttpResponse;
    /** POSTs `json` with Content-Type application/json. */
    static postJson(url: string, json: JSON.Value): HttpResponse;
  }

  /** A key-value store of this tenant's plugin, kept across calls; other plugins and tenants never see it. */
  export class Kv {
    static get(key: string): Uint8Array | null;
    static getString(key: string): string | null;
    static getJson(key: string): JSON.Value | null;
    static set(key: string, value: Uint8Array): void;
    static setString(key: string, value: string): void;
    static setJson(key: string, value: JSON.Value): void;
    static delete(key: string): void;
  }

  /** Where AssemblyScript's `abort` goes: the message becomes the call's error. */
  export function airlockAbort(message: string | null, fileName: string | null, line: u32, column: u32): void;
}
