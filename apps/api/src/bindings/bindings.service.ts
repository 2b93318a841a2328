import { Injectable } from '@nestjs/common';
import { type Binding, BindingRepository, type BindingRunState, type ListPage, PluginVersionRepository, type Tenant } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { z } from 'zod';
import { PluginsService } from '../plugins/plugins.service.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { heldForApproval, reviewPolicy, SecretBox, sealedFor } from '@airlock/execution';
import { ModuleAdmissions } from '../versions/module-admissions.js';
import { type TestCall, type TestResult, VersionTestsRunner } from '../versions/version-tests.runner.js';
import { notFound } from '../validation/id-param.pipe.js';
import type { createBindingSchema, updateBindingSchema } from './binding.schema.js';

/** Bindings one tenant may have (each runs on every event of its type; the list is read whole). */
const MAX_BINDINGS = 500;
/** How often an update starts over on a binding that other changes keep changing under it. */
const MAX_UPDATE_ATTEMPTS = 10;

type BindingInput = z.output<typeof createBindingSchema>;

@Injectable()
export class BindingsService {
  constructor(
    private readonly bindings: BindingRepository,
    private readonly versions: PluginVersionRepository,
    private readonly plugins: PluginsService,
    private readonly secretBox: SecretBox,
    private readonly policies: TenantPolicyService,
    private readonly runner: VersionTestsRunner,
    private readonly admissions: ModuleAdmissions,
  ) {}

  /**
   * Runs the binding as an event would: the version it resolves to, its export,
   * its config with its secrets (secrets are handed to the plugin as config
   * entries, at run time only), under the tenant's policy plus what an admin approved.
   */
  async test(tenant: Tenant, id: string, call: Omit<TestCall, 'name' | 'export' | 'config'>): Promise<TestResult> {
    const { binding, resolvedVersion } = await this.get(tenant.id, id);
    if (resolvedVersion === null) throw new AppError(AppErrorCode.Conflict, 'The binding follows "latest" and the plugin has no published version.');
    const version = await this.versions.findWithWasm(tenant.id, binding.pluginId, resolvedVersion);
    if (version === null) throw notFound('version');
    // As events would: an unpublished version does not run from a binding (events plan nothing for it).
    if (version.status !== 'published') {
      throw new AppError(AppErrorCode.Conflict, `Version ${version.number} cannot run from a binding: it is ${version.status}. Publish it, or use .../versions/${version.number}/test.`, {
        details: { version: version.number, status: version.status },
      });
    }
    // As events would: a version whose permissions are under review or refused does not run (its tests use .../versions/:n/test).
    if (heldForApproval(version.approvalStatus)) {
      throw new AppError(AppErrorCode.Conflict, `Version ${version.number} cannot run from a binding: approval ${version.approvalStatus}. Use .../versions/${version.number}/test meanwhile.`, {
        details: { version: version.number, approvalStatus: version.approvalStatus },
      });
    }
    const tenantPolicy = await this.policies.forTenant(tenant);
    const policy = version.approvalStatus === 'approved' ? reviewPolicy(tenantPolicy) : tenantPolicy;
    const artifact = await this.admissions.admitOrThrow(version.wasm, policy);
    const config = { ...(binding.config as Record<string, string>), ...this.secretsOf(binding) };
    const [result] = await this.runner.run(artifact, [{ call: { ...call, name: `binding ${binding.id}`, export: binding.exportName, config } }], {
      tenantId: tenant.id,
      pluginId: binding.pluginId,
      policy,
    });
    return result!;
  }

  /** Secrets sealed for the binding `bindingId` of `tenantId`: they open for that binding only. */
  private sealed(tenantId: string, bindingId: string, secrets: Record<string, string>): { secrets: string | null; secretNames: string[] } {
    const names = Object.keys(secrets).sort();
    if (names.length === 0) return { secrets: null, secretNames: [] };
    return { secrets: this.secretBox.seal(JSON.stringify(secrets), sealedFor.bindingSecrets(tenantId, bindingId)), secretNames: names };
  }

