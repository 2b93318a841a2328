import { Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantQuotaRepository } from '@airlock/db';
import { effectivePolicy, refuseIneffectiveOverrides } from '@airlock/execution';
import { TenantQuotaGateRepository } from '@airlock/queue';
import type { z } from 'zod';
import { ADMIN_ACTOR, AuditService } from '../audit/audit.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { ZodBody, ZodResponse } from '../validation/zod-openapi.js';
import { putQuotaSchema, quotaViewSchema } from './quota.schema.js';
import { TenantPolicyService } from './tenant-policy.service.js';

type QuotaView = z.infer<typeof quotaViewSchema>;

@ApiTags('quotas')
@Controller()
export class QuotasController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly policies: TenantPolicyService,
    private readonly quotas: TenantQuotaRepository,
    private readonly audit: AuditService,
    private readonly gate: TenantQuotaGateRepository,
  ) {}

  private async view(tenantId: string): Promise<QuotaView> {
    const tenant = await this.tenants.get(tenantId);
    const overrides = await this.policies.overrides(tenant.id);
    // The counters live in Redis: without it the limits still show, the counts do not.
    const today = await this.gate.countsToday(tenant.id).catch(() => null);
    return { tier: tenant.tier, overrides, effective: await this.policies.forTenant(tenant), today };
  }

  @Get('v1/admin/tenants/:tenantId/quota')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: "A tenant's tier, an admin's overrides, and the effective policy" })
  @ZodResponse(200, quotaViewSchema, 'The quota.')
  @ApiErrors(401, 403, 404)
  getForAdmin(@Param('tenantId', new IdParamPipe('tenant')) tenantId: string): Promise<QuotaView> {
    return this.view(tenantId);
  }

  @Put('v1/admin/tenants/:tenantId/quota')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: "Set a tenant's tier and overrides (replacing the previous overrides)" })
  @ZodResponse(200, quotaViewSchema, 'The new quota.')
  @ApiErrors(400, 401, 403, 404)
  async put(
    @Param('tenantId', new IdParamPipe('tenant')) tenantId: string,
    @ZodBody(putQuotaSchema) body: z.output<typeof putQuotaSchema>,
  ): Promise<QuotaView> {
    const tenant = await this.tenants.get(tenantId);
    // Refuses a combination that is not a valid policy, or that would be saved and change nothing.
    const check = async (tier: string) => refuseIneffectiveOverrides(effectivePolicy(await this.policies.tier(tier), body.overrides), body.overrides);
    const tier = await this.quotas.set(tenant.id, body.tier, body.overrides, check);
    if (tier === null) throw notFound('tenant');
    await this.audit.record(tenant.id, ADMIN_ACTOR, 'quota.updated', tenant.id, { tier, overrides: body.overrides });
    return this.view(tenant.id);
  }

  @Get('v1/quota')
  @UseGuards(TenantGuard)
  @ApiBearerAuth('tenant')
  @ApiOperation({ summary: 'The calling tenant\'s tier, overrides and effective policy' })
  @ZodResponse(200, quotaViewSchema, 'The quota.')
  @ApiErrors(401)
  getOwn(@CurrentPrincipal() principal: TenantPrincipal): Promise<QuotaView> {
    return this.view(principal.tenant.id);
  }
}
