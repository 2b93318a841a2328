import { context, propagation, type Context } from '@opentelemetry/api';

/** The W3C trace context of the active span, as text fields to carry in a message (a job's data). */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The context a carrier describes (or the active one if it carries none), to continue its trace. */
export function contextFromCarrier(carrier: Record<string, string> | undefined): Context {
  return carrier === undefined ? context.active() : propagation.extract(context.active(), carrier);
}
