import { isSpanContextValid, trace } from '@opentelemetry/api';
import { ATTR } from './attributes.js';

/**
 * Fields that tie a service log line to its trace and tenant: read from the
 * active span (the request's or the job's), so every line logged while
 * serving a tenant carries them without being passed around.
 */
export function logCorrelation(): { traceId?: string; tenantId?: string } {
  const span = trace.getActiveSpan();
  if (span === undefined || !isSpanContextValid(span.spanContext())) return {};
  const tenantId = (span as { attributes?: Record<string, unknown> }).attributes?.[ATTR.tenantId];
  return { traceId: span.spanContext().traceId, ...(typeof tenantId === 'string' ? { tenantId } : {}) };
}
