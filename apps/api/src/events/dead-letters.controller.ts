import { currentTraceId } from '@airlock/telemetry';
import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BindingRepository, InvocationRepository, type ListPosition, PluginVersionRepository } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { heldForApproval } from '@airlock/execution';
import { z } from 'zod';
import { actorOf } from '../audit/audit.service.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { invocationViewSchema, toInvocationView } from '../invocations/invocation.schema.js';
import { versionNumberSchema } from '../versions/version.schema.js';
import { PluginsService } from '../plugins/plugins.service.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { invalidField } from '../validation/invalid-field.js';
import { listPageQuery, listPageSchema, readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { EventsService } from './events.service.js';
import { LeavesConfigUnchanged } from '../tenant-config/leaves-config-unchanged.decorator.js';

const replaySchema = z.strictObject({
  version: versionNumberSchema.optional(),
  again: z.boolean().optional().describe('Run it again even though a replay of it succeeded already.'),
});

const deadLetterViewSchema = invocationViewSchema.extend({
  resolvedBy: z.uuid().nullable().describe('The latest replay of its work that succeeded, if any (of it, of a replay of it, or of the dead letter it replays): replaying it again then needs `again: true`.'),
});

@ApiTags('dead letters')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly invocations: InvocationRepository,
    private readonly versions: PluginVersionRepository,
    private readonly events: EventsService,
    private readonly policies: TenantPolicyService,
    private readonly plugins: PluginsService,
    private readonly bindings: BindingRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Invocations whose transient failures (crashed executor, host failure) outlasted every retry' })
  @ZodResponse(200, listPageSchema(deadLetterViewSchema), 'One page of dead letters, the most recently dead-lettered first.')
  @ApiErrors(400)
  async list(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(z.strictObject(listPageQuery)) query: { limit: number; cursor?: ListPosition }) {
    const tenantId = principal.tenant.id;
    const page = await readListPage(query, (at) => this.invocations.listDeadLetters(tenantId, at), toInvocationView, (row) => ({ at: row.deadLetteredAt!, id: row.id }));
    const resolved = await this.invocations.successfulReplays(tenantId, page.items.map((item) => item.id));
    return { ...page, items: page.items.map((item) => ({ ...item, resolvedBy: resolved.get(item.id) ?? null })) };
  }

  @Post(':invocationId/replay')
  @LeavesConfigUnchanged()
  @HttpCode(202)
  @ApiOperation({ summary: 'Run a dead letter again, as a new invocation, optionally on another published version' })
  @ZodResponse(202, z.object({ invocationId: z.uuid(), replayOf: z.uuid(), version: z.number().int() }), 'Queued.')
  @ApiErrors(400, 404, 409, 422, 429, 503)
  async replay(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('invocationId', new IdParamPipe('dead letter')) invocationId: string,
    @ZodBody(replaySchema, { required: false }) body: z.output<typeof replaySchema>,
  ) {
    const tenantId = principal.tenant.id;
    const original = await this.invocations.findById(tenantId, invocationId);
    if (original === null || original.deadLetteredAt === null) throw notFound('dead letter');
    // Like a direct call: a deleted plugin no longer runs.
    await this.plugins.getLive(tenantId, original.pluginId);
    // Nor does what a deleted binding ran: its secrets are gone with it.
    if (original.bindingId !== null && (await this.bindings.findById(tenantId, original.bindingId)) === null) {
      throw new AppError(AppErrorCode.Conflict, 'The binding that ran it was deleted, and its secrets with it; call the plugin directly (POST /v1/plugins/:pluginId/invoke) instead.', {
        details: { bindingId: original.bindingId },
      });
    }
    const number = body.version ?? original.version;
    const version = await this.versions.find(tenantId, original.pluginId, number);
    if (version === null) {
      throw body.version === undefined ? new AppError(AppErrorCode.NotFound, `No version ${number} of this plugin.`) : invalidField('body', 'version', `the plugin has no version ${number}`);
    }
    if (version.status !== 'published' || heldForApproval(version.approvalStatus)) {
      throw new AppError(AppErrorCode.Conflict, `Version ${number} cannot run: it is ${version.status}, approval ${version.approvalStatus}.`);
    }
    if (!(version.exports as string[]).includes(original.exportName)) {
      throw invalidField('body', 'version', `version ${number} exports no function "${original.exportName}"`);
    }
    // A replay is a new run: it counts against the quotas like any other, and
    // the worker releases its in-flight slot when it finishes.
    const placeInLine = await this.events.admit(principal.tenant, 1, (await this.policies.forTenant(principal.tenant)).quotas);
    const replay = await this.events.recordAdmitted(tenantId, 1, async () => {
      const made = await this.invocations.replay(original, number, currentTraceId(), { actor: actorOf(principal) }, body.again ?? false);
      if ('replay' in made) return made.replay;
      // Deleted since it was read (retention, its plugin deleted): there is nothing to replay.
      if ('gone' in made) throw notFound('dead letter');
      if ('resolved' in made) {
        throw new AppError(AppErrorCode.Conflict, `A replay of this dead letter succeeded already: ${made.resolved}. Send again: true to run it once more.`, {
          details: { replay: made.resolved, reason: 'resolved' },
        });
      }
      // Thrown inside: what was admitted for it is given back.
      throw new AppError(AppErrorCode.Conflict, `A replay of this dead letter is still ${made.pending.status}: ${made.pending.id}. Replay it again once that one has finished.`, {
        details: { replay: made.pending.id, reason: 'pending' },
      });
    });
    await this.events.enqueue(tenantId, [replay.id], placeInLine, { recorded: `replay ${replay.id}` });
    return { invocationId: replay.id, replayOf: original.id, version: number };
  }
}
