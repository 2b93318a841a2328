import type { Invocation } from '@airlock/db';
import { z } from 'zod';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export const invocationViewSchema = z.object({
  id: z.uuid(),
  eventId: z.uuid().nullable(),
  bindingId: z.uuid().nullable(),
  pluginId: z.uuid(),
  version: z.number().int(),
  export: z.string(),
  status: z.string().describe('queued, running, or a sandbox outcome: ok, plugin_error, trap, fuel_exhausted, memory_limit, timeout, ...'),
  output: z.string().nullable().describe('The output as UTF-8 text, when it is valid UTF-8.'),
  outputBase64: z.string().nullable(),
  error: z.object({ kind: z.string(), message: z.string() }).nullable(),
  fuelUsed: z.number().nullable(),
  memoryPeakBytes: z.number().nullable(),
  durationMs: z.number().nullable(),
  egressBytes: z.number().int().describe("Bytes the plugin's HTTP requests sent out (request lines, headers, bodies; every hop)."),
  attempts: z.number().int(),
  logs: z.array(z.object({ level: z.string(), message: z.string(), atMs: z.number() })),
  logsDropped: z.number().int(),
  deadLetteredAt: z.iso.datetime().nullable(),
  replayOf: z.uuid().nullable(),
  traceId: z.string().nullable().describe('The trace it ran in: GET /v1/invocations/:id/trace or /v1/traces/:traceId.'),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
});

export type InvocationView = z.infer<typeof invocationViewSchema>;

function utf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Whether an invocation's status says it may still change (queued or running). */
export const isUnfinished = (status: string): boolean => status === 'queued' || status === 'running';

export function toInvocationView(invocation: Invocation): InvocationView {
  const finished = !isUnfinished(invocation.status);
  return {
    id: invocation.id,
    eventId: invocation.eventId,
    bindingId: invocation.bindingId,
    pluginId: invocation.pluginId,
    version: invocation.version,
    export: invocation.exportName,
    status: invocation.status,
    output: invocation.output === null ? null : utf8(invocation.output),
    outputBase64: invocation.output === null ? null : Buffer.from(invocation.output).toString('base64'),
    error: finished && invocation.status !== 'ok' ? { kind: invocation.status, message: invocation.errorMessage ?? '' } : null,
    fuelUsed: invocation.fuelUsed === null ? null : Number(invocation.fuelUsed),
    memoryPeakBytes: invocation.memoryPeakBytes === null ? null : Number(invocation.memoryPeakBytes),
    durationMs: invocation.durationMs,
    egressBytes: Number(invocation.egressBytes),
    attempts: invocation.attempts,
    logs: invocation.logs as InvocationView['logs'],
    logsDropped: invocation.logsDropped,
    deadLetteredAt: invocation.deadLetteredAt?.toISOString() ?? null,
    replayOf: invocation.replayOf,
    traceId: invocation.traceId,
    createdAt: invocation.createdAt.toISOString(),
    startedAt: invocation.startedAt?.toISOString() ?? null,
    finishedAt: invocation.finishedAt?.toISOString() ?? null,
  };
}
