import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { tenantViewSchema, toTenantView } from '../tenants/tenant.schema.js';
import { ZodResponse } from '../validation/zod-openapi.js';

const meSchema = tenantViewSchema.extend({
  apiKey: z.object({ id: z.uuid(), name: z.string(), prefix: z.string() }).describe('The key this request used.'),
});

@ApiTags('tenant')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/me')
export class MeController {
  @Get()
  @ApiOperation({ summary: 'The calling tenant' })
  @ZodResponse(200, meSchema, 'The tenant that owns the API key.')
  me(@CurrentPrincipal() principal: TenantPrincipal): z.infer<typeof meSchema> {
    const { apiKey } = principal;
    return { ...toTenantView(principal.tenant), apiKey: { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix } };
  }
}
