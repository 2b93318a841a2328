import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PluginVersionRepository } from '@airlock/db';
import { newPermissions } from '@airlock/execution';
import { AppError, AppErrorCode } from '@airlock/errors';
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
  // An empty note is no note: kept as none, not as "".
  note: z
    .string()
    .trim()
    .max(2000)
    .optional()
    .transform((note) => (note === '' ? undefined : note)),
  revise: z.boolean().default(false).describe('Change a decision made already (without it, deciding a request decided otherwise is a 409).'),
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

type ApprovalRow = NonNullable<Awaited<ReturnType<PluginVersionRepository['decide']>>>['approval'];

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
  @ApiOperation({ summary: "Approve or reject a version's permissions (a decided request only with revise: true)" })
  @ZodResponse(200, approvalViewSchema, 'The decided request (the same decision again leaves it as it was).')
  @ApiErrors(400, 404, 409)
  async decide(
    @Param('approvalId', new IdParamPipe('approval')) approvalId: string,
    @ZodBody(decisionSchema) body: z.output<typeof decisionSchema>,
  ) {
    const decision = body.decision === 'approve' ? 'approved' : 'rejected';
    const decided = await this.versions.decide(approvalId, decision, body.note, new Date(), body.revise, newPermissions);
    if (decided === null) throw notFound('approval');
    const { approval } = decided;
    if (decided.conflict) {
      throw new AppError(
        AppErrorCode.Conflict,
        `This request was ${approval.status} already (${approval.decidedAt?.toISOString()}); send revise: true to change that decision.`,
        { details: { status: approval.status, decidedAt: approval.decidedAt?.toISOString() ?? null } },
      );
    }
    // The same decision again leaves the request as it was: a new note with it would be dropped without a word.
    if (!decided.changed && body.note !== undefined && body.note !== approval.note) {
      throw new AppError(
        AppErrorCode.Conflict,
        `This request was ${approval.status} already (${approval.decidedAt?.toISOString()}) with ${approval.note === null ? 'no note' : 'another note'}; a note is recorded with its decision and was not changed.`,
        { details: { status: approval.status, decidedAt: approval.decidedAt?.toISOString() ?? null, note: approval.note } },
      );
    }
    if (decided.changed) {
      await this.audit.record(approval.tenantId, ADMIN_ACTOR, `approval.${approval.status}`, approval.id, {
        pluginId: approval.version.pluginId,
        version: approval.version.number,
        requested: approval.requested,
        previous: decided.previous,
        // The note is the decision's reason; a revision replaces it on the request, the log keeps each.
        note: approval.note,
        // Later versions let through because they matched what is now rejected, back under review.
        ...(decided.reReviewed.length === 0 ? {} : { reReviewedVersions: decided.reReviewed }),
      });
    }
    return toApprovalView(approval);
  }
}
