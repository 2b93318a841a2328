// Imported first by the API harness, as instrumentation.ts is by the launcher:
// tracing starts before the database driver loads, so its queries are traced too.
import { startTelemetry } from '@airlock/telemetry';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Tracing is on in every test process that uses the harness, as it is in
 * Airlock's own processes: spans go to the harness's trace store and, as they
 * end, to this exporter, for tests to inspect.
 */
export const spanExporter = new InMemorySpanExporter();
export const telemetry = startTelemetry({ serviceName: 'airlock-test', exporters: [spanExporter] });
