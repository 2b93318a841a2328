import { createHash } from 'node:crypto';
import { admitOffThread, type AdmissionResult, type SandboxPolicy } from '@airlock/sandbox';

/**
 * About what a cached admission holds in memory: the rewritten module and its
 * names (a module may declare a hundred thousand exports), or a rejection's reason.
 */
function sizeOf(result: AdmissionResult): number {
  if (!result.ok) return 1024 + result.rejection.reason.length * 2;
  const { artifact } = result;
  const names = [...artifact.exports.map((entry) => entry.name), ...artifact.functions, ...artifact.imports.flatMap((entry) => [entry.module, entry.name])];
  // A JavaScript string takes two bytes a character at most, and an entry's object some dozens more.
  return artifact.bytes.length + names.reduce((total, name) => total + name.length * 2 + 64, 0);
}

/**
 * Admitted artifacts by module and policy: admission is deterministic, so a
 * module admitted once under a policy need not be rewritten again for every
 * job or test run. Admission runs off the event loop (admitOffThread); the
 * same module asked for again while it is being admitted waits for that one,
 * and if that one fails (its caller's version was deleted as its bytes were
 * read), tries once with its own bytes: another caller's failure is not its.
 * Bounded in entries and in bytes (a module may be tens of megabytes), the
 * least recently used going first.
 */
export class ArtifactCache {
  private readonly entries = new Map<string, AdmissionResult>();
  private readonly admitting = new Map<string, Promise<AdmissionResult>>();
  private bytes = 0;
  /** Policies are resolved once per distinct content (PolicyResolver), so their digests are kept by identity. */
  private readonly policyDigests = new WeakMap<SandboxPolicy, string>();

  constructor(
    private readonly maxEntries = 256,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  /** The admission of the module with this hash; `bytes` is only loaded when it is not cached. */
  async admit(sha256: string, bytes: () => Promise<Uint8Array>, policy: SandboxPolicy): Promise<AdmissionResult> {
    const key = `${sha256}:${this.digestOf(policy)}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const pending = this.admitting.get(key);
    if (pending !== undefined) return pending.catch(() => this.admitting.get(key) ?? this.start(key, bytes, policy));
    return this.start(key, bytes, policy);
  }

  private start(key: string, bytes: () => Promise<Uint8Array>, policy: SandboxPolicy): Promise<AdmissionResult> {
    const pending = bytes()
      .then((loaded) => admitOffThread(loaded, policy))
      .then((result) => (this.keep(key, result), result))
      .finally(() => this.admitting.delete(key));
    this.admitting.set(key, pending);
    return pending;
  }

  private keep(key: string, result: AdmissionResult): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) this.bytes -= sizeOf(previous);
    this.entries.set(key, result);
    this.bytes += sizeOf(result);
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      // The entry just kept stays even when it alone is over the bound: its caller is about to use it.
      if (oldest === key) continue;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(entry);
    }
  }

  private digestOf(policy: SandboxPolicy): string {
    let digest = this.policyDigests.get(policy);
    if (digest === undefined) {
      digest = createHash('sha256').update(JSON.stringify(policy)).digest('hex');
      this.policyDigests.set(policy, digest);
    }
    return digest;
  }
}
