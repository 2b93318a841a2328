import { optionalNonNegative, requireObject, requireText } from './arguments.js';
import { AirlockError } from './errors.js';

export interface HttpOptions {
  /** Airlock's base URL, e.g. `https://airlock.internal:3000`. */
  baseUrl: string;
  /** A tenant API key (`ak_...`). */
  apiKey: string;
  /** Per request, in milliseconds (default 30 s). Waiting for results has its own. */
  timeoutMs?: number;
  /** Retries of a request that is safe to repeat, after a 429, a 503 or no answer (default 2). */
  maxRetries?: number;
  /** The longest wait between retries, in milliseconds (default 10 s); a longer `Retry-After` is not waited for. */
  maxRetryDelayMs?: number;
  /** A fetch to use instead of the global one (a proxy, instrumentation). */
  fetch?: typeof fetch;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Whether sending it twice does no harm (GETs; an event with an idempotency key). */
  repeatable: boolean;
  signal?: AbortSignal;
  /** Overrides the client's timeout (a call that waits on the server). */
  timeoutMs?: number;
}

/** Statuses worth another try: too many requests, and Airlock or its queue briefly unavailable. */
const RETRIED = new Set([429, 503]);

/** Sends requests to Airlock and turns its error answers into AirlockErrors. */
export class Http {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpOptions) {
    requireObject(options, 'options');
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError(`baseUrl must be an http(s) URL, not ${JSON.stringify(options.baseUrl)}`);
    requireText(options.apiKey, 'apiKey');
    for (const name of ['timeoutMs', 'maxRetries', 'maxRetryDelayMs'] as const) optionalNonNegative(options[name], name);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  url(path: string, query: RequestSpec['query'] = {}): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return `${this.baseUrl}${path}${text === '' ? '' : `?${text}`}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.options.apiKey}`, ...extra };
  }

  json<T>(spec: RequestSpec): Promise<T> {
    return this.retrying(spec.repeatable, spec.signal, () => this.once<T>(spec));
  }

  /**
   * Opens a Server-Sent Events stream to read as it comes (`signal` ends it, whenever it aborts).
   * Not retried here: the waits open it again themselves until their deadline.
   * An answer that is not an event stream (a proxy's page) is an AirlockError
   * `unexpected_response`.
   */
  async open(path: string, signal: AbortSignal): Promise<Response> {
    // The fetch takes `signal` itself, not a signal linked to it for the time of the request: the body is read long
    // after the answer began, and aborting `signal` must end it then too (and close the connection, freeing the stream).
    const response = await this.send(signal, () => this.fetch(this.url(path), { headers: this.headers({ accept: 'text/event-stream' }), signal }));
    if (!response.ok) throw await errorOf(response);
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel().catch(() => undefined);
      throw new AirlockError(response.status, 'unexpected_response', `Expected an event stream from ${path}, got ${response.headers.get('content-type') ?? 'no content type'}.`);
    }
    return response;
  }

  /** Runs `attempt`, again after a 429, a 503, a timeout or no answer when `repeatable`, waiting as told. */
  private async retrying<T>(repeatable: boolean, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    const maxRetries = repeatable ? (this.options.maxRetries ?? 2) : 0;
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof AirlockError) || tries >= maxRetries || signal?.aborted) throw error;
        const delay = error.retryAfterMs ?? 200 * 2 ** tries;
        if (!isTransient(error) || delay > (this.options.maxRetryDelayMs ?? 10_000)) throw error;
        await sleep(delay, signal);
      }
    }
  }

  private once<T>(spec: RequestSpec): Promise<T> {
    const timeoutMs = spec.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    return this.send(spec.signal, async (signal) => {
      const response = await this.fetch(this.url(spec.path, spec.query), {
        method: spec.method,
        headers: this.headers(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
        body: spec.body === undefined ? null : JSON.stringify(spec.body),
        signal,
      });
      if (!response.ok) throw await errorOf(response);
      const text = await response.text();
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new AirlockError(response.status, 'unexpected_response', `Expected JSON from ${spec.path}, got: ${text.slice(0, 200)}`);
      }
    }, timeoutMs);
  }

  /**
   * Runs `request` (sending and reading the answer) under the caller's
   * `signal` and an optional time limit; what fails without an answer becomes
   * an AirlockError (`timeout`, `network_error`), and the caller's own abort
   * rejects with its reason, untouched.
   */
  private async send<T>(signal: AbortSignal | undefined, request: (linked: AbortSignal) => Promise<T>, timeoutMs?: number): Promise<T> {
    const linked = new AbortController();
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => linked.abort(new AirlockError(0, 'timeout', `Airlock did not answer within ${timeoutMs} ms.`)), timeoutMs);
    const follow = () => linked.abort(signal!.reason);
    if (signal?.aborted) follow();
    else signal?.addEventListener('abort', follow, { once: true });
    try {
      return await request(linked.signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (linked.signal.aborted) throw linked.signal.reason;
      if (error instanceof AirlockError) throw error;
      throw new AirlockError(0, 'network_error', `Airlock could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', follow);
    }
  }
}

/** What may pass if tried again: too many requests, Airlock or its queue briefly away, no answer. */
export function isTransient(error: AirlockError): boolean {
  return RETRIED.has(error.status) || error.code === 'network_error' || error.code === 'timeout';
}

/** Waits `ms`, or less if `signal` aborts (then throws its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

async function errorOf(response: Response): Promise<AirlockError> {
  const text = await response.text().catch(() => '');
  let body: { error?: { code?: string; message?: string; details?: unknown }; requestId?: string } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return new AirlockError(
    response.status,
    body?.error?.code ?? 'http_error',
    body?.error?.message ?? `Airlock answered ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`,
    body?.error?.details,
    body?.requestId ?? response.headers.get('x-request-id') ?? undefined,
    retryAfterMs(response.headers.get('retry-after')),
  );
}

/** `Retry-After` as a wait in milliseconds: seconds, or an HTTP date (a proxy's way); undefined when absent or neither. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
