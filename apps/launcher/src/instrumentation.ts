// Loaded before anything else (main.ts imports it first): tracing must be in
// place before NestJS, BullMQ or the database client start, so that their work
// happens inside spans.
import { loadConfig } from '@airlock/config';
import { startTelemetry } from '@airlock/telemetry';

function tracingOptions(): { otlpEndpoint?: string | undefined; disabled: boolean } {
  try {
    const config = loadConfig(process.env);
    return { otlpEndpoint: config.otlpEndpoint, disabled: config.tracingDisabled };
  } catch {
    return { disabled: false }; // main.ts reports configuration errors
  }
}

export const telemetry = startTelemetry({ serviceName: 'airlock', ...tracingOptions() });
