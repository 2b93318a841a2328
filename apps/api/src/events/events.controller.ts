import { Controller, Get, HttpCode, Param, Post, type RawBodyRequest, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { InvocationRepository } from '@airlock/db';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { EventStreams } from '../invocations/sse-stream.js';
import { isUnfinished, toInvocationView } from '../invocations/invocation.schema.js';
import { repeatsNames } from '../validation/duplicate-keys.middleware.js';
import { ZodBody, ZodResponse } from '../validation/zod-openapi.js';
import { acceptedEventSchema, createEventSchema, eventViewSchema, toAcceptedEvent, toEventView } from './event.schema.js';
import { EventsService } from './events.service.js';
import { LeavesConfigUnchanged } from '../tenant-config/leaves-config-unchanged.decorator.js';

@ApiTags('events')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly invocations: InvocationRepository,
    private readonly streams: EventStreams,
  ) {}

  @Post()
  @LeavesConfigUnchanged()
  @HttpCode(202)
  @ApiOperation({ summary: 'Report an event: every enabled binding of its type runs, queued (one invocation each)' })
  @ZodResponse(202, acceptedEventSchema, 'Accepted: the event and its invocations, to poll.')
  @ApiErrors(400, 409, 413, 422, 429, 503)
  async create(
    @CurrentPrincipal() principal: TenantPrincipal,
    @ZodBody(createEventSchema) body: z.output<typeof createEventSchema>,
    @Req() request: RawBodyRequest<Request>,
  ) {
    return toAcceptedEvent(await this.events.accept(principal.tenant, body, { rawBody: request.rawBody, contentType: request.headers['content-type'], namesRepeated: repeatsNames(request) }));
  }

  @Get(':eventId/stream')
  @ApiOperation({ summary: 'Server-Sent Events: `invocation` as each invocation of the event finishes, then `done` (`gone` if the event was deleted; `timeout` after 10 minutes: reconnect; `unauthenticated` once its key is revoked)' })
  @ApiResponse({ status: 200, description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors(404, 429)
  async stream(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('eventId', new IdParamPipe('event')) eventId: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const tenantId = principal.tenant.id;
    await this.events.get(tenantId, eventId);
    const reported = new Set<string>();
    let lastCount = -1;
    await this.streams.follow(principal, request, response, async () => {
      // Only statuses are polled; an invocation is read whole once, when it has finished.
      const statuses = await this.invocations.statuses(tenantId, { eventId });
      // None, or fewer than before: the event may have gone (retention), its invocations with it. Said so, and done.
      if ((statuses.length === 0 || statuses.length < lastCount) && !(await this.events.exists(tenantId, eventId))) {
        return { events: [{ event: 'gone', data: { id: eventId } }], done: true };
      }
      lastCount = statuses.length;
      const finished = statuses.filter((invocation) => !isUnfinished(invocation.status));
      const fresh = finished.filter((invocation) => !reported.has(invocation.id)).map((invocation) => invocation.id);
      // In the order they finished (several may have since the last poll).
      const rows = fresh.length === 0 ? [] : (await this.invocations.findManyById(tenantId, fresh)).sort(byFinish);
      for (const invocation of rows) reported.add(invocation.id);
      // Done when every invocation the event has now was reported: not by counting, since one reported may have been
      // deleted since (retention) while a later replay of it still runs.
      return { events: rows.map((invocation) => ({ event: 'invocation', data: toInvocationView(invocation) })), done: statuses.every((invocation) => reported.has(invocation.id)) };
    });
  }

  @Get(':eventId')
  @ApiOperation({ summary: 'An event and its invocations' })
  @ZodResponse(200, eventViewSchema, 'The event.')
  @ApiErrors(404)
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('eventId', new IdParamPipe('event')) eventId: string) {
    return toEventView(await this.events.get(principal.tenant.id, eventId));
  }
}

/** Finished first, first; ties by id, so that the order is the same on every read. */
function byFinish(a: { finishedAt: Date | null; id: string }, b: { finishedAt: Date | null; id: string }): number {
  return (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0) || a.id.localeCompare(b.id);
}