  /**
   * The binding's secrets in clear, for the call that runs it; never for a response. What keeps them shut (a key this
   * deployment no longer holds, damage, secrets moved from another binding) is told as a 409 without the key's id.
   */
  secretsOf(binding: Binding): Record<string, string> {
    if (binding.secrets === null) return {};
    let opened: string;
    try {
      opened = this.secretBox.open(binding.secrets, sealedFor.bindingSecrets(binding.tenantId, binding.id));
    } catch (error) {
      throw new AppError(AppErrorCode.Conflict, "The binding's secrets cannot be opened (sealed with a key this deployment no longer holds, or damaged): set them again.", {
        details: { reason: 'secrets_unopenable' },
        cause: error,
      });
    }
    return JSON.parse(opened) as Record<string, string>;
  }

  async create(tenantId: string, input: BindingInput): Promise<BindingWithState> {
    refuseSharedNames(input.config, input.secrets);
    await this.check(tenantId, input);
    const id = BindingRepository.newId();
    const binding = await this.bindings.createWithin(
      tenantId,
      id,
      {
        event: input.event,
        pluginId: input.pluginId,
        version: input.version === 'latest' ? null : input.version,
        exportName: input.export,
        config: input.config,
        ...this.sealed(tenantId, id, input.secrets),
        enabled: input.enabled,
      },
      MAX_BINDINGS,
    );
    if (binding === null) {
      // Deleted since it was checked, or the tenant is at its limit.
      await this.plugins.getLive(tenantId, input.pluginId);
      throw new AppError(AppErrorCode.LimitReached, `The tenant has reached its limit of ${MAX_BINDINGS} bindings; delete one first.`, {
        details: { limit: 'maxBindings', max: MAX_BINDINGS },
      });
    }
    return this.withState(tenantId, binding);
  }

  async list(tenantId: string, filter: { event?: string | undefined; pluginId?: string | undefined }, page: ListPage) {
    const bindings = await this.bindings.list(tenantId, filter, page);
    const states = await this.bindings.runStates(tenantId, bindings.map((binding) => binding.id));
    return bindings.map((binding) => withRunState(binding, states.get(binding.id)));
  }

  async get(tenantId: string, id: string): Promise<BindingWithState> {
    const binding = await this.bindings.findById(tenantId, id);
    if (binding === null) throw notFound('binding');
    return this.withState(tenantId, binding);
  }

  private async withState(tenantId: string, binding: Binding): Promise<BindingWithState> {
    return withRunState(binding, (await this.bindings.runStates(tenantId, [binding.id])).get(binding.id));
  }

