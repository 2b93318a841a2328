import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { listPageSchema, readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import {
  createPluginSchema,
  deletePluginQuerySchema,
  listPluginsQuerySchema,
  type PluginView,
  pluginViewSchema,
  toPluginView,
} from './plugin.schema.js';
import { PluginsService } from './plugins.service.js';

@ApiTags('plugins')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/plugins')
export class PluginsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a plugin' })
  @ZodResponse(201, pluginViewSchema, 'The new plugin.')
  @ApiErrors(400, 409)
  async create(@CurrentPrincipal() principal: TenantPrincipal, @ZodBody(createPluginSchema) body: z.output<typeof createPluginSchema>): Promise<PluginView> {
    const plugin = await this.plugins.create(principal.tenant, body);
    await this.audit.record(principal.tenant.id, actorOf(principal), 'plugin.created', plugin.id, { name: plugin.name });
    return toPluginView(plugin);
  }

  @Get()
  @ApiOperation({ summary: "List the tenant's plugins" })
  @ZodResponse(200, listPageSchema(pluginViewSchema), 'One page of plugins, oldest first.')
  @ApiErrors(400)
  list(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(listPluginsQuerySchema) query: z.output<typeof listPluginsQuerySchema>) {
    return readListPage(query, (page) => this.plugins.list(principal.tenant.id, query.includeDeleted === 'true', page), toPluginView);
  }

  @Get(':pluginId')
  @ApiOperation({ summary: 'Get a plugin (deleted ones too: their history stays)' })
  @ZodResponse(200, pluginViewSchema, 'The plugin.')
  @ApiErrors(404)
  async get(@CurrentPrincipal() principal: TenantPrincipal, @Param('pluginId', new IdParamPipe('plugin')) pluginId: string): Promise<PluginView> {
    return toPluginView(await this.plugins.get(principal.tenant.id, pluginId));
  }

  @Delete(':pluginId')
  @ApiOperation({ summary: 'Delete a plugin (soft: versions stay readable); ?force=true also deletes its bindings' })
  @ZodResponse(200, pluginViewSchema, 'The deleted plugin.')
  @ApiErrors(400, 404, 409)
  async delete(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @ZodQuery(deletePluginQuerySchema) query: z.output<typeof deletePluginQuerySchema>,
  ): Promise<PluginView> {
    const { plugin, deleted } = await this.plugins.delete(principal.tenant.id, pluginId, query.force === 'true');
    // Deleted once, audited once: a second request (sent at once, or later) answers the deletion as it stands.
    if (deleted) await this.audit.record(principal.tenant.id, actorOf(principal), 'plugin.deleted', plugin.id, { force: query.force === 'true' });
    return toPluginView(plugin);
  }
}
