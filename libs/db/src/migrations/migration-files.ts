import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MigrationFile {
  /** The directory name, `<timestamp>_<name>`; migrations run in this order. */
  name: string;
  sql: string;
  /** SHA-256 of the SQL, to notice a migration edited after it was applied. */
  checksum: string;
}

const MIGRATION_DIR_NAME = /^\d{14}_[a-z0-9_]+$/;

/** Reads every migration under `dir`, sorted by name (their timestamps). */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const misnamed = names.filter((name) => !MIGRATION_DIR_NAME.test(name));
  if (misnamed.length > 0) {
    throw new Error(`Migration directories must be named <14-digit timestamp>_<snake_case_name>: ${misnamed.join(', ')}`);
  }
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}
