import { Injectable } from '@nestjs/common';
import { type ListPage, type Plugin, PluginRepository, type Tenant } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { notFound } from '../validation/id-param.pipe.js';

/** The answer to a change of a deleted plugin (checked first, and again where a delete may have come meanwhile). */
export const pluginDeleted = () => new AppError(AppErrorCode.Conflict, 'The plugin is deleted.');

@Injectable()
export class PluginsService {
  constructor(
    private readonly plugins: PluginRepository,
    private readonly policies: TenantPolicyService,
  ) {}

  async create(tenant: Tenant, input: { name: string; description?: string | undefined }): Promise<Plugin> {
    const tenantId = tenant.id;
    const { maxPlugins } = (await this.policies.forTenant(tenant)).quotas;
    const created = await this.plugins.createWithin(tenantId, input, maxPlugins);
    if (created !== null) return created;
    // Refused: say why (both checks ran under the tenant's lock; this reads what stopped it).
    if ((await this.plugins.findLiveByName(tenantId, input.name)) !== null) {
      throw new AppError(AppErrorCode.Conflict, `A plugin named "${input.name}" already exists.`, { details: { field: 'name' } });
    }
    throw new AppError(AppErrorCode.LimitReached, `The tenant has reached its limit of ${maxPlugins} plugins; delete one first.`, {
      details: { limit: 'maxPlugins', max: maxPlugins },
    });
  }

  list(tenantId: string, includeDeleted: boolean, page: ListPage): Promise<Plugin[]> {
    return this.plugins.list(tenantId, includeDeleted, page);
  }

  async get(tenantId: string, id: string): Promise<Plugin> {
    const plugin = await this.plugins.findById(tenantId, id);
    if (plugin === null) throw notFound('plugin');
    return plugin;
  }

  /** A plugin that can take new versions and bindings: the tenant's, and not deleted. */
  async getLive(tenantId: string, id: string): Promise<Plugin> {
    const plugin = await this.get(tenantId, id);
    if (plugin.deletedAt !== null) throw pluginDeleted();
    return plugin;
  }

  /** Soft-deletes (versions stay readable). Refused while bindings are enabled, unless forced (then they go too). */
  /** Deletes a plugin; `deleted` is false when it was deleted already (by this request's twin, say). */
  async delete(tenantId: string, id: string, force: boolean): Promise<{ plugin: Plugin; deleted: boolean }> {
    const plugin = await this.get(tenantId, id);
    if (plugin.deletedAt !== null) return { plugin, deleted: false };
    const deleted = await this.plugins.softDelete(tenantId, id, new Date(), force);
    if ('plugin' in deleted) return deleted;
    const live = deleted.enabledBindings;
    throw new AppError(
      AppErrorCode.Conflict,
      `The plugin has ${live} enabled binding${live === 1 ? '' : 's'}; delete them first or pass ?force=true to delete them with it.`,
      { details: { enabledBindings: live } },
    );
  }
}
