import { Controller, Delete, Get, HttpCode, Param, Patch, Post, type RawBodyRequest, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { withInputAsSent } from '../validation/json-as-sent.js';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { listPageSchema, readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { testResultSchema } from '../versions/version.schema.js';
import {
  bindingTestSchema,
  type BindingView,
  bindingViewSchema,
  createBindingSchema,
  listBindingsQuerySchema,
  toBindingView,
  updateBindingSchema,
} from './binding.schema.js';
import { BindingsService } from './bindings.service.js';
import { LeavesConfigUnchanged } from '../tenant-config/leaves-config-unchanged.decorator.js';

@ApiTags('bindings')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/bindings')
export class BindingsController {
  constructor(
    private readonly bindings: BindingsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Bind a plugin version ("latest" follows the newest published) and export to an event' })
  @ZodResponse(201, bindingViewSchema, 'The new binding.')
  @ApiErrors(400, 404, 409)
  async create(@CurrentPrincipal() principal: TenantPrincipal, @ZodBody(createBindingSchema) body: z.output<typeof createBindingSchema>): Promise<BindingView> {
    const created = await this.bindings.create(principal.tenant.id, body);
    const { binding } = created;
    await this.audit.record(principal.tenant.id, actorOf(principal), 'binding.created', binding.id, {
      event: body.event,
      pluginId: body.pluginId,
      version: body.version,
      secretNames: Object.keys(body.secrets),
    });
    return toBindingView(created);
  }

  @Get()
  @ApiOperation({ summary: 'List bindings, by event or plugin' })
  @ZodResponse(200, listPageSchema(bindingViewSchema), 'One page of bindings, oldest first.')
  @ApiErrors(400)
  list(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(listBindingsQuerySchema) query: z.output<typeof listBindingsQuerySchema>) {
    return readListPage(
      query,
      (page) => this.bindings.list(principal.tenant.id, { event: query.event, pluginId: query.pluginId }, page),
      toBindingView,
      ({ binding }) => ({ at: binding.createdAt, id: binding.id }),
    );
  }

  @Get(':bindingId')
  @ApiOperation({ summary: 'Get a binding' })
  @ZodResponse(200, bindingViewSchema, 'The binding.')
  @ApiErrors(404)
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('bindingId', new IdParamPipe('binding')) bindingId: string): Promise<BindingView> {
    return toBindingView(await this.bindings.get(principal.tenant.id, bindingId));
  }

  @Patch(':bindingId')
  @ApiOperation({ summary: 'Change a binding: roll back by pointing it at an earlier version, disable it, reconfigure it' })
  @ZodResponse(200, bindingViewSchema, 'The binding.')
  @ApiErrors(400, 404, 409)
  async update(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('bindingId', new IdParamPipe('binding')) bindingId: string,
    @ZodBody(updateBindingSchema) body: z.output<typeof updateBindingSchema>,
  ): Promise<BindingView> {
    const updated = await this.bindings.update(principal.tenant.id, bindingId, body);
    const { binding } = updated;
    // Names only: secret values never reach the audit log.
    const { secrets, config, ...changes } = body;
    await this.audit.record(principal.tenant.id, actorOf(principal), 'binding.updated', binding.id, {
      ...changes,
      ...(config === undefined ? {} : { configKeys: Object.keys(config) }),
      ...(secrets === undefined ? {} : { secretNames: Object.keys(secrets ?? {}) }),
    });
    return toBindingView(updated);
  }

  @Post(':bindingId/test')
  @LeavesConfigUnchanged()
  @HttpCode(200)
  @ApiOperation({ summary: 'Run the binding once with an input, as an event would (its version, export, config and secrets)' })
  @ZodResponse(200, testResultSchema, 'The call\'s result: status, output, logs, fuel, memory, duration.')
  @ApiErrors(400, 404, 409, 422, 429, 503)
  async test(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('bindingId', new IdParamPipe('binding')) bindingId: string,
    @ZodBody(bindingTestSchema, { required: false }) body: z.output<typeof bindingTestSchema>,
    @Req() request: RawBodyRequest<Request>,
  ) {
    return this.bindings.test(principal.tenant, bindingId, withInputAsSent(body, request));
  }

  @Delete(':bindingId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a binding' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiErrors(404)
  async delete(@CurrentPrincipal() principal: TenantPrincipal, @Param('bindingId', new IdParamPipe('binding')) bindingId: string): Promise<void> {
    await this.bindings.delete(principal.tenant.id, bindingId);
    await this.audit.record(principal.tenant.id, actorOf(principal), 'binding.deleted', bindingId);
  }
}
