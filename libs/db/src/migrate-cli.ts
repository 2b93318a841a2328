// `npm run db:migrate`: applies pending migrations to the configured database
// (DATABASE_URL, or the embedded one under AIRLOCK_DATA_DIR) and exits.
import { ConfigError, loadConfig } from '@airlock/config';
import { openDatabase } from './database.js';

try {
  const config = loadConfig(process.env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  const applied = database.appliedMigrations;
  console.log(applied.length === 0 ? 'The database is up to date.' : `Applied ${applied.length}: ${applied.join(', ')}`);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}
