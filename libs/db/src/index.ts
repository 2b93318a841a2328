export { DiskSpaceLowError, openDatabase, migrate, type Database, type DatabaseOptions } from './database.js';
export { Prisma } from './generated/prisma/client.js';
export type { ApiKey, PrismaClient, Tenant } from './generated/prisma/client.js';
export { readMigrationFiles, type MigrationFile } from './migrations/migration-files.js';
export { applyMigrations, MigrationChecksumError } from './migrations/migration-runner.js';
export { MIGRATIONS_DIR, SCHEMA_PATH } from './paths.js';
export { ApiKeyRepository, type NewApiKey } from './repositories/api-key.repository.js';
export { TenantRepository, type NewTenant } from './repositories/tenant.repository.js';
export { type ListPage, type ListPosition } from './repositories/list-position.js';
export { diffMigrationsToSchema, type SchemaDiff } from './schema-engine/schema-diff.js';
export { PgliteSqlExecutor, PgSqlExecutor, type SqlExecutor } from './sql-executor.js';
export { BindingRepository, type BindingFields, type BindingRunState } from './repositories/binding.repository.js';
export { PluginRepository } from './repositories/plugin.repository.js';
export { PluginVersionRepository, type NewPluginVersion, type PluginVersionSummary } from './repositories/plugin-version.repository.js';
export type { Binding, Plugin, PluginVersion } from './generated/prisma/client.js';
export { AuditRepository, type AuditEntry } from './repositories/audit.repository.js';
export { TenantQuotaRepository } from './repositories/tenant-quota.repository.js';
export type { AuditEvent } from './generated/prisma/client.js';
export { type AcceptedEvent, EventRepository, type EventToRecord, type EventWithInvocations, type PlannedInvocation, type RecordedEvent } from './repositories/event.repository.js';
export { InvocationRepository, type InvocationOutcome } from './repositories/invocation.repository.js';
export {
  type ClaimedInvocation,
  type InvocationRunState,
  type ClaimRequest,
  type FinishedInvocation,
  type FinishRequest,
  InvocationWorkRepository,
  type UnfinishedInvocation,
} from './repositories/invocation-work.repository.js';
export type { Event, Invocation } from './generated/prisma/client.js';
export { PluginKvRepository } from './repositories/plugin-kv.repository.js';
export { WebhookRepository } from './repositories/webhook.repository.js';
export { type SealedSecret, type SealedSecretKind, SealedSecretRepository } from './repositories/sealed-secret.repository.js';
export { type NewSpan, SpanRepository } from './repositories/span.repository.js';
export { type LogCursor, type PluginLogEntry, PluginLogRepository } from './repositories/plugin-log.repository.js';
export { type RetentionResult, RetentionRepository } from './repositories/retention.repository.js';
export type { Span } from './generated/prisma/client.js';
export type { Webhook, WebhookDelivery } from './generated/prisma/client.js';
