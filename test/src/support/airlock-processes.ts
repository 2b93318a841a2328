import type { ApiHarness } from './api-harness.js';
import { type LauncherProcess, spawnLauncher } from './launcher-process.js';
import { compileSource } from './pdk.js';
import { publishAndBind } from './pipeline.js';
import { createTenantSession, type TenantSession } from './tenant-session.js';

/** What an Airlock process needs to share the harness's database, Redis prefix, secrets and admin token. */
function harnessEnv(api: ApiHarness): Record<string, string> {
  return {
    DATABASE_URL: api.config.databaseUrl!,
    REDIS_URL: api.config.redisUrl!,
    AIRLOCK_REDIS_PREFIX: api.redisPrefix,
    AIRLOCK_DATA_DIR: api.config.dataDir,
    AIRLOCK_ADMIN_TOKEN: api.adminToken,
    AIRLOCK_EXECUTORS: '1',
    LOG_LEVEL: 'error',
  };
}

/**
 * A worker alone in its own process (`npm start -- worker`) on the harness's
 * stores, with a 1 s job lock so that a lost worker's jobs come back quickly.
 */
export async function startWorkerProcess(api: ApiHarness, env: Record<string, string> = {}): Promise<LauncherProcess> {
  const worker = spawnLauncher(process.cwd(), { ...harnessEnv(api), AIRLOCK_JOB_LOCK_MS: '1000', ...env }, ['worker']);
  await worker.running();
  return worker;
}

/**
 * An API alone in its own process (`npm start -- api`), or with a worker (`all`), on the harness's stores, on a
 * loopback port the system picks.
 */
export async function startApiProcess(api: ApiHarness, env: Record<string, string> = {}, role: 'api' | 'all' = 'api'): Promise<{ process: LauncherProcess; baseUrl: string }> {
  const child = spawnLauncher(process.cwd(), { ...harnessEnv(api), HOST: '127.0.0.1', PORT: '0', ...env }, [role]);
  return { process: child, baseUrl: `http://127.0.0.1:${boundPort(await child.running())}` };
}

/** The API's port as the launcher's banner gives it. */
export function boundPort(banner: string): number {
  const port = /api: http:\/\/[^:\s]+:(\d+)/.exec(banner)?.[1];
  if (port === undefined) throw new Error(`no API address in:\n${banner}`);
  return Number(port);
}

/** Spins for as many iterations as its input says (400 million is about a second here); export `spin`. */
export const SPIN_PLUGIN = `import { Host } from "@airlock/plugin-pdk";
export function spin(): i32 {
  const n = I64.parseInt(Host.inputString());
  let x: i64 = 0;
  for (let i: i64 = 0; i < n; i++) x += i & 7;
  Host.outputString(x.toString());
  return 0;
}
`;

/**
 * A tenant whose calls may run long and burn much fuel, with `source` built,
 * published and bound to `job.run`: for killing and stopping workers mid-call.
 */
export async function tenantWithLongCalls(api: ApiHarness, source: string, exportName: string): Promise<TenantSession> {
  const alice = await createTenantSession(api, 'Alice');
  await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, {
    token: api.adminToken,
    body: { tier: 'standard', overrides: { fuelPerCall: 1_000_000_000_000, timeoutMs: 60_000 } },
  });
  await publishAndBind(api, alice, { name: 'long-runner', template: '', wasm: await compileSource(source), event: 'job.run', exportName });
  return alice;
}
