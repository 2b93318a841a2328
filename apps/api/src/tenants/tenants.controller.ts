import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ADMIN_ACTOR, AuditService } from '../audit/audit.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import {
  createTenantSchema,
  listTenantsQuerySchema,
  type TenantView,
  tenantPageSchema,
  tenantViewSchema,
  toTenantView,
} from './tenant.schema.js';
import { TenantsService } from './tenants.service.js';

@ApiTags('admin: tenants')
@ApiBearerAuth('admin')
@ApiErrors(401, 403)
@UseGuards(AdminGuard)
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant' })
  @ZodResponse(201, tenantViewSchema, 'The new tenant.')
  @ApiErrors(400)
  async create(@ZodBody(createTenantSchema) body: z.output<typeof createTenantSchema>): Promise<TenantView> {
    const tenant = await this.tenants.create(body);
    await this.audit.record(tenant.id, ADMIN_ACTOR, 'tenant.created', tenant.id, { name: tenant.name, tier: tenant.tier });
    return toTenantView(tenant);
  }

  @Get()
  @ApiOperation({ summary: 'List tenants, oldest first' })
  @ZodResponse(200, tenantPageSchema, 'One page of tenants.')
  @ApiErrors(400)
  async list(@ZodQuery(listTenantsQuerySchema) query: z.output<typeof listTenantsQuerySchema>) {
    return this.tenants.list(query);
  }

  @Get(':tenantId')
  @ApiOperation({ summary: 'Get a tenant' })
  @ZodResponse(200, tenantViewSchema, 'The tenant.')
  @ApiErrors(404)
  async get(@Param('tenantId', new IdParamPipe('tenant')) tenantId: string): Promise<TenantView> {
    return toTenantView(await this.tenants.get(tenantId));
  }
}
