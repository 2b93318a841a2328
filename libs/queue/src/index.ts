export { createRedisConnection, type RedisRole } from './redis-connection.js';
export { WORKER_HEARTBEAT_TTL_MS, WorkerRegistryRepository } from './worker-registry.repository.js';
export {
  createInvocationQueue,
  enqueueInvocations,
  inspectInvocationJobs,
  invocationRetryPolicy,
  type InvocationJobInspection,
  INVOCATIONS_QUEUE,
  invocationJob,
  invocationJobData,
  invocationJobKey,
  newcomerChannel,
  ALL_TENANTS,
  tenantConfigChannel,
  unsettledFailedInvocationJobs,
  type InvocationJobData,
  type RetryPolicy,
} from './invocation-job.js';
export { type QuotaLimits, type QuotaVerdict, type Settlement, TenantQuotaGateRepository } from './tenant-quota-gate.repository.js';
export { createWebhookQueue, enqueueDeliveries, WEBHOOKS_QUEUE, webhookJob, type WebhookJobData } from './webhook-job.js';
export { createMaintenanceQueue, MAINTENANCE_QUEUE, reconcileJob, resealJob, retentionJob, scheduleMaintenance } from './maintenance-job.js';
export { queueProbe } from './queue-probe.js';
