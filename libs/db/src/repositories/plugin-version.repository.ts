import { Prisma, type PluginVersion, type PrismaClient } from '../generated/prisma/client.js';
import { createdAfter, type ListPage } from './list-position.js';
import { takeTurn } from './tenant-turns.js';

export interface NewPluginVersion {
  tenantId: string;
  pluginId: string;
  sha256: string;
  wasm: Uint8Array;
  exports: string[];
  imports: Prisma.InputJsonValue;
  permissions: string[];
  sourceLanguage?: string | undefined;
  source?: Prisma.InputJsonValue | undefined;
  tests: Prisma.InputJsonValue;
  createdBy: string;
}

/** What a version with `permissions` must have reviewed, measured against `previous` (null: no baseline). */
export type ReviewAgainst = (permissions: readonly string[], previous: readonly string[] | null) => Array<{ permission: string; reason: string }>;

/** Versions whose permissions stand approved: published now or before, and not waiting for or refused approval. */
const SANCTIONED = { status: { in: ['published', 'unpublished'] }, approvalStatus: { in: ['not_required', 'approved'] } };

/** Versions without their module bytes, for lists and details. */
export type PluginVersionSummary = Omit<PluginVersion, 'wasm'>;

const WITHOUT_WASM = { wasm: false } as const;

