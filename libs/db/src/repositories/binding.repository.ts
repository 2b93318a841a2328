import { randomUUID } from 'node:crypto';
import { type Binding, Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { insertInTurn } from './tenant-turns.js';
import type { PlannedInvocation } from './event.repository.js';
import { createdAfter, type ListPage } from './list-position.js';

export interface BindingFields {
  event: string;
  pluginId: string;
  version: number | null;
  exportName: string;
  config: Prisma.InputJsonValue;
  /** Sealed by the API's SecretBox; null for none. */
  secrets: string | null;
  secretNames: string[];
  enabled: boolean;
}

/**
 * The version a binding `b` runs: its pinned one while published, else (following "latest") the newest published.
 * One fragment for planFor and runStates, so what a binding is said to run is what events run.
 */
const RUNNING_VERSION = Prisma.sql`
  SELECT number, approval_status, exports FROM plugin_versions v
   WHERE v.plugin_id = b.plugin_id AND v.tenant_id = b.tenant_id AND v.status = 'published'
     AND (b.version IS NULL OR v.number = b.version)
   ORDER BY v.number DESC
   LIMIT 1`;

/** What decides whether a binding runs when its event comes, beside its being enabled (see planFor). */
export interface BindingRunState {
  /** The version it would run (RUNNING_VERSION); null when there is none. */
  version: number | null;
  approvalStatus: string | null;
  /** Whether that version exports the bound function. */
  exportsIt: boolean;
}

/** A tenant's bindings: what runs on which event. */
export class BindingRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** An id for a binding about to be created. */
  static newId(): string {
    return randomUUID();
  }

  /**
   * Creates a binding unless the tenant has `max` already or its plugin is
   * deleted (null then); concurrent creates, and plugin deletions (see
   * PluginRepository.softDelete), take turns (`insertInTurn`). The id is the
   * caller's (`BindingRepository.newId()`): its secrets are sealed for it.
   */
  async createWithin(tenantId: string, id: string, fields: BindingFields, max: number): Promise<Binding | null> {
    const inserted = await insertInTurn(
      this.prisma,
      'bindings',
      tenantId,
      this.prisma.$queryRaw`
        INSERT INTO bindings (id, tenant_id, event, plugin_id, version, export_name, config, secrets, secret_names, enabled, updated_at)
        SELECT ${id}::uuid, ${tenantId}::uuid, ${fields.event}, ${fields.pluginId}::uuid, ${fields.version}::int, ${fields.exportName},
               ${JSON.stringify(fields.config)}::jsonb, ${fields.secrets}::text, ${JSON.stringify(fields.secretNames)}::jsonb, ${fields.enabled}, now()
         WHERE (SELECT count(*) FROM bindings WHERE tenant_id = ${tenantId}::uuid) < ${max}
           AND EXISTS (SELECT 1 FROM plugins WHERE id = ${fields.pluginId}::uuid AND tenant_id = ${tenantId}::uuid AND deleted_at IS NULL)
        RETURNING id`,
    );
    return !inserted ? null : this.prisma.binding.findUniqueOrThrow({ where: { id } });
  }

  findById(tenantId: string, id: string): Promise<Binding | null> {
    return this.prisma.binding.findFirst({ where: { id, tenantId } });
  }

  /**
   * The tenant's bindings, oldest first; a page of them when `page` is given (the API's list: a binding's config may
   * be megabytes, so a tenant's are read a page at a time).
   */
  list(tenantId: string, filter: { event?: string | undefined; pluginId?: string | undefined }, page?: ListPage): Promise<Binding[]> {
    return this.prisma.binding.findMany({
      where: { tenantId, ...(filter.event ? { event: filter.event } : {}), ...(filter.pluginId ? { pluginId: filter.pluginId } : {}), ...createdAfter(page?.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...(page === undefined ? {} : { take: page.take }),
    });
  }

  /** The event types the tenant has bindings of, enabled or not (at most one per binding: 500). */
  async boundEventTypes(tenantId: string): Promise<string[]> {
    const rows = await this.prisma.binding.findMany({ where: { tenantId }, select: { event: true }, distinct: ['event'] });
    return rows.map((row) => row.event);
  }

  /**
   * What runs for an event type, in one query: each enabled binding of the type
   * with the version it runs (its pinned one, or the newest published), when that
   * version is published, cleared by review, and exports the bound function.
   */
  async planFor(tenantId: string, eventType: string): Promise<PlannedInvocation[]> {
    const rows = await this.prisma.$queryRaw<Array<{ binding_id: string; plugin_id: string; version: number; export_name: string; config: Prisma.JsonValue }>>`
      SELECT b.id AS binding_id, b.plugin_id, v.number AS version, b.export_name, b.config
        FROM bindings b
        JOIN LATERAL (${RUNNING_VERSION}) v ON true
       WHERE b.tenant_id = ${tenantId}::uuid AND b.event = ${eventType} AND b.enabled
         AND v.approval_status IN ('not_required', 'approved') AND v.exports ? b.export_name
       ORDER BY b.created_at, b.id`;
    return rows.map((row) => ({
      bindingId: row.binding_id,
      pluginId: row.plugin_id,
      version: row.version,
      exportName: row.export_name,
      config: row.config as Prisma.InputJsonValue,
    }));
  }

  /** For each of these bindings of the tenant, the version it would run and whether that can run it (see planFor). */
  async runStates(tenantId: string, ids: readonly string[]): Promise<Map<string, BindingRunState>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<Array<{ id: string; number: number | null; approval_status: string | null; exports_it: boolean | null }>>`
      SELECT b.id, v.number, v.approval_status, v.exports ? b.export_name AS exports_it
        FROM bindings b
        LEFT JOIN LATERAL (${RUNNING_VERSION}) v ON true
       WHERE b.tenant_id = ${tenantId}::uuid AND b.id IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})`;
    return new Map(rows.map((row) => [row.id, { version: row.number, approvalStatus: row.approval_status, exportsIt: row.exports_it === true }]));
  }

  /**
   * Writes `fields` over the binding only while it is still as `seen` (every
   * field a change can touch): a change made meanwhile is never overwritten
   * unseen. Null when the binding changed or went away since it was read.
   */
  async updateIfUnchanged(seen: Binding, fields: Omit<BindingFields, 'pluginId'>): Promise<Binding | null> {
    const updated = await this.prisma.$queryRaw<Array<{ id: string }>>`
      UPDATE bindings
         SET event = ${fields.event}, version = ${fields.version}::int, export_name = ${fields.exportName}, config = ${JSON.stringify(fields.config)}::jsonb,
             secrets = ${fields.secrets}::text, secret_names = ${JSON.stringify(fields.secretNames)}::jsonb, enabled = ${fields.enabled}, updated_at = now()
       WHERE id = ${seen.id}::uuid AND tenant_id = ${seen.tenantId}::uuid
         AND event = ${seen.event} AND version IS NOT DISTINCT FROM ${seen.version}::int AND export_name = ${seen.exportName}
         AND config = ${JSON.stringify(seen.config)}::jsonb AND secrets IS NOT DISTINCT FROM ${seen.secrets}::text
         AND secret_names = ${JSON.stringify(seen.secretNames)}::jsonb AND enabled = ${seen.enabled}
      RETURNING id`;
    return updated.length === 0 ? null : this.prisma.binding.findUnique({ where: { id: seen.id } });
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.binding.deleteMany({ where: { id, tenantId } });
    return count > 0;
  }
}
