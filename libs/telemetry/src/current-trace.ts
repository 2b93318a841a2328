import { isSpanContextValid, trace } from '@opentelemetry/api';

/** The id of the trace the caller is in, or null outside any (telemetry not started). */
export function currentTraceId(): string | null {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : null;
}
