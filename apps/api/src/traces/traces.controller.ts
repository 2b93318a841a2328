import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvocationRepository, SpanRepository } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { ZodResponse } from '../validation/zod-openapi.js';
import { toTraceView, type TraceView, traceViewSchema } from './trace.schema.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

/** A tenant's traces, from its trace store. Spans are saved in batches: they appear about a second after they end. */
@ApiTags('traces')
@ApiBearerAuth('tenant')
@ApiErrors(401, 404)
@UseGuards(TenantGuard)
@Controller()
export class TracesController {
  constructor(
    private readonly spans: SpanRepository,
    private readonly invocations: InvocationRepository,
  ) {}

  @Get('v1/traces/:traceId')
  @ApiOperation({ summary: 'A trace of this tenant: its spans as a tree, with timings' })
  @ZodResponse(200, traceViewSchema, 'The trace.')
  async trace(@CurrentPrincipal() principal: TenantPrincipal, @Param('traceId') traceId: string): Promise<TraceView> {
    if (!TRACE_ID.test(traceId)) throw new AppError(AppErrorCode.NotFound, 'No trace with this id (trace ids are 32 lowercase hex digits).');
    return this.view(principal.tenant.id, traceId);
  }

  @Get('v1/invocations/:invocationId/trace')
  @ApiOperation({ summary: 'The trace an invocation ran in: the request that queued it, the job, the sandbox run, host calls, the result write' })
  @ZodResponse(200, traceViewSchema, 'The trace.')
  async invocationTrace(@CurrentPrincipal() principal: TenantPrincipal, @Param('invocationId', new IdParamPipe('invocation')) invocationId: string): Promise<TraceView> {
    const invocation = await this.invocations.findById(principal.tenant.id, invocationId);
    if (invocation === null) throw notFound('invocation');
    if (invocation.traceId === null) throw new AppError(AppErrorCode.NotFound, 'This invocation was queued without a trace.');
    return this.view(principal.tenant.id, invocation.traceId);
  }

  private async view(tenantId: string, traceId: string): Promise<TraceView> {
    const { spans, truncated } = await this.spans.findTrace(tenantId, traceId);
    if (spans.length === 0) throw new AppError(AppErrorCode.NotFound, 'No trace with this id (spans are saved about a second after they end; none are kept of a trace its caller marked not sampled, traceparent flags 00).');
    return toTraceView(traceId, spans, truncated);
  }
}
