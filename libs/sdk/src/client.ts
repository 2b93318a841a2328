import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { atMostOne, optionalBytes, optionalJson, optionalNonNegative, optionalString, optionalWholeNumber, requireObject, requireText } from './arguments.js';
import { AirlockError } from './errors.js';
import { Http, type HttpOptions, isTransient, sleep } from './http.js';
import type { AcceptedEvent, Event, Invocation, InvocationFilter, Invoke, NewEvent, Page } from './types.js';

/** The longest `wait` of a direct call Airlock takes (milliseconds). */
const MAX_WAIT_MS = 30_000;

const FINISHED = (status: string) => status !== 'queued' && status !== 'running';
const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export type AirlockClientOptions = HttpOptions;

/** Per call: `signal` cancels it (the promise rejects with the signal's reason). */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** How long to wait in all, in milliseconds (default 30 s); then an AirlockError `timeout`. */
  timeoutMs?: number;
}

/** A stream that closed without a word is opened again after this long, doubling up to 5 s while it keeps happening. */
const FIRST_REOPEN_DELAY_MS = 250;

/**
 * Airlock for a host app, as one tenant: report what happens, and get the
 * results of the plugins bound to it.
 *
 * ```ts
 * const airlock = new AirlockClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.AIRLOCK_KEY! });
 * const event = await airlock.sendEvent({ type: 'order.created', payload: order, idempotencyKey: order.id });
 * const results = await airlock.waitForResults(event.eventId, { timeoutMs: 5000 });
 * ```
 */
export class AirlockClient {
  private readonly http: Http;
  private readonly timeoutMs: number;

