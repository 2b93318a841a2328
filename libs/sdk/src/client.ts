import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AirlockError } from './errors.js';
import { Http, type HttpOptions } from './http.js';
import type { AcceptedEvent, Event, Invocation, InvocationFilter, Invoke, NewEvent, Page } from './types.js';

const FINISHED = (status: string) => status !== 'queued' && status !== 'running';
const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

export type AirlockClientOptions = HttpOptions;

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

  constructor(options: AirlockClientOptions) {
    this.http = new Http(options);
  }

  /**
   * Reports an event: one invocation is queued per enabled binding of its type.
   * With an `idempotencyKey` it is retried after a 429, a 503 or a lost answer
   * (Airlock returns the first event for the same key); without one it is sent
   * once, so that it is never recorded twice.
   */
  sendEvent(event: NewEvent): Promise<AcceptedEvent> {
    const body = {
      type: event.type,
      ...(event.payloadBytes === undefined ? { payload: event.payload ?? null } : { payloadBase64: base64(event.payloadBytes) }),
      ...(event.idempotencyKey === undefined ? {} : { idempotencyKey: event.idempotencyKey }),
    };
    return this.http.json<AcceptedEvent>({ method: 'POST', path: '/v1/events', body, repeatable: event.idempotencyKey !== undefined });
  }

  getEvent(eventId: string): Promise<Event> {
    return this.http.json<Event>({ method: 'GET', path: `/v1/events/${encodeURIComponent(eventId)}`, repeatable: true });
  }

  /**
   * The event's invocations once every one has finished, as they finish
   * (Server-Sent Events; reconnects when Airlock ends a long stream). Throws
   * an AirlockError `timeout` after `timeoutMs` (default 30 s).
   */
  async waitForResults(eventId: string, options: { timeoutMs?: number; onResult?: (invocation: Invocation) => void } = {}): Promise<Invocation[]> {
    const deadline = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const results = new Map<string, Invocation>();
    for (;;) {
      let ended: 'done' | 'reconnect';
      try {
        ended = await this.follow(`/v1/events/${encodeURIComponent(eventId)}/stream`, deadline, (message) => {
          if (message.event !== 'invocation') return;
          const invocation = JSON.parse(message.data) as Invocation;
          if (!results.has(invocation.id)) options.onResult?.(invocation);
          results.set(invocation.id, invocation);
        });
      } catch (error) {
        if (deadline.aborted) throw new AirlockError(0, 'timeout', `The results of event ${eventId} did not all come within the time allowed (${results.size} did).`, { received: [...results.values()] });
        throw error;
      }
      if (ended === 'done') return [...results.values()];
    }
  }

  /** Calls one plugin directly; with `wait`, the answer carries the finished invocation if it finished in time. */
  invoke(pluginId: string, call: Invoke): Promise<Invocation | { id: string; status: 'queued' | 'running' }> {
    const { inputBytes, ...rest } = call;
    const body = inputBytes === undefined ? rest : { ...rest, inputBase64: base64(inputBytes) };
    return this.http.json({ method: 'POST', path: `/v1/plugins/${encodeURIComponent(pluginId)}/invoke`, body, repeatable: false, timeoutMs: (call.wait ?? 0) + 30_000 });
  }

  getInvocation(invocationId: string): Promise<Invocation> {
    return this.http.json<Invocation>({ method: 'GET', path: `/v1/invocations/${encodeURIComponent(invocationId)}`, repeatable: true });
  }

  /** The invocation once it has finished (Server-Sent Events), or an AirlockError `timeout`. */
  async waitForInvocation(invocationId: string, options: { timeoutMs?: number } = {}): Promise<Invocation> {
    const deadline = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    let last: Invocation | undefined;
    for (;;) {
      try {
        const ended = await this.follow(`/v1/invocations/${encodeURIComponent(invocationId)}/stream`, deadline, (message) => {
          if (message.event === 'gone') throw new AirlockError(404, 'not_found', `Invocation ${invocationId} was deleted (retention).`);
          if (message.event === 'status') last = JSON.parse(message.data) as Invocation;
        });
        if (ended === 'done' && last !== undefined && FINISHED(last.status)) return last;
      } catch (error) {
        if (deadline.aborted) throw new AirlockError(0, 'timeout', `Invocation ${invocationId} did not finish within the time allowed.`, { last });
        throw error;
      }
    }
  }

  /** Every invocation matching `filter`, newest pages fetched as the loop goes. */
  async *invocations(filter: InvocationFilter = {}): AsyncGenerator<Invocation> {
    let cursor: string | undefined;
    do {
      const page: Page<Invocation> = await this.http.json<Page<Invocation>>({
        method: 'GET',
        path: '/v1/invocations',
        query: { ...filter, cursor },
        repeatable: true,
      });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Reads a Server-Sent Events stream until `done` (or until Airlock ends it
   * with `timeout`: `reconnect`). `unauthenticated` (the key was revoked) is an
   * AirlockError 401.
   */
  private async follow(path: string, deadline: AbortSignal, onMessage: (message: EventSourceMessage) => void): Promise<'done' | 'reconnect'> {
    const stop = new AbortController();
    const signal = AbortSignal.any([deadline, stop.signal]);
    const response = await this.http.open(path, signal);
    let ended: 'done' | 'reconnect' | undefined;
    let failure: unknown;
    const parser = createParser({
      onEvent: (message) => {
        if (ended !== undefined || failure !== undefined) return;
        try {
          if (message.event === 'done') ended = 'done';
          else if (message.event === 'timeout') ended = 'reconnect';
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
        if (ended !== undefined) return ended;
      }
    } finally {
      stop.abort();
    }
    // The connection closed without a word (a proxy, a restart): open it again.
    return 'reconnect';
  }
}
