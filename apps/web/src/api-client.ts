import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** An error answer of the API: `{"error": {code, message, details?}, requestId}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** From `Retry-After` (429, 503): how long to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** How a stream ended: Airlock's `timeout` (with where to open it again, when it says) or the stream closed. */
export type StreamEnd = { end: 'timeout'; since?: string } | { end: 'closed' };

/** The tenant API key lives for the tab only (sessionStorage): closing it signs out. */
const KEY_ITEM = 'airlock.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
}

/** Calls the API as one tenant, with its key as a bearer token (no cookies: nothing another site can ride). */
export class ApiClient {
  /** `onUnauthorized`: the key stopped working (revoked meanwhile); the caller signs out. */
  constructor(
    private readonly key: string,
    private readonly onUnauthorized?: () => void,
  ) {}

  /** The same key, signing out when it stops working. */
  withSignOut(onUnauthorized: () => void): ApiClient {
    return new ApiClient(this.key, onUnauthorized);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** Every page of a list route, in its order, `pageSize` at a time (at most what the route takes). */
  async all<T>(path: string, pageSize = 200): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: { items: T[]; nextCursor: string | null } = await this.get(`${path}${separator}limit=${pageSize}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }

  /** Deletes; what the answer carries is not needed. */
  async delete(path: string): Promise<void> {
    await this.request<unknown>('DELETE', path);
  }

  /** Sends bytes as they are (a module upload: `application/wasm`). */
  postBytes<T>(path: string, bytes: Blob, contentType: string): Promise<T> {
    return this.request<T>('POST', path, bytes, contentType);
  }

  /**
   * Reads a Server-Sent Events stream until `signal` aborts it or Airlock
   * ends it; resolves with how it ended (`timeout`: open it again, from its
   * `since`). A refusal is an ApiError in the API's words, as for any request;
   * a key revoked meanwhile (`unauthenticated`) signs out like a 401.
   */
  async stream(path: string, signal: AbortSignal, onMessage: (message: EventSourceMessage) => void): Promise<StreamEnd> {
    let response: Response;
    try {
      response = await fetch(path, { headers: { authorization: `Bearer ${this.key}`, accept: 'text/event-stream' }, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw unreachable(error);
    }
    if (!response.ok || response.body === null) throw await this.errorOf(response);
    let ended: StreamEnd | undefined;
    const parser = createParser({
      onEvent: (message) => {
        if (message.event === 'timeout') ended = { end: 'timeout', ...sinceOf(message.data) };
        else if (message.event === 'unauthenticated') {
          ended = { end: 'closed' };
          this.onUnauthorized?.();
        } else onMessage(message);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (ended === undefined) {
        const { done, value } = await reader.read();
        if (done) return { end: 'closed' };
        parser.feed(value);
      }
      return ended;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = contentType;
    let response: Response;
    try {
      const sent = body === undefined ? null : body instanceof Blob ? body : JSON.stringify(body);
      response = await fetch(path, { method, headers, body: sent });
    } catch (error) {
      throw unreachable(error);
    }
    if (!response.ok) throw await this.errorOf(response);
    const text = await response.text();
    const parsed = text === '' ? undefined : parseJson(text);
    // A 2xx that is not Airlock's JSON (a proxy's page) is not an answer to build on.
    if (text !== '' && parsed === undefined) throw new ApiError(response.status, 'unexpected_response', `Expected JSON from ${path}, got ${response.headers.get('content-type') ?? 'no content type'}.`, undefined);
    return parsed as T;
  }

  /** An error answer as an ApiError in the API's words (a 401 signs out). */
  private async errorOf(response: Response): Promise<ApiError> {
    if (response.status === 401) this.onUnauthorized?.();
    const text = await response.text().catch(() => '');
    const error = (parseJson(text) as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const retryAfter = response.headers.get('retry-after');
    const retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) * 1000 : undefined;
    return new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `The API answered ${response.status}.`, error?.details, retryAfterMs);
  }
}

function unreachable(error: unknown): ApiError {
  return new ApiError(0, 'unreachable', `The API did not answer (${error instanceof Error ? error.message : String(error)}).`, undefined);
}

/** The `since` a `timeout` event carries, where the stream is to be opened again. */
function sinceOf(data: string): { since?: string } {
  const since = (parseJson(data) as { since?: unknown } | undefined)?.since;
  return typeof since === 'string' ? { since } : {};
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// An invocation and a page of a list are what the host apps' SDK describes: one description of the API's answers.
export type { Invocation, Page } from '@airlock/sdk';

export interface Plugin {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export interface Version {
  pluginId: string;
  number: number;
  exports: string[];
  permissions: string[];
  sourceLanguage: string | null;
  source?: { files: Record<string, string>; entry?: string } | null;
  /** The declared tests (a single version's answer has them; lists do not). */
  tests?: unknown[];
  status: 'draft' | 'published' | 'unpublished';
  approvalStatus: 'not_required' | 'pending' | 'approved' | 'rejected';
  createdAt: string;
}

export interface LogLine {
  level: string;
  message: string;
  atMs: number;
}

/** What the result panel shows of a test call or an invocation. */
export interface RunView {
  status: string;
  output: string | null;
  outputBase64: string | null;
  error: { message: string; kind?: string } | null;
  fuelUsed: number | null;
  memoryPeakBytes: number | null;
  durationMs: number | null;
  logs: LogLine[];
}

export interface TestResult extends RunView {
  name: string;
  passed: boolean;
  failures: string[];
}

export interface Binding {
  id: string;
  event: string;
  pluginId: string;
  version: number | 'latest';
  resolvedVersion: number | null;
  /** Why events of its type run nothing of it now; null while they run it. */
  stoppedBecause: string | null;
  export: string;
  config: Record<string, string>;
  secretNames: string[];
  enabled: boolean;
}

export interface LogEntry {
  invocationId: string;
  version: number;
  line: number;
  level: string;
  message: string;
  at: string;
}

export interface Span {
  spanId: string;
  name: string;
  startTime: string;
  durationMs: number;
  status: string;
  statusMessage: string | null;
  attributes: Record<string, unknown>;
  children: Span[];
}

export interface Trace {
  traceId: string;
  spanCount: number;
  durationMs: number;
  roots: Span[];
}

/** A compiler message, as `compile_failed` answers carry them in `details.diagnostics`. */
export type { CompileDiagnostic } from '@airlock/plugin-pdk';
