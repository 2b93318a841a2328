import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppError, AppErrorCode } from '@airlock/errors';
import { ArtifactCache } from '@airlock/execution';
import { metrics } from '@airlock/telemetry';
import type { AdmittedArtifact, SandboxPolicy } from '@airlock/sandbox';

/**
 * Admits modules for the API: on upload, and for each test run or binding
 * test. Admission runs off the event loop (a large module is seconds of work
 * that would hold up every tenant's requests) and once per module and policy:
 * a version tested ten times is rewritten once.
 */
@Injectable()
export class ModuleAdmissions {
  // Fewer than the worker keeps: the API admits for uploads and test runs, not for every job.
  private readonly cache = new ArtifactCache(32, 128 * 1024 * 1024);

  /** Admits a module under a policy, or fails with 422 `module_rejected` naming the problem. */
  async admitOrThrow(bytes: Uint8Array, policy: SandboxPolicy): Promise<AdmittedArtifact> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const admission = await this.cache.admit(sha256, () => Promise.resolve(bytes), policy);
    if (!admission.ok) {
      const { kind, reason, forbiddenImports } = admission.rejection;
      metrics.admissionRejections.inc({ kind });
      throw new AppError(AppErrorCode.ModuleRejected, `The module was refused: ${reason}.`, {
        details: { kind, ...(forbiddenImports === undefined ? {} : { forbiddenImports }) },
      });
    }
    return admission.artifact;
  }
}
