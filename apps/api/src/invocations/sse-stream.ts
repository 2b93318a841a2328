import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { AirlockConfig } from '@airlock/config';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { Request, Response } from 'express';
import { type TenantPrincipal, TenantAuthenticator } from '../auth/tenant-authenticator.service.js';
import { API_CONFIG } from '../infrastructure/api-dependencies.js';

const POLL_MS = 100;
const HEARTBEAT_MS = 15_000;
/** How often a stream checks that the key it was opened with still holds. */
const KEY_CHECK_MS = 1_000;

export interface StreamPoll {
  events: Array<{ event: string; data: unknown }>;
  /** Nothing more will come: the stream sends `done` and ends. */
  done: boolean;
  /** The stream ends after these events without `done` (its key was revoked). */
  closed?: boolean;
  /** What the `timeout` event tells the client to open the stream again with, besides `reconnect` (see LogFollower). */
  resume?: Record<string, unknown>;
}

/**
 * Streams Server-Sent Events while `poll` keeps returning new events, until it
 * says done, the client goes away, or `maxMs` pass; then it sends `timeout`
 * (`{"reconnect": true}`) so the client knows to open the stream again rather
 * than take the end for completion. Polling the database keeps this correct
 * whichever process finishes the work. A client that stops reading is not
 * polled for more: the next poll waits until what was written has drained.
 */
export async function streamUntilDone(request: Request, response: Response, maxMs: number, poll: () => Promise<StreamPoll>, ending?: AbortSignal): Promise<void> {
  response.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  response.flushHeaders();
  let open = true;
  // Not events.once: an aborted request also emits 'error', which would reject it.
  const closed = new Promise<void>((resolve) => request.on('close', resolve)).then(() => (open = false));
  const started = Date.now();
  const write = async (text: string) => {
    if (!open || response.write(text)) return;
    // A reader that does not catch up by the stream's end is cut off: a stream never outlasts maxMs.
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), Math.max(0, started + maxMs - Date.now()))));
    // Nor does one keep a stopping API waiting: it is cut off then too (it reconnects, and misses nothing).
    let onStop: (() => void) | undefined;
    const stopping = new Promise<'cut'>((resolve) => {
      onStop = () => resolve('cut');
      if (ending?.aborted === true) onStop();
      else ending?.addEventListener('abort', onStop, { once: true });
    });
    const outcome = await Promise.race([new Promise((resolve) => response.once('drain', resolve)), closed, cutOff, stopping]);
    clearTimeout(timer);
    ending?.removeEventListener('abort', onStop!);
    if (outcome === 'cut') {
      open = false;
      response.destroy();
    }
  };
  let lastWrite = Date.now();
  let resume: Record<string, unknown> = {};
  while (open) {
    // Its time is up, or this API is shutting down (an open stream would hold its HTTP server open): the client
    // opens it again, here after a restart or on another API process, and misses nothing.
    if (Date.now() - started >= maxMs || ending?.aborted === true) {
      await write(`event: timeout\ndata: ${JSON.stringify({ reconnect: true, afterMs: Math.min(maxMs, Date.now() - started), ...resume })}\n\n`);
      break;
    }
    const { events, done, closed, resume: resumeNow } = await poll();
    resume = resumeNow ?? resume;
    for (const { event, data } of events) await write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (events.length > 0) lastWrite = Date.now();
    if (closed === true) break;
    if (done) {
      await write('event: done\ndata: {}\n\n');
      break;
    }
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      await write(': still working\n\n');
      lastWrite = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  response.end();
}

/** When a tenant refused another stream may try again: streams end as their work finishes, within seconds for most. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * `streamUntilDone` with this API's stream length (`AIRLOCK_STREAM_MAX_MS`), for
 * the routes that stream. A stream lasts only as long as the key it was opened
 * with: once that key is revoked, it sends `unauthenticated` and ends. A tenant
 * has at most `AIRLOCK_STREAMS_PER_TENANT` streams open here at once: each polls
 * the database, and one tenant's thousands would slow every tenant's requests.
 */
@Injectable()
export class EventStreams implements BeforeApplicationShutdown {
  /** Open streams by tenant; a tenant with none has no entry. */
  private readonly open = new Map<string, number>();
  /** Aborted as the API shuts down: every open stream ends, telling its client to reconnect. */
  private readonly shuttingDown = new AbortController();

  constructor(
    @Inject(API_CONFIG) private readonly config: AirlockConfig,
    private readonly authenticator: TenantAuthenticator,
  ) {}

  beforeApplicationShutdown(): void {
    this.shuttingDown.abort();
  }

  async follow(principal: TenantPrincipal, request: Request, response: Response, poll: () => Promise<StreamPoll>): Promise<void> {
    // A client that left while the route looked up what it follows has come and gone: its 'close' has passed,
    // so nothing would end the stream (or free its place) but the stream's time limit.
    if (request.socket.destroyed) return;
    const tenantId = principal.tenant.id;
    const max = this.config.streamsPerTenant;
    const streams = this.open.get(tenantId) ?? 0;
    if (streams >= max) {
      throw new AppError(AppErrorCode.QuotaExceeded, `This tenant has ${streams} streams open, as many as one may have at once (${max}); close one, or retry in ${STREAM_RETRY_AFTER_SECONDS} s.`, {
        details: { limit: 'streams', max, retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS },
      });
    }
    this.open.set(tenantId, streams + 1);
    // Its place is free as soon as the client goes, not only when the stream's loop next wakes.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.open.get(tenantId) ?? 1) - 1;
      if (left === 0) this.open.delete(tenantId);
      else this.open.set(tenantId, left);
    };
    request.once('close', release);
    response.once('close', release);
    try {
      await this.stream(principal, request, response, poll);
    } finally {
      release();
    }
  }

  private stream(principal: TenantPrincipal, request: Request, response: Response, poll: () => Promise<StreamPoll>): Promise<void> {
    let checkedAt = Date.now();
    return streamUntilDone(request, response, this.config.streamMaxMs, async () => {
      if (Date.now() - checkedAt >= KEY_CHECK_MS) {
        checkedAt = Date.now();
        if (!(await this.authenticator.stillValid(principal))) {
          return { events: [{ event: 'unauthenticated', data: { reason: 'The API key this stream was opened with was revoked.' } }], done: false, closed: true };
        }
      }
      return poll();
    }, this.shuttingDown.signal);
  }
}
