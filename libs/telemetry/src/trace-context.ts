import { context, defaultTextMapGetter, defaultTextMapSetter, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// Only the trace context travels with a job: not the request's baggage, which a caller sets and whose size
// nothing bounds (a job that carried it could be refused by the job's schema and never run).
const traceContext = new W3CTraceContextPropagator();

/** The W3C trace context (`traceparent`, `tracestate`) of the active span, as text fields to carry in a message (a job's data). */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  traceContext.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier;
}

/** The context a carrier describes (or the active one if it carries none), to continue its trace. */
export function contextFromCarrier(carrier: Record<string, string> | undefined): Context {
  return carrier === undefined ? context.active() : traceContext.extract(context.active(), carrier, defaultTextMapGetter);
}
