export { openDatabase, migrate, type Database, type DatabaseOptions } from './database.js';
export type { ApiKey, PrismaClient, Tenant } from './generated/prisma/client.js';
export { readMigrationFiles, type MigrationFile } from './migrations/migration-files.js';
export { applyMigrations, MigrationChecksumError } from './migrations/migration-runner.js';
export { MIGRATIONS_DIR, SCHEMA_PATH } from './paths.js';
export { ApiKeyRepository, type NewApiKey } from './repositories/api-key.repository.js';
export { TenantRepository, type NewTenant } from './repositories/tenant.repository.js';
export { diffMigrationsToSchema, type SchemaDiff } from './schema-engine/schema-diff.js';
export { PgliteSqlExecutor, PgSqlExecutor, type SqlExecutor } from './sql-executor.js';
