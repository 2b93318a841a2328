import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { BindingRepository, type Plugin, PluginVersionRepository, type PluginVersionSummary, type Tenant } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { compilePlugin } from '@airlock/plugin-pdk';
import type { AdmittedArtifact, SandboxPolicy } from '@airlock/sandbox';
import type { z } from 'zod';
import { pluginDeleted, PluginsService } from '../plugins/plugins.service.js';
import { TenantPolicyService } from '../policies/tenant-policy.service.js';
import { encodeCursor } from '../validation/opaque-cursor.js';
import { invalidField } from '../validation/invalid-field.js';
import { ModuleAdmissions } from './module-admissions.js';
import { heldForApproval, reviewPermissions, reviewPolicy } from '@airlock/execution';
import type { runTestsSchema, StoredDeclaredTest } from './version.schema.js';
import { type TestResult, VersionTestsRunner } from './version-tests.runner.js';

/** An enabled binding that stopped running when its version was unpublished. */
export interface StoppedBinding {
  id: string;
  event: string;
  export: string;
  version: number | 'latest';
}

export type NewVersionInput =
  | { kind: 'wasm'; bytes: Uint8Array; tests: StoredDeclaredTest[] }
  | { kind: 'source'; language: 'assemblyscript'; files: Record<string, string>; entry?: string | undefined; tests: StoredDeclaredTest[] };

/** A module's functions as a refusal names them: the first 20 (a module may export thousands). */
function exportsListed(functions: string[]): string {
  if (functions.length === 0) return 'none';
  const listed = functions.slice(0, 20).join(', ');
  return functions.length > 20 ? `${listed} and ${functions.length - 20} more` : listed;
}

/**
 * The version an upload found with its module, unless the upload declared
 * other tests: a version is its module and keeps the tests it was made with,
 * so they would be dropped without a word. Tests count as declared when sent
 * with a source (the editor sends them each time) or when any are sent.
 */
function refuseOtherTests(version: PluginVersionSummary, input: NewVersionInput): PluginVersionSummary {
  const declared = input.kind === 'source' || input.tests.length > 0;
  // Compared as stored: JSON (an input of 1e400, Infinity once parsed, is kept as null).
  if (!declared || isDeepStrictEqual(version.tests ?? [], JSON.parse(JSON.stringify(input.tests)))) return version;
  throw new AppError(
    AppErrorCode.Conflict,
    `It is the same module as version ${version.number}, which keeps the declared tests it was made with. The declared tests were not saved: a version's tests come with its module, so change the source (or module) to make a version with them.`,
    { details: { version: version.number } },
  );
}

function notFoundVersion(number: number): AppError {
  return new AppError(AppErrorCode.NotFound, `No version ${number} of this plugin.`);
}

@Injectable()
export class VersionsService {
  /** The last upload of each plugin this process is storing (see inTurn). */
  private readonly uploads = new Map<string, Promise<unknown>>();

  constructor(
    private readonly versions: PluginVersionRepository,
    private readonly plugins: PluginsService,
    private readonly policies: TenantPolicyService,
    private readonly tests: VersionTestsRunner,
    private readonly bindings: BindingRepository,
    private readonly admissions: ModuleAdmissions,
  ) {}

