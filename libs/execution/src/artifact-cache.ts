import { createHash } from 'node:crypto';
import { admit, type AdmissionResult, type SandboxPolicy } from '@airlock/sandbox';

/**
 * Admitted artifacts by module and policy: admission is deterministic, so a
 * module admitted once under a policy need not be rewritten again for every job.
 */
export class ArtifactCache {
  private readonly entries = new Map<string, AdmissionResult>();
  /** Policies are resolved once per distinct content (PolicyResolver), so their digests are kept by identity. */
  private readonly policyDigests = new WeakMap<SandboxPolicy, string>();

  constructor(private readonly maxEntries = 256) {}

  /** The admission of the module with this hash; `bytes` is only loaded when it is not cached. */
  async admit(sha256: string, bytes: () => Promise<Uint8Array>, policy: SandboxPolicy): Promise<AdmissionResult> {
    let policyDigest = this.policyDigests.get(policy);
    if (policyDigest === undefined) {
      policyDigest = createHash('sha256').update(JSON.stringify(policy)).digest('hex');
      this.policyDigests.set(policy, policyDigest);
    }
    const key = `${sha256}:${policyDigest}`;
    let result = this.entries.get(key);
    if (result === undefined) {
      result = admit(await bytes(), policy);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    } else {
      this.entries.delete(key);
    }
    this.entries.set(key, result);
    return result;
  }
}
