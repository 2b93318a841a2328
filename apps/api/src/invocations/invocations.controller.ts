import { Controller, Get, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InvocationRepository } from '@airlock/db';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { listPageSchema, readListPage } from '../validation/list-page.js';
import type { Request, Response } from 'express';
import { EventStreams } from './sse-stream.js';
import { z } from 'zod';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { type InvocationView, invocationViewSchema, isUnfinished, toInvocationView } from './invocation.schema.js';
import { invokeSchema, listInvocationsQuerySchema } from './invoke.schema.js';
import { InvokeService } from './invoke.service.js';
import { LeavesConfigUnchanged } from '../tenant-config/leaves-config-unchanged.decorator.js';

@ApiTags('invocations')
@ApiBearerAuth('tenant')
@ApiErrors(401, 404)
@UseGuards(TenantGuard)
@Controller()
export class InvocationsController {
  constructor(
    private readonly invocations: InvocationRepository,
    private readonly invoker: InvokeService,
    private readonly streams: EventStreams,
  ) {}

  @Post('v1/plugins/:pluginId/invoke')
  @LeavesConfigUnchanged()
  @ApiOperation({ summary: 'Run one plugin directly (newest published version unless given); with wait, answer with the result when it comes in time' })
  @ZodResponse(200, invocationViewSchema, 'Finished within the wait.')
  @ZodResponse(202, invocationViewSchema, 'Queued (or still running when the wait ran out): poll GET /v1/invocations/:id.')
  @ApiErrors(400, 409, 413, 422, 429, 503)
  async invoke(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @ZodBody(invokeSchema) body: z.output<typeof invokeSchema>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<InvocationView> {
    // A caller that goes away while it waits ends the wait (the response's close: the request's comes once its body is read).
    const abandoned = new AbortController();
    response.once('close', () => abandoned.abort());
    const { invocation, finished } = await this.invoker.invoke(principal.tenant, pluginId, body, abandoned.signal);
    response.status(finished ? 200 : 202);
    return toInvocationView(invocation);
  }

  @Get('v1/invocations')
  @ApiOperation({ summary: 'Invocations, newest first, by event, plugin, status or time' })
  @ZodResponse(200, listPageSchema(invocationViewSchema), 'One page.')
  @ApiErrors(400)
  list(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(listInvocationsQuerySchema) query: z.output<typeof listInvocationsQuerySchema>) {
    const filter = { eventId: query.event, pluginId: query.pluginId, status: query.status, since: query.since ? new Date(query.since) : undefined };
    // The cursor carries the last row's place in the list, so it holds even when that row is deleted meanwhile.
    return readListPage(query, (page) => this.invocations.list(principal.tenant.id, filter, page), toInvocationView);
  }

  @Get('v1/invocations/:invocationId/stream')
  @ApiOperation({ summary: 'Server-Sent Events: `status` with the invocation at each change, then `done` once it is finished (`gone` if it was deleted; `timeout` after 10 minutes: reconnect; `unauthenticated` once its key is revoked)' })
  @ApiResponse({ status: 200, description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors(429)
  async stream(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('invocationId', new IdParamPipe('invocation')) id: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const tenantId = principal.tenant.id;
    if ((await this.invocations.findById(tenantId, id)) === null) throw notFound('invocation');
    let lastStatus: string | undefined;
    await this.streams.follow(principal, request, response, async () => {
      // Only the status is polled; the whole invocation is read when it changes.
      const [current] = await this.invocations.statuses(tenantId, { ids: [id] });
      if (current !== undefined && current.status === lastStatus) return { events: [], done: false };
      const invocation = current === undefined ? null : await this.invocations.findById(tenantId, id);
      // Deleted meanwhile (its tenant's retention ran): nothing more will come.
      if (invocation === null) return { events: [{ event: 'gone', data: { id } }], done: true };
      lastStatus = invocation.status;
      return { events: [{ event: 'status', data: toInvocationView(invocation) }], done: !isUnfinished(invocation.status) };
    });
  }

  @Get('v1/invocations/:invocationId')
  @ApiOperation({ summary: 'An invocation: its status, and once finished its output, error, fuel, memory, duration and logs' })
  @ZodResponse(200, invocationViewSchema, 'The invocation.')
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('invocationId', new IdParamPipe('invocation')) id: string): Promise<InvocationView> {
    const invocation = await this.invocations.findById(principal.tenant.id, id);
    if (invocation === null) throw notFound('invocation');
    return toInvocationView(invocation);
  }
}