  /**
   * Compiles (when given source), admits under the tenant's policy, and stores a
   * new immutable version; identical bytes return the existing version.
   */
  async create(tenant: Tenant, pluginId: string, input: NewVersionInput, actor: string): Promise<{ version: PluginVersionSummary; created: boolean }> {
    const plugin = await this.plugins.getLive(tenant.id, pluginId);
    let bytes: Uint8Array;
    if (input.kind === 'source') {
      const compiled = await compilePlugin({ files: input.files, ...(input.entry === undefined ? {} : { entry: input.entry }) }, { owner: tenant.id });
      if (!compiled.ok) {
        const first = compiled.diagnostics.find((d) => d.severity === 'error') ?? compiled.diagnostics[0];
        const where = first && first.file !== '' ? `${first.file}:${first.line}:${first.column}: ` : '';
        throw new AppError(AppErrorCode.CompileFailed, `The source does not compile: ${where}${first?.message ?? 'unknown error'}`, {
          details: { diagnostics: compiled.diagnostics },
        });
      }
      bytes = compiled.wasm;
    } else {
      bytes = input.bytes;
    }
    const policy = await this.policies.forTenant(tenant);
    const artifact = await this.admissions.admitOrThrow(bytes, reviewPolicy(policy));
    // A test of a function the module lacks could only fail, and the module could never be published in this plugin.
    const lost = input.tests.findIndex((test) => !artifact.functions.includes(test.export));
    if (lost !== -1) {
      throw invalidField('body', `tests.${lost}.export`, `the module exports no function "${input.tests[lost]!.export}" (it exports ${exportsListed(artifact.functions)})`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await this.versions.findBySha(tenant.id, plugin.id, sha256);
    if (existing !== null) return { version: refuseOtherTests(existing, input), created: false };
    const { maxVersionsPerPlugin } = policy.quotas;
    // Reviewed against the last version with approved permissions, read in the plugin's upload turn.
    const review = (permissions: readonly string[], previous: readonly string[] | null) => reviewPermissions(permissions, previous, policy);
    const stored = await this.inTurn(plugin.id, () => this.versions.createOrFind({
      tenantId: tenant.id,
      pluginId: plugin.id,
      sha256,
      wasm: bytes,
      exports: artifact.functions,
      imports: artifact.imports.map(({ module, name }) => ({ module, name })),
      permissions: artifact.permissions,
      sourceLanguage: input.kind === 'source' ? input.language : undefined,
      source: input.kind === 'source' ? { files: input.files, entry: input.entry ?? 'index.ts' } : undefined,
      tests: input.tests as never,
      createdBy: actor,
    }, maxVersionsPerPlugin, review));
    if ('limitReached' in stored) {
      throw new AppError(AppErrorCode.LimitReached, `The plugin has reached its limit of ${maxVersionsPerPlugin} versions, which are kept for good: an admin can raise the limit, or the module can start a new plugin.`, {
        details: { limit: 'maxVersionsPerPlugin', max: maxVersionsPerPlugin },
      });
    }
    return stored.created ? stored : { version: refuseOtherTests(stored.version, input), created: false };
  }

  /** A page of the plugin's versions by number, and the cursor of the next page. */
  /**
   * Runs this process's uploads to one plugin one after another. The database
   * serializes them anyway (see createOrFind), but each waits there holding a
   * pooled connection the event path needs too; here it waits holding none.
   */
  private inTurn<T>(pluginId: string, work: () => Promise<T>): Promise<T> {
    const mine = (this.uploads.get(pluginId) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.uploads.set(pluginId, mine);
    void mine.finally(() => this.uploads.get(pluginId) === mine && this.uploads.delete(pluginId)).catch(() => undefined);
    return mine;
  }

  async list(tenantId: string, pluginId: string, query: { limit: number; cursor?: number | undefined }): Promise<{ items: PluginVersionSummary[]; nextCursor: string | null }> {
    await this.plugins.get(tenantId, pluginId);
    const rows = await this.versions.list(tenantId, pluginId, { take: query.limit + 1, afterNumber: query.cursor });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor({ n: last.number }) : null };
  }

  async get(tenantId: string, pluginId: string, number: number): Promise<PluginVersionSummary> {
    await this.plugins.get(tenantId, pluginId);
    const version = await this.versions.find(tenantId, pluginId, number);
    if (version === null) throw notFoundVersion(number);
    return version;
  }

  /** The module exactly as it was uploaded (or compiled). */
  async wasm(tenantId: string, pluginId: string, number: number): Promise<Uint8Array> {
    await this.plugins.get(tenantId, pluginId);
    const version = await this.versions.findWithWasm(tenantId, pluginId, number);
    if (version === null) throw notFoundVersion(number);
    return version.wasm;
  }

  /** Runs the declared tests, or one ad-hoc call when `request.export` is given. */
  async test(tenant: Tenant, pluginId: string, number: number, request: z.output<typeof runTestsSchema>): Promise<{ passed: boolean; results: TestResult[] }> {
    const { plugin, version, artifact, policy } = await this.prepare(tenant, pluginId, number);
    // An ad-hoc call of an export the module lacks is a mistake in the request, as a declared test's is at upload.
    if (request.export !== undefined && !artifact.functions.includes(request.export)) {
      throw invalidField('body', 'export', `version ${version.number} exports no function "${request.export}" (it exports ${exportsListed(artifact.functions)})`);
    }
    const calls =
      request.export !== undefined
        ? [{ call: { ...request, name: 'ad-hoc', export: request.export } }]
        : (version.tests as StoredDeclaredTest[]).map((test) => ({ call: test, expect: test }));
    // Tests run with the permissions the version asks for, approved or not; while it is not, its key-value data is a
    // namespace of its own (keyed by the version), so an unreviewed version never reads or changes the plugin's.
    const reviewed = version.approvalStatus === 'not_required' || version.approvalStatus === 'approved';
    const results = await this.tests.run(artifact, calls, { tenantId: tenant.id, pluginId: reviewed ? plugin.id : version.id, policy });
    return { passed: results.every((result) => result.passed), results };
  }

  /** Publishes after the declared tests pass; refused (409) with the failing tests otherwise. */
  async publish(tenant: Tenant, pluginId: string, number: number): Promise<{ version: PluginVersionSummary; results: TestResult[]; changed: boolean }> {
    // A deleted plugin's versions are kept to read, not to publish (its bindings went with it).
    await this.plugins.getLive(tenant.id, pluginId);
    const { version } = await this.prepare(tenant, pluginId, number);
    // Published already: answered as it stands, its tests not run (and charged) again.
    if (version.status === 'published') return { version, results: [], changed: false };
    await this.refuseStrandingBindings(tenant.id, version);
    const run = await this.test(tenant, pluginId, number, {});
    if (!run.passed) {
      const failing = run.results.filter((result) => !result.passed);
      throw new AppError(
        AppErrorCode.TestsFailed,
        `Not published: ${failing.length} of ${run.results.length} declared tests failed (${failing.map((result) => result.name).join(', ')}).`,
        { details: { results: failing } },
      );
    }
    const published = await this.versions.setStatus(tenant.id, version.id, 'published', new Date());
    // Deleted while its tests ran: it stays as it was.
    if (published === null) throw pluginDeleted();
    return { version: published.version, results: run.results, changed: published.changed };
  }

  /**
   * Publishing a version makes it what bindings that follow "latest" run, if it
   * is the newest published. One without the export such a binding runs now,
   * or one whose permissions await an admin's decision (it runs nothing until
   * approved), would stop it, every event of its type planning nothing without
   * a word: refused, naming them, until they are pinned, changed or disabled.
   */
  private async refuseStrandingBindings(tenantId: string, version: PluginVersionSummary): Promise<void> {
    if (version.status === 'published') return;
    const latest = await this.versions.latestPublished(tenantId, version.pluginId);
    // Nothing runs from "latest" now, or a newer published version stays what runs: nothing stops.
    if (latest === null || latest.number > version.number) return;
    const held = heldForApproval(version.approvalStatus);
    const exports = (held ? [] : version.exports) as string[];
    const runningNow = (heldForApproval(latest.approvalStatus) ? [] : latest.exports) as string[];
    const stranded = (await this.bindings.list(tenantId, { pluginId: version.pluginId })).filter(
      (binding) => binding.enabled && binding.version === null && runningNow.includes(binding.exportName) && !exports.includes(binding.exportName),
    );
    if (stranded.length === 0) return;
    const named = `${stranded.length} binding(s) following "latest"`;
    const why = held
      ? `version ${version.number}'s permissions ${version.approvalStatus === 'pending' ? "await an admin's approval" : 'were refused by an admin'}, so it would run nothing for ${named}`
      : `version ${version.number} does not export what ${named} call`;
    throw new AppError(
      AppErrorCode.Conflict,
      `Not published: ${why} (${stranded.map((binding) => `${binding.event} → ${binding.exportName}`).join(', ')}). Pin them to a version, change their export, or disable them first.`,
      { details: { bindings: stranded.map((binding) => ({ id: binding.id, event: binding.event, export: binding.exportName })), exports: version.exports as string[] } },
    );
  }

  /**
   * Unpublishes a version: a tenant's way to stop a bad one at once. Returns it
   * with the enabled bindings that stop running because of it (see
   * `bindingsStoppedBy`), which the caller is told rather than left to find out
   * from events that plan nothing for them.
   */
  async unpublish(tenant: Tenant, pluginId: string, number: number): Promise<{ version: PluginVersionSummary; stopped: StoppedBinding[]; changed: boolean }> {
    await this.plugins.getLive(tenant.id, pluginId);
    const version = await this.get(tenant.id, pluginId, number);
    if (version.status === 'draft') {
      throw new AppError(AppErrorCode.Conflict, `Version ${number} is a draft: it was never published, so there is nothing to unpublish.`, {
        details: { version: number, status: version.status },
      });
    }
    if (version.status !== 'published') return { version, stopped: [], changed: false };
    const stopped = await this.bindingsStoppedBy(tenant.id, version);
    const unpublished = await this.versions.setStatus(tenant.id, version.id, 'unpublished', new Date());
    if (unpublished === null) throw pluginDeleted();
    // Another request unpublished it first: that one stopped the bindings, and is the one audited.
    return unpublished.changed ? { version: unpublished.version, stopped, changed: true } : { version: unpublished.version, stopped: [], changed: false };
  }

  /**
   * The enabled bindings unpublishing `version` stops: those pinned to it, and,
   * when it is the newest published, those following "latest" whose export the
   * version before it lacks (or all of them, when none is left or it is held
   * for approval: "latest" is the newest published, and it runs only once cleared).
   */
  private async bindingsStoppedBy(tenantId: string, version: PluginVersionSummary): Promise<StoppedBinding[]> {
    const latest = await this.versions.latestPublished(tenantId, version.pluginId);
    const followsThis = latest?.number === version.number;
    const before = followsThis ? await this.versions.latestPublished(tenantId, version.pluginId, version.number) : null;
    const runningAfter = (before === null || heldForApproval(before.approvalStatus) ? [] : before.exports) as string[];
    // Only what runs on it now stops: a binding whose export it lacks, or while it awaits approval, ran nothing already.
    const runningNow = (heldForApproval(version.approvalStatus) ? [] : version.exports) as string[];
    return (await this.bindings.list(tenantId, { pluginId: version.pluginId }))
      .filter((binding) => binding.enabled && runningNow.includes(binding.exportName))
      .filter((binding) => binding.version === version.number || (binding.version === null && followsThis && !runningAfter.includes(binding.exportName)))
      .map((binding) => ({ id: binding.id, event: binding.event, export: binding.exportName, version: binding.version ?? 'latest' }));
  }

  private async prepare(tenant: Tenant, pluginId: string, number: number): Promise<{ plugin: Plugin; version: PluginVersionSummary; artifact: AdmittedArtifact; policy: SandboxPolicy }> {
    const plugin = await this.plugins.get(tenant.id, pluginId);
    const version = await this.versions.findWithWasm(tenant.id, pluginId, number);
    if (version === null) throw notFoundVersion(number);
    // Tests run with the permissions the version asks for; binding it is what waits for approval.
    const policy = reviewPolicy(await this.policies.forTenant(tenant));
    return { plugin, version, artifact: await this.admissions.admitOrThrow(version.wasm, policy), policy };
  }
}
