// `npm run db:migrate`: applies pending migrations to the configured database
// (DATABASE_URL, or the embedded one under AIRLOCK_DATA_DIR) and exits.
import { mkdir } from 'node:fs/promises';
import { ConfigError, loadConfig } from '@airlock/config';
import { openDatabase } from '@airlock/db';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.js';

try {
  const config = loadConfig(process.env);
  // The embedded database is one process's at a time: opened beside a running Airlock, both would write its files
  // and the next start would find them damaged or missing what one of them wrote.
  if (config.databaseUrl === undefined) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const release = config.databaseUrl === undefined ? await lockDataDir(config.dataDir, () => undefined) : async () => undefined;
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    await database.close();
    const applied = database.appliedMigrations;
    console.log(applied.length === 0 ? 'The database is up to date.' : `Applied ${applied.length}: ${applied.join(', ')}`);
  } finally {
    await release();
  }
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof DataDirInUseError ? error.message : error);
  process.exitCode = 1;
}
