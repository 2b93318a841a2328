/** What Airlock answers, as documented at `GET /openapi.json`. */

export interface AcceptedEvent {
  eventId: string;
  /** One per enabled binding of the event's type, queued. */
  invocations: Array<{ id: string; bindingId: string | null; pluginId: string; version: number }>;
}

export type InvocationStatus =
  | 'queued'
  | 'running'
  | 'ok'
  | 'plugin_error'
  | 'trap'
  | 'fuel_exhausted'
  | 'memory_limit'
  | 'timeout'
  | 'output_too_large'
  | (string & {});

export interface Invocation {
  id: string;
  eventId: string | null;
  bindingId: string | null;
  pluginId: string;
  version: number;
  export: string;
  status: InvocationStatus;
  /** The output as UTF-8 text, when it is valid UTF-8. */
  output: string | null;
  outputBase64: string | null;
  error: { kind: string; message: string } | null;
  fuelUsed: number | null;
  memoryPeakBytes: number | null;
  durationMs: number | null;
  egressBytes: number;
  attempts: number;
  logs: Array<{ level: string; message: string; atMs: number }>;
  logsDropped: number;
  deadLetteredAt: string | null;
  replayOf: string | null;
  traceId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Event {
  id: string;
  type: string;
  idempotencyKey: string | null;
  createdAt: string;
  invocations: Invocation[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An event to report. */
export interface NewEvent {
  /** `order.created`: 2-5 lowercase segments separated by dots. */
  type: string;
  /** Handed to each bound plugin as JSON text. */
  payload?: unknown;
  /** Binary input instead of `payload`. */
  payloadBytes?: Uint8Array;
  /** The same key again returns the first event and queues nothing; lets a send be retried safely. */
  idempotencyKey?: string;
}

/** A direct call of one plugin. */
export interface Invoke {
  export: string;
  input?: string;
  inputBytes?: Uint8Array;
  /** A published version; the newest published by default. */
  version?: number;
  config?: Record<string, string>;
  /** Milliseconds to wait for the result before answering with the queued invocation. */
  wait?: number;
}

export interface InvocationFilter {
  event?: string;
  pluginId?: string;
  status?: string;
  /** ISO date-time: invocations created at or after it. */
  since?: string;
  /** Per page (1-200). */
  limit?: number;
}

/** A delivery of `POST /v1/webhooks`, once verified: the finished invocation, without its logs (`getInvocation` has them). */
export interface WebhookDelivery {
  type: 'invocation.finished' | (string & {});
  invocation: Pick<Invocation, 'id' | 'eventId' | 'pluginId' | 'version' | 'export' | 'status' | 'outputBase64' | 'error' | 'fuelUsed' | 'durationMs' | 'finishedAt'>;
}
