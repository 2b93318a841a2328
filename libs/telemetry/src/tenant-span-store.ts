import { type Context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR } from './attributes.js';

/** One finished span of a tenant's work, as the trace store keeps it. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  tenantId: string;
  name: string;
  /** OpenTelemetry SpanKind name: internal, server, client, producer, consumer. */
  kind: string;
  startTime: Date;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string | null;
  attributes: Record<string, unknown>;
}

export type SpanWriter = (spans: StoredSpan[]) => Promise<void>;

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = { [SpanStatusCode.UNSET]: 'unset', [SpanStatusCode.OK]: 'ok', [SpanStatusCode.ERROR]: 'error' } as const;

export interface TenantSpanStoreOptions {
  /** How often buffered spans are written. */
  flushIntervalMs?: number;
  /** Spans per write. */
  batchSize?: number;
  /** Spans kept waiting at most; beyond it the oldest are dropped (and counted). */
  maxBuffered?: number;
  onError?: (error: unknown) => void;
}

/** The scope of spans made by OpenTelemetry's instrumentations of libraries (such as `pg`). */
const LIBRARY_INSTRUMENTATION_PREFIX = '@opentelemetry/instrumentation-';

/**
 * Keeps the spans of tenant-owned work (those with a `tenant.id`) for that
 * tenant's trace views. A span started under a tenant's span inherits its
 * tenant (so an OTLP collector sees whose work a database query served), but
 * spans of instrumented libraries are not kept for the tenant: their SQL and
 * database names are the operator's business, and one batched statement serves
 * many tenants' runs. Airlock's own spans say what each step cost. Spans are buffered and written in batches on a timer, off the request and
 * job paths; until a writer is attached (the database opens after telemetry
 * starts) they wait in the buffer.
 */
export class TenantSpanStore implements SpanProcessor {
  private buffer: StoredSpan[] = [];
  private writer: SpanWriter | undefined;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Spans dropped because the buffer was full. */
  dropped = 0;

  constructor(private readonly options: TenantSpanStoreOptions = {}) {
    this.timer = setInterval(() => void this.forceFlush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  attach(writer: SpanWriter): void {
    this.writer = writer;
  }

  onStart(span: Span, parentContext: Context): void {
    if (span.attributes[ATTR.tenantId] !== undefined) return;
    const parent = trace.getSpan(parentContext) as Partial<ReadableSpan> | undefined;
    const tenantId = parent?.attributes?.[ATTR.tenantId];
    if (typeof tenantId === 'string') span.setAttribute(ATTR.tenantId, tenantId);
  }

  onEnd(span: ReadableSpan): void {
    const tenantId = span.attributes[ATTR.tenantId];
    if (typeof tenantId !== 'string' || span.instrumentationScope.name.startsWith(LIBRARY_INSTRUMENTATION_PREFIX)) return;
    const [seconds, nanos] = span.startTime;
    const [durationSeconds, durationNanos] = span.duration;
    this.buffer.push({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId ?? null,
      tenantId,
      name: span.name.slice(0, 200),
      kind: KINDS[span.kind] ?? 'internal',
      startTime: new Date(seconds * 1000 + nanos / 1e6),
      durationMs: durationSeconds * 1000 + durationNanos / 1e6,
      status: STATUSES[span.status.code],
      // A status message may quote a plugin: text columns cannot hold NUL, which would fail the whole insert.
      statusMessage: span.status.message?.replaceAll('\0', '\\u0000') ?? null,
      attributes: { ...span.attributes },
    });
    const excess = this.buffer.length - (this.options.maxBuffered ?? 50_000);
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /**
   * Writes what is buffered now (once a writer is attached); never rejects.
   * Spans that end while it writes wait for the next flush: under load a flush
   * that chased them would send a small batch after every write.
   */
  forceFlush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batchSize = this.options.batchSize ?? 500;
      for (let due = this.buffer.length; this.writer !== undefined && due > 0 && this.buffer.length > 0; ) {
        const batch = this.buffer.splice(0, Math.min(batchSize, due));
        due -= batch.length;
        try {
          await this.writer(batch);
        } catch (error) {
          // The store is best effort: a failed write loses that batch, never the work it describes.
          this.dropped += batch.length;
          this.options.onError?.(error);
        }
      }
    });
    return this.flushing;
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.forceFlush();
  }
}
