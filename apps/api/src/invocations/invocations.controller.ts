import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvocationRepository } from '@airlock/db';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { ZodResponse } from '../validation/zod-openapi.js';
import { type InvocationView, invocationViewSchema, toInvocationView } from './invocation.schema.js';

@ApiTags('invocations')
@ApiBearerAuth('tenant')
@ApiErrors(401, 404)
@UseGuards(TenantGuard)
@Controller('v1/invocations')
export class InvocationsController {
  constructor(private readonly invocations: InvocationRepository) {}

  @Get(':invocationId')
  @ApiOperation({ summary: 'An invocation: its status, and once finished its output, error, fuel, memory, duration and logs' })
  @ZodResponse(200, invocationViewSchema, 'The invocation.')
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('invocationId', new IdParamPipe('invocation')) id: string): Promise<InvocationView> {
    const invocation = await this.invocations.findById(principal.tenant.id, id);
    if (invocation === null) throw notFound('invocation');
    return toInvocationView(invocation);
  }
}