  /**
   * Applies the fields given over the binding as it is now. What it will run is
   * checked again when that changes (another version or export) or when it is
   * enabled again; a change of config, secrets or event type alone, or disabling
   * it, is not held up by its version having been unpublished since. Changes
   * sent at once are applied one after the other, none lost: one that finds
   * the binding changed since it read it starts over.
   */
  async update(tenantId: string, id: string, changes: z.output<typeof updateBindingSchema>) {
    for (let attempt = 1; ; attempt++) {
      const { binding } = await this.get(tenantId, id);
      const next: Omit<BindingInput, 'secrets'> = {
        event: changes.event ?? binding.event,
        pluginId: binding.pluginId,
        version: changes.version ?? binding.version ?? 'latest',
        export: changes.export ?? binding.exportName,
        config: changes.config ?? (binding.config as Record<string, string>),
        enabled: changes.enabled ?? binding.enabled,
      };
      const secrets =
        changes.secrets === undefined
          ? { secrets: binding.secrets, secretNames: binding.secretNames as string[] }
          : this.sealed(tenantId, binding.id, changes.secrets ?? {});
      // The field named is the one this request sent: config alone against the secrets kept, else the secrets.
      refuseSharedNames(next.config, Object.fromEntries(secrets.secretNames.map((name) => [name, ''])), changes.secrets === undefined ? 'config' : 'secrets');
      const rebinds = next.version !== (binding.version ?? 'latest') || next.export !== binding.exportName || (next.enabled && !binding.enabled);
      // A version that lacks the export is the version's fault when only the version was changed.
      if (rebinds) await this.check(tenantId, next, changes.version !== undefined && changes.export === undefined ? 'version' : 'export');
      const updated = await this.bindings.updateIfUnchanged(binding, {
        event: next.event,
        version: next.version === 'latest' ? null : next.version,
        exportName: next.export,
        config: next.config,
        ...secrets,
        enabled: next.enabled,
      });
      if (updated !== null) return this.withState(tenantId, updated);
      if (attempt === MAX_UPDATE_ATTEMPTS) {
        throw new AppError(AppErrorCode.Conflict, 'The binding kept changing while this change was applied; send it again.');
      }
    }
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.bindings.delete(tenantId, id))) throw notFound('binding');
  }

  /**
   * A binding must point at a live plugin of the tenant, at a published version
   * (or "latest", when one is published), whose module exports the function.
   */
  private async check(tenantId: string, input: Omit<BindingInput, 'secrets'>, exportMissingBlames: 'export' | 'version' = 'export'): Promise<void> {
    await this.plugins.getLive(tenantId, input.pluginId);
    const version =
      input.version === 'latest'
        ? await this.versions.latestPublished(tenantId, input.pluginId)
        : await this.versions.find(tenantId, input.pluginId, input.version);
    if (version === null) {
      throw input.version === 'latest'
        ? new AppError(AppErrorCode.Conflict, 'The plugin has no published version yet: publish one, or bind a version number.', { details: { field: 'version' } })
        : new AppError(AppErrorCode.ValidationFailed, `Invalid request body: version: the plugin has no version ${input.version}`, {
            details: { issues: [{ field: 'version', message: `no version ${input.version}` }] },
          });
    }
    if (version.status !== 'published') {
      throw new AppError(AppErrorCode.Conflict, `Version ${version.number} is ${version.status}; only published versions can be bound.`, { details: { field: 'version' } });
    }
    if (heldForApproval(version.approvalStatus)) {
      throw new AppError(
        AppErrorCode.Conflict,
        version.approvalStatus === 'pending'
          ? `Version ${version.number} asks for new permissions and awaits an admin's approval.`
          : `Version ${version.number} was refused by an admin: its permissions are not granted.`,
        { details: { field: 'version', approvalStatus: version.approvalStatus } },
      );
    }
    if (!(version.exports as string[]).includes(input.export)) {
      const exports = (version.exports as string[]).join(', ');
      const message =
        exportMissingBlames === 'export' ? `not exported; exports: ${exports}` : `version ${version.number} exports no function "${input.export}"; it exports: ${exports}`;
      throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: ${exportMissingBlames}: version ${version.number} exports no function "${input.export}"`, {
        details: { issues: [{ field: exportMissingBlames, message }] },
      });
    }
  }
}

/** Secrets reach the plugin as config entries, so a name cannot be both; `blamed` is the field the request sent. */
function refuseSharedNames(config: Record<string, string>, secrets: Record<string, string>, blamed: 'config' | 'secrets' = 'secrets'): void {
  const shared = Object.keys(secrets).filter((name) => Object.hasOwn(config, name));
  if (shared.length === 0) return;
  const [other, message] = blamed === 'secrets' ? ['config', 'a config entry has the same name'] : ['secrets', 'a secret of this binding has the same name'];
  throw new AppError(AppErrorCode.ValidationFailed, `Invalid request body: ${blamed}: ${shared.join(', ')} also in ${other}`, {
    details: { issues: shared.map((name) => ({ field: `${blamed}.${name}`, message })) },
  });
}

/** A binding with what it runs now: the version it names (or the newest published), and why events run nothing of it. */
export interface BindingWithState {
  binding: Binding;
  /** Its pinned version, or the newest published one it follows; null when "latest" has none. */
  resolvedVersion: number | null;
  /** Why events of its type run nothing of it now, in words; null while they run it. */
  stoppedBecause: string | null;
}

/** Says in words what planFor decides for the binding (its RUNNING_VERSION, enabled, cleared by review, exporting). */
function withRunState(binding: Binding, state: BindingRunState | undefined): BindingWithState {
  return { binding, resolvedVersion: binding.version ?? state?.version ?? null, stoppedBecause: whyStopped(binding, state) };
}

/** Why events of the binding's type run nothing of it, or null when they run it. */
function whyStopped(binding: Binding, state: BindingRunState | undefined): string | null {
  if (!binding.enabled) return 'the binding is disabled';
  if (state === undefined || state.version === null) {
    return binding.version === null ? 'its plugin has no published version' : `version ${binding.version} is not published`;
  }
  if (state.approvalStatus === 'pending') return `version ${state.version} awaits an admin's approval of its permissions`;
  if (state.approvalStatus === 'rejected') return `version ${state.version}'s permissions were refused by an admin`;
  if (!state.exportsIt) return `version ${state.version} exports no function "${binding.exportName}"`;
  return null;
}
