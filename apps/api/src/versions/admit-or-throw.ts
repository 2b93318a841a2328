import { AppError, AppErrorCode } from '@airlock/errors';
import { metrics } from '@airlock/telemetry';
import { admit, type AdmittedArtifact, type SandboxPolicy } from '@airlock/sandbox';

/** Admits a module under a policy, or fails with 422 `module_rejected` naming the problem. */
export function admitOrThrow(bytes: Uint8Array, policy: SandboxPolicy): AdmittedArtifact {
  const admission = admit(bytes, policy);
  if (!admission.ok) {
    const { kind, reason, forbiddenImports } = admission.rejection;
    metrics.admissionRejections.inc({ kind });
    throw new AppError(AppErrorCode.ModuleRejected, `The module was refused: ${reason}.`, {
      details: { kind, ...(forbiddenImports === undefined ? {} : { forbiddenImports }) },
    });
  }
  return admission.artifact;
}
