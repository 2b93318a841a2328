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
  /** Permissions that need an admin's approval ([{permission, reason}]); the version waits for it. */
  approval?: { requested: Prisma.InputJsonValue; previous: Prisma.InputJsonValue } | undefined;
}

/** What a version with `permissions` must have reviewed, measured against `previous` (null: no baseline). */
export type ReviewAgainst = (permissions: readonly string[], previous: readonly string[] | null) => Array<{ permission: string; reason: string }>;

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
   */
  createOrFind(version: NewPluginVersion, maxVersions: number): Promise<{ version: PluginVersionSummary; created: boolean } | { limitReached: true }> {
    return this.prisma.$transaction(
      async (tx) => {
        await takeTurn(tx, 'versions', version.pluginId);
        const existing = await tx.pluginVersion.findFirst({ where: { tenantId: version.tenantId, pluginId: version.pluginId, sha256: version.sha256 }, omit: WITHOUT_WASM });
        if (existing !== null) return { version: existing, created: false };
        const last = await tx.pluginVersion.aggregate({ where: { pluginId: version.pluginId }, _max: { number: true }, _count: true });
        if (last._count >= maxVersions) return { limitReached: true as const };
        const { approval, ...fields } = version;
        const created = await tx.pluginVersion.create({
          data: {
            ...fields,
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
  latestPublished(tenantId: string, pluginId: string): Promise<PluginVersionSummary | null> {
    return this.prisma.pluginVersion.findFirst({
      where: { tenantId, pluginId, status: 'published' },
      orderBy: { number: 'desc' },
      omit: WITHOUT_WASM,
    });
  }

  /**
   * The newest version whose permissions stand approved: published now or
   * before, and not waiting for or refused approval. A new version is reviewed
   * against it, so neither publishing a version still under review nor
   * unpublishing every version lets a permission in unreviewed.
   */
  latestSanctioned(tenantId: string, pluginId: string): Promise<PluginVersionSummary | null> {
    return this.prisma.pluginVersion.findFirst({
      where: { tenantId, pluginId, status: { in: ['published', 'unpublished'] }, approvalStatus: { in: ['not_required', 'approved'] } },
      orderBy: { number: 'desc' },
      omit: WITHOUT_WASM,
    });
  }

  /** The approval request of each version that has one, with its plugin, for admins. */
  /** Oldest first. */
  listApprovals(status: string | undefined, page: ListPage) {
    return this.prisma.approval.findMany({
      where: { ...(status === undefined ? {} : { status }), ...createdAfter(page.after) },
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
  async decide(approvalId: string, decision: 'approved' | 'rejected', note: string | undefined, at: Date, revise = false, requestedAgainst: ReviewAgainst = () => []) {
    const withVersion = { version: { select: { number: true, pluginId: true, permissions: true, plugin: { select: { name: true } } } } } as const;
    return this.prisma.$transaction(async (tx) => {
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
    });
  }

  /**
   * A version's approval was withdrawn: later versions of its plugin that were
   * let through without review because they matched it (or a version that did)
   * are compared again, in order, with the versions that still stand
   * sanctioned. Those that now ask for something new wait for an admin like any
   * new version, and stop running meanwhile. Returns their numbers.
   */
  private async reReviewAfter(tx: Prisma.TransactionClient, versionId: string, requestedAgainst: ReviewAgainst): Promise<number[]> {
    const withdrawn = await tx.pluginVersion.findUniqueOrThrow({ where: { id: versionId }, select: { tenantId: true, pluginId: true, number: true } });
    const standing = { status: { in: ['published', 'unpublished'] }, approvalStatus: { in: ['not_required', 'approved'] } };
    const before = await tx.pluginVersion.findFirst({
      where: { pluginId: withdrawn.pluginId, number: { lt: withdrawn.number }, ...standing },
      orderBy: { number: 'desc' },
      select: { permissions: true },
    });
    const later = await tx.pluginVersion.findMany({
      where: { pluginId: withdrawn.pluginId, number: { gt: withdrawn.number }, approvalStatus: { in: ['not_required', 'approved'] } },
      orderBy: { number: 'asc' },
      select: { id: true, number: true, permissions: true, status: true, approvalStatus: true },
    });
    let baseline = before === null ? null : (before.permissions as string[]);
    const reReviewed: number[] = [];
    for (const version of later) {
      const permissions = version.permissions as string[];
      const requested = version.approvalStatus === 'not_required' ? requestedAgainst(permissions, baseline) : [];
      if (requested.length > 0) {
        await tx.pluginVersion.update({ where: { id: version.id }, data: { approvalStatus: 'pending' } });
        await tx.approval.create({ data: { tenantId: withdrawn.tenantId, versionId: version.id, requested: requested as never, previous: baseline ?? [] } });
        reReviewed.push(version.number);
      } else if (version.status !== 'draft') {
        baseline = permissions;
      }
    }
    return reReviewed;
  }

  setStatus(tenantId: string, id: string, status: 'published' | 'unpublished', at: Date): Promise<PluginVersionSummary> {
    return this.prisma.pluginVersion.update({
      where: { id, tenantId },
      data: { status, ...(status === 'published' ? { publishedAt: at } : {}) },
      omit: WITHOUT_WASM,
    });
  }
}
