export { admit, type AdmissionRejection, type AdmissionRejectionKind, type AdmissionResult, type AdmittedArtifact } from './admission/admit.js';
export type { Permission } from './admission/import-policy.js';
export { type SandboxPolicy, sandboxPolicySchema } from './policy/sandbox-policy.schema.js';
export { loadTier, TIERS_DIR } from './policy/tiers.js';
export { failedResult, SANDBOX_STATUSES, type LogLevel, type PluginLogLine, type RunResult, type SandboxStatus } from './outcome.js';
export { Sandbox, type RunContext, type SandboxOptions } from './sandbox.js';
export { MemoryKvStore, type KvScope, type KvStore } from './host/kv-store.js';
export { isPrivateAddress } from './host/private-address.js';
export { guardedHttp, HttpRefusedError, type GuardedHttpOptions } from './host/guarded-http.js';
