import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { TenantSpanStore } from './tenant-span-store.js';

export interface TelemetryOptions {
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans are also sent there, over OTLP/HTTP, in batches. */
  otlpEndpoint?: string | undefined;
  /** More exporters, each span sent as it ends (tests use an in-memory one). */
  exporters?: SpanExporter[];
  /** OTEL_SDK_DISABLED: no tracer provider; spans are no-ops and nothing is stored or sent. */
  disabled?: boolean;
}

export interface Telemetry {
  /** Where tenant-owned spans wait for the database; attach a writer once it is open. */
  spanStore: TenantSpanStore;
  /** Writes and sends everything finished so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts tracing for this process: the global tracer provider (spans from
 * `@opentelemetry/api` everywhere in Airlock land here), async-context
 * propagation and the W3C trace-context propagator. Call it before anything
 * else starts; a second call returns the first one's handle.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started !== undefined) return started;
  const spanStore = new TenantSpanStore({ onError: (error) => console.error('the trace store could not save spans:', error) });
  if (options.disabled === true) {
    started = { spanStore, flush: () => spanStore.forceFlush(), shutdown: () => spanStore.shutdown() };
    return started;
  }
  const spanProcessors: SpanProcessor[] = [spanStore];
  if (options.otlpEndpoint !== undefined) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 }));
  }
  for (const exporter of options.exporters ?? []) spanProcessors.push(new SimpleSpanProcessor(exporter));
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': options.serviceName, 'process.pid': process.pid }), spanProcessors });
  provider.register();
  // PostgreSQL queries made under Airlock's spans become child spans (the driver
  // is loaded after this: instrumentation.ts runs first), for exporters only: the
  // tenant store does not keep them, so without an exporter they would cost CPU on
  // every query for nothing. ioredis 6 is beyond what the ioredis instrumentation
  // patches; Redis work shows as Airlock's own spans. Taking a connection from the
  // pool is not shown: it was a span per query, saying little.
  if (spanProcessors.length > 1) {
    registerInstrumentations({ tracerProvider: provider, instrumentations: [new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true })] });
  }
  started = {
    spanStore,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return started;
}
