// Loaded before anything else (main.ts imports it first): tracing must be in
// place before NestJS, BullMQ or the database client start, so that their work
// happens inside spans.
import { loadConfig } from '@airlock/config';
import { startTelemetry } from '@airlock/telemetry';

function otlpEndpoint(): string | undefined {
  try {
    return loadConfig(process.env).otlpEndpoint;
  } catch {
    return undefined; // main.ts reports configuration errors
  }
}

export const telemetry = startTelemetry({ serviceName: 'airlock', otlpEndpoint: otlpEndpoint() });
