import { currentTraceId } from '@airlock/telemetry';
import { Injectable } from '@nestjs/common';
import { type Invocation, InvocationRepository, PluginVersionRepository, type Tenant } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { heldForApproval } from '@airlock/execution';
import type { z } from 'zod';
import { EventsService } from '../events/events.service.js';
import { PluginsService } from '../plugins/plugins.service.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { invalidField } from '../validation/invalid-field.js';
import { isUnfinished } from './invocation.schema.js';
import type { invokeSchema } from './invoke.schema.js';

/** A wait polls the invocation's status this soon first, then less often, up to POLL_MAX_MS apart. */
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 250;

@Injectable()
export class InvokeService {
  constructor(
    private readonly plugins: PluginsService,
    private readonly versions: PluginVersionRepository,
    private readonly invocations: InvocationRepository,
    private readonly policies: TenantPolicyService,
    private readonly events: EventsService,
  ) {}

  /**
   * Queues one call of a plugin, and waits for its result up to `wait` ms, or until `abandoned` says its caller
   * went away (it would hear nothing: the call runs on, as queued).
   */
  async invoke(tenant: Tenant, pluginId: string, request: z.output<typeof invokeSchema>, abandoned?: AbortSignal): Promise<{ invocation: Invocation; finished: boolean }> {
    await this.plugins.getLive(tenant.id, pluginId);
    const version =
      request.version === undefined ? await this.versions.latestPublished(tenant.id, pluginId) : await this.versions.find(tenant.id, pluginId, request.version);
    if (version === null) {
      throw request.version === undefined
        ? new AppError(AppErrorCode.Conflict, 'The plugin has no published version.')
        : invalidField('body', 'version', `the plugin has no version ${request.version}`);
    }
    if (version.status !== 'published' || heldForApproval(version.approvalStatus)) {
      throw new AppError(AppErrorCode.Conflict, `Version ${version.number} cannot run: it is ${version.status}, approval ${version.approvalStatus}. Use .../test for drafts.`);
    }
    if (!(version.exports as string[]).includes(request.export)) {
      throw invalidField('body', 'export', `version ${version.number} exports no function "${request.export}"`);
    }
    const input = request.inputBase64 !== undefined ? new Uint8Array(Buffer.from(request.inputBase64, 'base64')) : new TextEncoder().encode(request.input ?? '');
    const { maxInputBytes, quotas } = await this.policies.forTenant(tenant);
    if (input.length > maxInputBytes) {
      throw new AppError(AppErrorCode.PayloadTooLarge, `The input is ${input.length} bytes; this tenant's plugins take at most ${maxInputBytes}.`);
    }
    const placeInLine = await this.events.admit(tenant, 1, quotas);
    const invocation = await this.events.recordAdmitted(tenant.id, 1, () =>
      this.invocations.createDirect({
        tenantId: tenant.id,
        pluginId,
        version: version.number,
        exportName: request.export,
        input,
        config: request.config,
        traceId: currentTraceId(),
      }),
    );
    await this.events.enqueue(tenant.id, [invocation.id], placeInLine, { recorded: `invocation ${invocation.id}` });
    return this.waitFor(tenant.id, invocation, request.wait, abandoned);
  }

  private async waitFor(tenantId: string, invocation: Invocation, waitMs: number, abandoned?: AbortSignal): Promise<{ invocation: Invocation; finished: boolean }> {
    if (waitMs <= 0) return { invocation, finished: false };
    const deadline = Date.now() + waitMs;
    // A quick call is answered within a few polls; a long one costs the database a poll every POLL_MAX_MS at most.
    for (let pause = POLL_FIRST_MS; Date.now() < deadline; pause = Math.min(POLL_MAX_MS, pause * 1.5)) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
      if (abandoned?.aborted === true) return { invocation, finished: false };
      // Only the status is polled; the whole invocation is read once it has finished.
      const [current] = await this.invocations.statuses(tenantId, { ids: [invocation.id] });
      if (current !== undefined && !isUnfinished(current.status)) break;
    }
    const current = (await this.invocations.findById(tenantId, invocation.id)) ?? invocation;
    return { invocation: current, finished: !isUnfinished(current.status) };
  }
}
