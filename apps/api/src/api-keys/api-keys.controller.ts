import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { ADMIN_ACTOR, AuditService } from '../audit/audit.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import {
  type ApiKeyView,
  apiKeyListSchema,
  apiKeyViewSchema,
  createApiKeySchema,
  createdApiKeySchema,
  listApiKeysQuerySchema,
  toApiKeyView,
} from './api-key.schema.js';
import { ApiKeysService } from './api-keys.service.js';

@ApiTags('admin: API keys')
@ApiBearerAuth('admin')
@ApiErrors(401, 403, 404)
@UseGuards(AdminGuard)
@Controller('v1/admin/tenants/:tenantId/keys')
export class ApiKeysController {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: "Issue an API key for a tenant (the key is in this response only)" })
  @ZodResponse(201, createdApiKeySchema, 'The new key, with its secret.')
  @ApiErrors(400)
  async issue(
    @Param('tenantId', new IdParamPipe('tenant')) tenantId: string,
    @ZodBody(createApiKeySchema, { required: false }) body: z.output<typeof createApiKeySchema>,
  ): Promise<ApiKeyView & { key: string }> {
    const { record, key } = await this.apiKeys.issue(tenantId, body.name);
    await this.audit.record(tenantId, ADMIN_ACTOR, 'key.issued', record.id, { name: record.name, prefix: record.prefix });
    return { ...toApiKeyView(record), key };
  }

  @Get()
  @ApiOperation({ summary: "List a tenant's API keys (never their secrets)" })
  @ZodResponse(200, apiKeyListSchema, 'One page of keys, oldest first, revoked ones included.')
  @ApiErrors(400)
  list(@Param('tenantId', new IdParamPipe('tenant')) tenantId: string, @ZodQuery(listApiKeysQuerySchema) query: z.output<typeof listApiKeysQuerySchema>) {
    return readListPage(query, (page) => this.apiKeys.list(tenantId, page), toApiKeyView);
  }

  @Delete(':keyId')
  @ApiOperation({ summary: 'Revoke an API key; it stops working at once' })
  @ZodResponse(200, apiKeyViewSchema, 'The revoked key.')
  async revoke(
    @Param('tenantId', new IdParamPipe('tenant')) tenantId: string,
    @Param('keyId', new IdParamPipe('API key')) keyId: string,
  ): Promise<ApiKeyView> {
    const { key, revokedNow } = await this.apiKeys.revoke(tenantId, keyId);
    // Revoking again changes nothing, and is no news for the audit log.
    if (revokedNow) await this.audit.record(tenantId, ADMIN_ACTOR, 'key.revoked', key.id, { prefix: key.prefix });
    return toApiKeyView(key);
  }
}
