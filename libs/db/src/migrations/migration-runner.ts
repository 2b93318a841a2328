import type { SqlExecutor } from '../sql-executor.js';
import type { MigrationFile } from './migration-files.js';

const HISTORY_TABLE = '_airlock_migrations';
/** Any constant works; it keeps two processes starting at once from migrating together. */
const MIGRATION_LOCK_KEY = 4_211_337;

export class MigrationChecksumError extends Error {
  constructor(readonly migration: string) {
    super(
      `Migration ${migration} was changed after it was applied. Applied migrations are immutable: ` +
        'restore the file and add a new migration instead.',
    );
    this.name = 'MigrationChecksumError';
  }
}

/**
 * Applies, in order, each migration not yet recorded in `_airlock_migrations`,
 * each in its own transaction together with its history row, so a failing
 * migration leaves neither a half-applied schema nor a record (and the ones
 * before it stay applied).
 * @returns the names of the migrations it applied.
 */
export async function applyMigrations(sql: SqlExecutor, migrations: readonly MigrationFile[]): Promise<string[]> {
  // A session lock, taken first: a second process starting at the same time waits here, then finds the
  // migrations already recorded (even the history table's creation races on a new database otherwise: two
  // CREATE TABLE IF NOT EXISTS at once fail one of them). `sql` must be one connection.
  await sql.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await sql.exec(`
      CREATE TABLE IF NOT EXISTS "${HISTORY_TABLE}" (
        "name" TEXT PRIMARY KEY,
        "checksum" TEXT NOT NULL,
        "applied_at" TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    const rows = await sql.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "${HISTORY_TABLE}"`);
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) throw new MigrationChecksumError(migration.name);
        continue;
      }
      await sql.transaction(async (tx) => {
        await tx.exec(migration.sql);
        await tx.query(`INSERT INTO "${HISTORY_TABLE}" (name, checksum) VALUES ($1, $2)`, [
          migration.name,
          migration.checksum,
        ]);
      });
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  } finally {
    await sql.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