/** Immutable plugin versions. Content never changes once written; only the publication state does. */
export class PluginVersionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Stores a new version numbered after the plugin's last one, or returns the
   * existing version with the same bytes; `limitReached` when the plugin has
   * `maxVersions` already. A plugin's uploads take turns (see `takeTurn`), so
   * numbers, the limit and one version per content hold under concurrent ones.
   * In its turn, the version is reviewed (`review`) against the newest version
   * whose permissions stand approved, so an approval withdrawn meanwhile (which
   * takes the same turn) is never the baseline of a version made after it.
   */
  createOrFind(version: NewPluginVersion, maxVersions: number, review: ReviewAgainst): Promise<{ version: PluginVersionSummary; created: boolean } | { limitReached: true }> {
    return this.prisma.$transaction(
      async (tx) => {
        await takeTurn(tx, 'versions', version.pluginId);
        const existing = await tx.pluginVersion.findFirst({ where: { tenantId: version.tenantId, pluginId: version.pluginId, sha256: version.sha256 }, omit: WITHOUT_WASM });
        if (existing !== null) return { version: existing, created: false };
        const last = await tx.pluginVersion.aggregate({ where: { pluginId: version.pluginId }, _max: { number: true }, _count: true });
        if (last._count >= maxVersions) return { limitReached: true as const };
        const baseline = await sanctionedBefore(tx, version.pluginId);
        const requested = review(version.permissions, baseline);
        const approval = requested.length === 0 ? undefined : { requested: requested as Prisma.InputJsonValue, previous: baseline ?? [] };
        const created = await tx.pluginVersion.create({
          data: {
            ...version,
            approvalStatus: approval === undefined ? 'not_required' : 'pending',
            ...(approval === undefined ? {} : { approval: { create: { tenantId: version.tenantId, ...approval } } }),
            wasm: version.wasm as Uint8Array<ArrayBuffer>,
            sizeBytes: version.wasm.length,
            number: (last._max.number ?? 0) + 1,
            source: version.source ?? Prisma.DbNull,
            sourceLanguage: version.sourceLanguage ?? null,
          },
          omit: WITHOUT_WASM,
        });
        return { version: created, created: true };
      },
      // Uploads of one plugin wait for each other's turn: room for several modules of a few MB to be written first.
      { maxWait: 10_000, timeout: 30_000 },
    );
  }

  findBySha(tenantId: string, pluginId: string, sha256: string): Promise<PluginVersionSummary | null> {
    return this.prisma.pluginVersion.findFirst({ where: { tenantId, pluginId, sha256 }, omit: WITHOUT_WASM });
  }

  find(tenantId: string, pluginId: string, number: number): Promise<PluginVersionSummary | null> {
    return this.prisma.pluginVersion.findFirst({ where: { tenantId, pluginId, number }, omit: WITHOUT_WASM });
  }

  findWithWasm(tenantId: string, pluginId: string, number: number): Promise<PluginVersion | null> {
    return this.prisma.pluginVersion.findFirst({ where: { tenantId, pluginId, number } });
  }

  /** By number, from the one after `afterNumber`. */
  list(tenantId: string, pluginId: string, page: { take: number; afterNumber?: number | undefined }): Promise<PluginVersionSummary[]> {
    return this.prisma.pluginVersion.findMany({
      where: { tenantId, pluginId, ...(page.afterNumber === undefined ? {} : { number: { gt: page.afterNumber } }) },
      orderBy: { number: 'asc' },
      take: page.take,
      omit: WITHOUT_WASM,
    });
  }

  /** The newest published version, which bindings to "latest" follow. */
  /** The newest published version (below version `below`, when given). */
  latestPublished(tenantId: string, pluginId: string, below?: number): Promise<PluginVersionSummary | null> {
    return this.prisma.pluginVersion.findFirst({
      where: { tenantId, pluginId, status: 'published', ...(below === undefined ? {} : { number: { lt: below } }) },
      orderBy: { number: 'desc' },
      omit: WITHOUT_WASM,
    });
  }

  /**
   * The approval request of each version that has one, with its plugin, for
   * admins, oldest first. A deleted plugin's requests that still wait are left
   * out: nothing of it can run or be bound any more, so there is nothing to decide.
   */
  listApprovals(status: string | undefined, page: ListPage) {
    const undecidedOfDeleted = { status: 'pending', version: { plugin: { deletedAt: { not: null } } } };
    return this.prisma.approval.findMany({
      where: { ...(status === undefined ? {} : { status }), NOT: undecidedOfDeleted, ...createdAfter(page.after) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.take,
      include: { version: { select: { number: true, pluginId: true, permissions: true, plugin: { select: { name: true } } } } },
    });
  }

  /**
   * Records an admin's decision on the approval and its version, together: on
   * a pending request; on one decided already only with `revise` (the same
   * decision again changes nothing). Two admins deciding at once: the first
   * decides, the second gets `conflict` with the decision it would overwrite.
   * Null when there is no such approval.
   */
  async decide(approvalId: string, decision: 'approved' | 'rejected', note: string | undefined, at: Date, revise: boolean, requestedAgainst: ReviewAgainst) {
    const withVersion = { version: { select: { number: true, pluginId: true, permissions: true, plugin: { select: { name: true } } } } } as const;
    return this.prisma.$transaction(
      async (tx) => {
        // A decision takes its plugin's upload turn first, as uploads do, then the request's row: one lock order, so
        // decisions on one plugin never deadlock, and no version is reviewed against an approval being withdrawn.
        const [target] = await tx.$queryRaw<Array<{ plugin_id: string }>>`
          SELECT v.plugin_id FROM approvals a JOIN plugin_versions v ON v.id = a.version_id WHERE a.id = ${approvalId}::uuid`;
        if (target === undefined) return null;
        await takeTurn(tx, 'versions', target.plugin_id);
        // Locked while it is decided: what it was before is what this decision replaces.
        const [locked] = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM approvals WHERE id = ${approvalId}::uuid FOR UPDATE`;
        if (locked === undefined) return null;
        const previous = locked.status;
        const applies = revise ? previous !== decision : previous === 'pending';
        let reReviewed: number[] = [];
        if (applies) {
          const { versionId } = await tx.approval.update({ where: { id: approvalId }, data: { status: decision, note: note ?? null, decidedAt: at } });
          await tx.pluginVersion.update({ where: { id: versionId }, data: { approvalStatus: decision } });
          if (previous === 'approved' && decision === 'rejected') reReviewed = await this.reReviewAfter(tx, versionId, requestedAgainst);
        }
        const approval = await tx.approval.findUniqueOrThrow({ where: { id: approvalId }, include: withVersion });
        return { approval, previous, changed: applies, conflict: !applies && previous !== decision, reReviewed };
      },
      // It may wait for an upload of several MB to be written (see createOrFind).
      { maxWait: 10_000, timeout: 30_000 },
    );
  }

  /**
   * A version's approval was withdrawn: the plugin's later versions are
   * reviewed again, in order, against the versions that still stand approved.
   * One let through because it matched the withdrawn approval (or a version
   * that did), or approved or awaiting a decision on a request that did not
   * list what it only had by matching, waits for an admin again, its request
   * now listing everything new; meanwhile it does not run. Returns their
   * numbers. Called in the plugin's upload turn, so no version is made against
   * the withdrawn approval while this looks.
   */
  private async reReviewAfter(tx: Prisma.TransactionClient, versionId: string, requestedAgainst: ReviewAgainst): Promise<number[]> {
    const withdrawn = await tx.pluginVersion.findUniqueOrThrow({ where: { id: versionId }, select: { tenantId: true, pluginId: true, number: true } });
    const later = await tx.pluginVersion.findMany({
      where: { pluginId: withdrawn.pluginId, number: { gt: withdrawn.number }, approvalStatus: { in: ['not_required', 'approved', 'pending'] } },
      orderBy: { number: 'asc' },
      select: { id: true, number: true, permissions: true, status: true, approvalStatus: true, approval: { select: { id: true, requested: true } } },
    });
    let baseline = await sanctionedBefore(tx, withdrawn.pluginId, withdrawn.number);
    const reReviewed: number[] = [];
    for (const version of later) {
      const permissions = version.permissions as string[];
      const listed = (version.approval?.requested ?? []) as Array<{ permission: string; reason: string }>;
      const unlisted = requestedAgainst(permissions, baseline).filter((request) => !listed.some((known) => known.permission === request.permission));
      if (unlisted.length > 0) {
        const request = { requested: [...listed, ...unlisted] as Prisma.InputJsonValue, previous: baseline ?? [], status: 'pending', decidedAt: null };
        if (version.approval === null) await tx.approval.create({ data: { tenantId: withdrawn.tenantId, versionId: version.id, ...request } });
        else await tx.approval.update({ where: { id: version.approval.id }, data: request });
        await tx.pluginVersion.update({ where: { id: version.id }, data: { approvalStatus: 'pending' } });
        reReviewed.push(version.number);
      } else if (version.approvalStatus !== 'pending' && version.status !== 'draft') {
        baseline = permissions;
      }
    }
    return reReviewed;
  }

  /**
   * Publishes or unpublishes a version of a plugin not deleted; null when its
   * plugin was deleted meanwhile (a publish that ran its tests while a delete
   * went through must not leave the deleted plugin with a new published version).
   * `changed` is false when the version was in that status already, so that of
   * several requests at once only one is the change (and is audited).
   */
  async setStatus(tenantId: string, id: string, status: 'published' | 'unpublished', at: Date): Promise<{ version: PluginVersionSummary; changed: boolean } | null> {
    const live = { id, tenantId, plugin: { deletedAt: null } };
    const { count } = await this.prisma.pluginVersion.updateMany({
      where: { ...live, status: { not: status } },
      data: { status, ...(status === 'published' ? { publishedAt: at } : {}) },
    });
    const version = await this.prisma.pluginVersion.findFirst({ where: live, omit: WITHOUT_WASM });
    return version === null ? null : { version, changed: count > 0 };
  }
}

/** The permissions of the newest version (numbered below `below`, when given) whose permissions stand approved; null when none. */
async function sanctionedBefore(tx: Prisma.TransactionClient, pluginId: string, below?: number): Promise<string[] | null> {
  const version = await tx.pluginVersion.findFirst({
    where: { pluginId, ...(below === undefined ? {} : { number: { lt: below } }), ...SANCTIONED },
    orderBy: { number: 'desc' },
    select: { permissions: true },
  });
  return version === null ? null : (version.permissions as string[]);
}
