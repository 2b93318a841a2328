import type { Prisma, PrismaClient, Span } from '../generated/prisma/client.js';

export interface NewSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  tenantId: string;
  name: string;
  kind: string;
  startTime: Date;
  durationMs: number;
  status: string;
  statusMessage: string | null;
  attributes: Record<string, unknown>;
}

/** The per-tenant trace store: finished spans of each tenant's work. */
export class SpanRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Saves a batch; a span saved before (the same id) is skipped. */
  async insertMany(spans: readonly NewSpan[]): Promise<void> {
    await this.prisma.span.createMany({
      data: spans.map((span) => ({ ...span, attributes: span.attributes as Prisma.InputJsonValue })),
      skipDuplicates: true,
    });
  }

  /** The tenant's spans of one trace, earliest first; empty when the trace is not the tenant's. */
  findTrace(tenantId: string, traceId: string, limit = 5000): Promise<Span[]> {
    return this.prisma.span.findMany({ where: { tenantId, traceId }, orderBy: [{ startTime: 'asc' }, { spanId: 'asc' }], take: limit });
  }
}
