import { JSON } from "assemblyscript-json/assembly";
import { http_request, http_status_code } from "./env";
import { readJson, writeJson } from "./json-text";
import { bytesToString, stringToBlock, takeBlock, toBlock } from "./memory";

/** An HTTP request; only hosts the tenant's policy allows can be reached. */
export class HttpRequest {
  method: string = "GET";
  headers: Map<string, string> = new Map<string, string>();

  constructor(public url: string) {}

  withMethod(method: string): HttpRequest {
    this.method = method;
    return this;
  }

  withHeader(name: string, value: string): HttpRequest {
    this.headers.set(name, value);
    return this;
  }
}

export class HttpResponse {
  constructor(
    public status: i32,
    public body: Uint8Array,
  ) {}

  bodyString(): string {
    return bytesToString(this.body);
  }

  /** The body parsed as JSON; aborts the call, saying where, if it is not JSON (see readJson). */
  json(): JSON.Value {
    return readJson(this.body, "the response body");
  }
}

/** Outgoing HTTP, through the host. A refused request ends the call (`http_refused`). */
export class Http {
  static request(request: HttpRequest, body: Uint8Array | null = null): HttpResponse {
    const encoded = new JSON.Obj();
    encoded.set("url", request.url);
    encoded.set("method", request.method);
    const headers = new JSON.Obj();
    const names = request.headers.keys();
    for (let i = 0; i < names.length; i++) headers.set(names[i], request.headers.get(names[i]));
    encoded.set("headers", headers);
    const responseBlock = http_request(stringToBlock(writeJson(encoded)), body === null ? 0 : toBlock(body));
    return new HttpResponse(http_status_code(), takeBlock(responseBlock));
  }

  static get(url: string): HttpResponse {
    return Http.request(new HttpRequest(url));
  }

  /** POSTs `json` with Content-Type application/json. */
  static postJson(url: string, json: JSON.Value): HttpResponse {
    const request = new HttpRequest(url).withMethod("POST").withHeader("content-type", "application/json");
    return Http.request(request, Uint8Array.wrap(String.UTF8.encode(writeJson(json))));
  }
}
