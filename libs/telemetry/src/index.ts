export { withSpan } from './with-span.js';
export { ATTR, SPAN } from './attributes.js';
export { contextFromCarrier, currentTraceCarrier } from './trace-context.js';
export { type StoredSpan, type SpanWriter, TenantSpanStore } from './tenant-span-store.js';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.js';
export { currentTraceId } from './current-trace.js';
export { type ExecutorPoolStats, metrics, metricsRegistry, observeExecutorPool, observeQueues, type QueueProbe } from './metrics.js';
export { logCorrelation } from './log-correlation.js';
export { serviceLogOptions } from './service-log-options.js';
