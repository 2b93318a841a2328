import type { Span } from '@airlock/db';
import { z } from 'zod';

interface SpanNode {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startTime: string;
  durationMs: number;
  status: string;
  statusMessage: string | null;
  attributes: Record<string, unknown>;
  children: SpanNode[];
}

const spanNodeSchema: z.ZodType<SpanNode> = z.lazy(() =>
  z.object({
    spanId: z.string(),
    parentSpanId: z.string().nullable(),
    name: z.string(),
    kind: z.string().describe('internal, server, client, producer or consumer'),
    startTime: z.iso.datetime(),
    durationMs: z.number(),
    status: z.string().describe('unset, ok or error'),
    statusMessage: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()).describe('tenant.id, plugin.id, plugin.version, invocation.id, event.type, sandbox.fuel_used, sandbox.status, ...'),
    children: z.array(spanNodeSchema),
  }),
);

export const traceViewSchema = z.object({
  traceId: z.string(),
  spanCount: z.number().int().describe('Spans shown: at most 5,000.'),
  truncated: z.boolean().describe('The trace holds more than 5,000 spans (a plugin making thousands of host calls): these are its first 5,000 by start time.'),
  durationMs: z.number().describe('From the first span start to the last span end.'),
  roots: z.array(spanNodeSchema).describe('Spans whose parent is not in this tenant\'s store (the request span, or spans of a caller), with their children.'),
});

export type TraceView = z.infer<typeof traceViewSchema>;

/** Builds the tree of a trace's spans: children under their parents, earliest first. */
export function toTraceView(traceId: string, spans: Span[], truncated = false): TraceView {
  const nodes = new Map<string, SpanNode>();
  for (const span of spans) {
    nodes.set(span.spanId, {
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name: span.name,
      kind: span.kind,
      startTime: span.startTime.toISOString(),
      durationMs: span.durationMs,
      status: span.status,
      statusMessage: span.statusMessage,
      attributes: span.attributes as Record<string, unknown>,
      children: [],
    });
  }
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentSpanId === null ? undefined : nodes.get(node.parentSpanId);
    (parent === undefined ? roots : parent.children).push(node);
  }
  const starts = spans.map((span) => span.startTime.getTime());
  const ends = spans.map((span) => span.startTime.getTime() + span.durationMs);
  return { traceId, spanCount: spans.length, truncated, durationMs: spans.length === 0 ? 0 : Math.max(...ends) - Math.min(...starts), roots };
}
