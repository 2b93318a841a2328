import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditRepository } from '@airlock/db';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { adminAuditQuerySchema, auditEventViewSchema, auditQuerySchema, toAuditEventView } from './audit.schema.js';
import { listPageSchema, readListPage } from '../validation/list-page.js';

const auditPageSchema = listPageSchema(auditEventViewSchema);

/** A page of entries, with where the next one starts. */
async function page(audit: AuditRepository, tenantId: string | null, query: z.output<typeof auditQuerySchema>) {
  const before = query.before ? new Date(query.before) : undefined;
  return readListPage(query, (page) => audit.list(tenantId, { ...page, before }), toAuditEventView);
}

@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get('v1/audit')
  @UseGuards(TenantGuard)
  @ApiBearerAuth('tenant')
  @ApiOperation({ summary: "The tenant's own audit log, newest first (page on with nextCursor)" })
  @ZodResponse(200, auditPageSchema, 'Entries.')
  @ApiErrors(400, 401)
  async tenantLog(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(auditQuerySchema) query: z.output<typeof auditQuerySchema>) {
    return page(this.audit, principal.tenant.id, query);
  }

  @Get('v1/admin/audit')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: 'The audit log of every tenant and of admins, newest first' })
  @ZodResponse(200, auditPageSchema, 'Entries.')
  @ApiErrors(400, 401, 403)
  async adminLog(@ZodQuery(adminAuditQuerySchema) query: z.output<typeof adminAuditQuerySchema>) {
    return page(this.audit, query.tenantId ?? null, query);
  }
}
