import type { ApiHarness } from './api-harness.js';
import { type LauncherProcess, spawnLauncher } from './launcher-process.js';

/**
 * A worker alone in its own process (`npm start -- worker`), on the harness's
 * database, Redis prefix and secrets, with a 1 s job lock so that a lost
 * worker's jobs come back quickly.
 */
export async function startWorkerProcess(api: ApiHarness, env: Record<string, string> = {}): Promise<LauncherProcess> {
  const worker = spawnLauncher(
    process.cwd(),
    {
      DATABASE_URL: api.config.databaseUrl!,
      REDIS_URL: api.config.redisUrl!,
      AIRLOCK_REDIS_PREFIX: api.redisPrefix,
      AIRLOCK_DATA_DIR: api.config.dataDir,
      AIRLOCK_JOB_LOCK_MS: '1000',
      AIRLOCK_EXECUTORS: '1',
      LOG_LEVEL: 'error',
      ...env,
    },
    ['worker'],
  );
  await worker.running();
  return worker;
}
