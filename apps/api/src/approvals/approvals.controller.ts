import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PluginVersionRepository } from '@airlock/db';
import { z } from 'zod';
import { ADMIN_ACTOR, AuditService } from '../audit/audit.service.js';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { listPageQuery, listPageSchema, readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';

const approvalStatus = z.enum(['pending', 'approved', 'rejected']);

const decisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: z.string().trim().max(2000).optional(),
});

const listApprovalsQuerySchema = z.strictObject({ status: approvalStatus.optional(), ...listPageQuery });

const approvalViewSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  pluginId: z.uuid(),
  pluginName: z.string(),
  version: z.number().int(),
  permissions: z.array(z.string()).describe('Everything the version uses.'),
  requested: z.array(z.object({ permission: z.string(), reason: z.enum(['beyond_tier', 'new']) })),
  previous: z.array(z.string()).describe('The permissions of the last version published with approved permissions.'),
  status: approvalStatus,
  note: z.string().nullable(),
  decidedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});

type ApprovalRow = NonNullable<Awaited<ReturnType<PluginVersionRepository['decide']>>>;

function toApprovalView(approval: ApprovalRow): z.infer<typeof approvalViewSchema> {
  return {
    id: approval.id,
    tenantId: approval.tenantId,
    pluginId: approval.version.pluginId,
    pluginName: approval.version.plugin.name,
    version: approval.version.number,
    permissions: approval.version.permissions as string[],
    requested: approval.requested as z.infer<typeof approvalViewSchema>['requested'],
    previous: approval.previous as string[],
    status: approval.status as z.infer<typeof approvalStatus>,
    note: approval.note,
    decidedAt: approval.decidedAt?.toISOString() ?? null,
    createdAt: approval.createdAt.toISOString(),
  };
}

@ApiTags('admin: approvals')
@ApiBearerAuth('admin')
@ApiErrors(401, 403)
@UseGuards(AdminGuard)
@Controller('v1/admin/approvals')
export class ApprovalsController {
  constructor(
    private readonly versions: PluginVersionRepository,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Versions whose new permissions wait for (or got) a decision; ?status=pending' })
  @ZodResponse(200, listPageSchema(approvalViewSchema), 'One page of approval requests, oldest first.')
  @ApiErrors(400)
  list(@ZodQuery(listApprovalsQuerySchema) query: z.output<typeof listApprovalsQuerySchema>) {
    return readListPage(query, (page) => this.versions.listApprovals(query.status, page), toApprovalView);
  }

  @Post(':approvalId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve or reject a version\'s permissions' })
  @ZodResponse(200, approvalViewSchema, 'The decided request.')
  @ApiErrors(400, 404)
  async decide(
    @Param('approvalId', new IdParamPipe('approval')) approvalId: string,
    @ZodBody(decisionSchema) body: z.output<typeof decisionSchema>,
  ) {
    const decided = await this.versions.decide(approvalId, body.decision === 'approve' ? 'approved' : 'rejected', body.note, new Date());
    if (decided === null) throw notFound('approval');
    await this.audit.record(decided.tenantId, ADMIN_ACTOR, `approval.${decided.status}`, decided.id, {
      pluginId: decided.version.pluginId,
      version: decided.version.number,
      requested: decided.requested,
    });
    return toApprovalView(decided);
  }
}