  constructor(options: AirlockClientOptions) {
    this.http = new Http(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Reports an event: one invocation is queued per enabled binding of its type.
   * With an `idempotencyKey` it is retried after a 429, a 503 or a lost answer
   * (Airlock returns the first event for the same key); without one it is sent
   * once, so that it is never recorded twice.
   */
  async sendEvent(event: NewEvent, options: CallOptions = {}): Promise<AcceptedEvent> {
    requireObject(event, 'event');
    requireText(event.type, 'event.type');
    atMostOne({ 'event.payload': event.payload, 'event.payloadBytes': event.payloadBytes });
    optionalBytes(event.payloadBytes, 'event.payloadBytes');
    optionalJson(event.payload, 'event.payload');
    if (event.idempotencyKey !== undefined) requireText(event.idempotencyKey, 'event.idempotencyKey');
    const body = {
      type: event.type,
      ...(event.payloadBytes !== undefined ? { payloadBase64: base64(event.payloadBytes) } : event.payload === undefined ? {} : { payload: event.payload }),
      ...(event.idempotencyKey === undefined ? {} : { idempotencyKey: event.idempotencyKey }),
    };
    return this.http.json<AcceptedEvent>({ method: 'POST', path: '/v1/events', body, repeatable: event.idempotencyKey !== undefined, ...options });
  }

  async getEvent(eventId: string, options: CallOptions = {}): Promise<Event> {
    requireText(eventId, 'eventId');
    return this.http.json<Event>({ method: 'GET', path: `/v1/events/${encodeURIComponent(eventId)}`, repeatable: true, ...options });
  }

  /**
   * The event's invocations once every one has finished, reported to
   * `onResult` as each finishes (Server-Sent Events, opened again when Airlock
   * or the network ends it early). An AirlockError `timeout` after `timeoutMs`
   * carries what had finished in `details.received`.
   */
  async waitForResults(eventId: string, options: WaitOptions & { onResult?: (invocation: Invocation) => void } = {}): Promise<Invocation[]> {
    requireText(eventId, 'eventId');
    const results = new Map<string, Invocation>();
    const path = `/v1/events/${encodeURIComponent(eventId)}/stream`;
    await this.follow(path, options, `The results of event ${eventId}`, () => ({ received: [...results.values()] }), (message) => {
      if (message.event === 'gone') throw new AirlockError(404, 'not_found', `Event ${eventId} was deleted (retention).`);
      if (message.event !== 'invocation') return;
      const invocation = eventData<Invocation>(message, path);
      if (!results.has(invocation.id)) options.onResult?.(invocation);
      results.set(invocation.id, invocation);
    });
    return [...results.values()];
  }

  /**
   * Calls one plugin directly. The answer is the invocation: finished when
   * `wait` was given and it finished in time, else `queued` or `running`
   * (follow it with `waitForInvocation`). Sent once: a failure is the caller's to handle.
   */
  async invoke(pluginId: string, call: Invoke, options: CallOptions = {}): Promise<Invocation> {
    requireText(pluginId, 'pluginId');
    requireObject(call, 'call');
    requireText(call.export, 'call.export');
    atMostOne({ 'call.input': call.input, 'call.inputBytes': call.inputBytes });
    optionalBytes(call.inputBytes, 'call.inputBytes');
    optionalString(call.input, 'call.input');
    optionalWholeNumber(call.wait, 'call.wait', MAX_WAIT_MS);
    const { inputBytes, ...rest } = call;
    const body = inputBytes === undefined ? rest : { ...rest, inputBase64: base64(inputBytes) };
    // The server may hold the answer for `wait`: the client's time limit starts after it.
    return this.http.json<Invocation>({ method: 'POST', path: `/v1/plugins/${encodeURIComponent(pluginId)}/invoke`, body, repeatable: false, timeoutMs: (call.wait ?? 0) + this.timeoutMs, ...options });
  }

  async getInvocation(invocationId: string, options: CallOptions = {}): Promise<Invocation> {
    requireText(invocationId, 'invocationId');
    return this.http.json<Invocation>({ method: 'GET', path: `/v1/invocations/${encodeURIComponent(invocationId)}`, repeatable: true, ...options });
  }

  /** The invocation once it has finished (Server-Sent Events), or an AirlockError `timeout` carrying its last state. */
  async waitForInvocation(invocationId: string, options: WaitOptions = {}): Promise<Invocation> {
    requireText(invocationId, 'invocationId');
    let last: Invocation | undefined;
    const path = `/v1/invocations/${encodeURIComponent(invocationId)}/stream`;
    await this.follow(path, options, `Invocation ${invocationId}`, () => ({ last }), (message) => {
      if (message.event === 'gone') throw new AirlockError(404, 'not_found', `Invocation ${invocationId} was deleted (retention).`);
      if (message.event === 'status') last = eventData<Invocation>(message, path);
    });
    if (last === undefined || !FINISHED(last.status)) throw new AirlockError(0, 'unexpected_response', `The stream of invocation ${invocationId} ended without its result.`);
    return last;
  }

  /** Every invocation matching `filter`, pages fetched as the loop goes. */
  async *invocations(filter: InvocationFilter = {}, options: CallOptions = {}): AsyncGenerator<Invocation> {
    let cursor: string | undefined;
    do {
      const page: Page<Invocation> = await this.http.json<Page<Invocation>>({
        method: 'GET',
        path: '/v1/invocations',
        query: { ...filter, cursor },
        repeatable: true,
        ...options,
      });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Reads a Server-Sent Events stream until `done`, opening it again when
   * Airlock ends it (`timeout`), when it breaks off, or when opening it fails
   * for a passing reason (a restart: no answer, 503, 429), backing off while
   * that goes on; within `timeoutMs`, else an AirlockError `timeout` (`what`
   * did not finish; `progress` says how far it got).
   */
  private async follow(path: string, options: WaitOptions, what: string, progress: () => unknown, onMessage: (message: EventSourceMessage) => void): Promise<void> {
    optionalNonNegative(options.timeoutMs, 'timeoutMs');
    const timeoutMs = options.timeoutMs ?? 30_000;
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort(new AirlockError(0, 'timeout', `${what} did not finish within ${timeoutMs} ms.`, progress())), timeoutMs);
    const cancel = () => wait.abort(options.signal!.reason);
    if (options.signal?.aborted) cancel();
    else options.signal?.addEventListener('abort', cancel, { once: true });
    let reopenDelay = 0;
    try {
      for (;;) {
        let ended: Awaited<ReturnType<AirlockClient['readStream']>>;
        try {
          ended = await this.readStream(path, wait.signal, onMessage);
        } catch (error) {
          if (wait.signal.aborted || !(error instanceof AirlockError) || !isTransient(error)) throw error;
          ended = { how: 'broken', heard: false };
        }
        if (ended.how === 'done') return;
        // Airlock's own `timeout` is a normal end: open again at once. A stream that broke off, or could not be
        // opened, waits a little, longer each time it happens again without a word in between.
        if (ended.how === 'broken') {
          reopenDelay = ended.heard || reopenDelay === 0 ? FIRST_REOPEN_DELAY_MS : Math.min(reopenDelay * 2, 5_000);
          await sleep(reopenDelay, wait.signal);
        }
      }
    } catch (error) {
      throw wait.signal.aborted ? wait.signal.reason : error;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', cancel);
    }
  }

  /** One stream, until `done`, Airlock's `timeout`, or the connection breaks off (`heard`: something came first). */
  private async readStream(path: string, signal: AbortSignal, onMessage: (message: EventSourceMessage) => void): Promise<{ how: 'done' | 'reopen' | 'broken'; heard: boolean }> {
    // Its own controller, following the wait's: aborted when this stream is done with, whatever the wait does next.
    signal.throwIfAborted();
    const stop = new AbortController();
    const follow = () => stop.abort(signal.reason);
    signal.addEventListener('abort', follow, { once: true });
    let response: Response;
    try {
      response = await this.http.open(path, stop.signal);
    } catch (error) {
      signal.removeEventListener('abort', follow);
      throw error;
    }
    let ended: 'done' | 'reopen' | undefined;
    let heard = false;
    let failure: unknown;
    const parser = createParser({
      onEvent: (message) => {
        if (ended !== undefined || failure !== undefined) return;
        heard = true;
        try {
          if (message.event === 'done') ended = 'done';
          else if (message.event === 'timeout') ended = 'reopen';
          else if (message.event === 'unauthenticated') throw new AirlockError(401, 'unauthenticated', 'The API key was revoked while waiting.');
          else onMessage(message);
        } catch (error) {
          failure = error;
        }
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        if (failure !== undefined) throw failure;
        if (ended !== undefined) return { how: ended, heard };
      }
    } catch (error) {
      // Cut off mid-way (Airlock restarting, a proxy, the network): open it again, unless the wait is over.
      if (failure !== undefined || signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', follow);
      stop.abort();
    }
    return { how: 'broken', heard };
  }
}

/** An event's JSON data; data that is not JSON did not come from Airlock as it is (a proxy between changed it). */
function eventData<T>(message: EventSourceMessage, path: string): T {
  try {
    return JSON.parse(message.data) as T;
  } catch {
    throw new AirlockError(0, 'unexpected_response', `Expected JSON in the ${message.event ?? 'message'} event of ${path}, got: ${message.data.slice(0, 200)}`);
  }
}
