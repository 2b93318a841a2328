import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { ZodBody, ZodResponse } from '../validation/zod-openapi.js';
import { acceptedEventSchema, createEventSchema, eventViewSchema, toAcceptedEvent, toEventView } from './event.schema.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Report an event: every enabled binding of its type runs, queued (one invocation each)' })
  @ZodResponse(202, acceptedEventSchema, 'Accepted: the event and its invocations, to poll.')
  @ApiErrors(400, 413, 503)
  async create(@CurrentPrincipal() principal: TenantPrincipal, @ZodBody(createEventSchema) body: z.output<typeof createEventSchema>) {
    return toAcceptedEvent(await this.events.accept(principal.tenant, body));
  }

  @Get(':eventId')
  @ApiOperation({ summary: 'An event and its invocations' })
  @ZodResponse(200, eventViewSchema, 'The event.')
  @ApiErrors(404)
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('eventId', new IdParamPipe('event')) eventId: string) {
    return toEventView(await this.events.get(principal.tenant.id, eventId));
  }
}
