export interface HttpResult<Body = any> {
  status: number;
  headers: Headers;
  body: Body;
  text: string;
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
  /** Sent as is, with this content type, instead of JSON. */
  rawBody?: { data: string | Uint8Array; contentType: string };
  headers?: Record<string, string>;
}

/** A thin fetch wrapper: JSON in, JSON (or text) out, every status returned, never thrown. */
export class HttpClient {
  constructor(readonly baseUrl: string) {}

  get(path: string, options: RequestOptions = {}): Promise<HttpResult> {
    return this.request('GET', path, options);
  }

  post(path: string, options: RequestOptions = {}): Promise<HttpResult> {
    return this.request('POST', path, options);
  }

  delete(path: string, options: RequestOptions = {}): Promise<HttpResult> {
    return this.request('DELETE', path, options);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Uint8Array | undefined;
    if (options.rawBody !== undefined) {
      headers['content-type'] = options.rawBody.contentType;
      body = options.rawBody.data;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body as BodyInit | undefined });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }
}
