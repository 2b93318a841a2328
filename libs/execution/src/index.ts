export { effectivePolicy } from './effective-policy.js';
export { reviewPermissions, reviewPolicy, SENSITIVE_PERMISSIONS, type RequestedPermission } from './permission-review.js';
export { PolicyResolver } from './policy-resolver.js';
export { quotaOverridesSchema, type QuotaOverrides } from './quota-overrides.schema.js';
export { SecretBox, type SecretKey } from './secret-box.js';
export { ArtifactCache } from './artifact-cache.js';
export { InvocationRunner, type InvocationRunnerDeps, type RunOutcome, TRANSIENT_STATUSES } from './invocation-runner.js';
export { DatabaseKvStore } from './database-kv-store.js';
export { type DeliveryOutcome, signWebhook, WebhookSender } from './webhook-sender.js';
