// Runs inside a fresh network namespace (see without-local-redis.test.ts), where
// nothing answers on 127.0.0.1:6379: starts the launcher as `npm start` would,
// uses it, stops it, and prints what it saw as one JSON line.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpClient } from '../support/http-client.js';
import { freePort, spawnLauncher } from '../support/launcher-process.js';

const [cwd, mode] = process.argv.slice(2) as [string, 'start' | 'no-binary'];
execFileSync('ip', ['link', 'set', 'lo', 'up']);
const port = String(await freePort());

if (mode === 'no-binary') {
  const launcher = spawnLauncher(cwd, { PORT: port, AIRLOCK_REDIS_BINARY: join(cwd, 'missing-redis-server') });
  console.log(JSON.stringify({ exitCode: await launcher.exited(), stderr: launcher.stderr() }));
} else {
  const launcher = spawnLauncher(cwd, { PORT: port, LOG_LEVEL: 'warn' });
  const banner = await launcher.running();
  const adminToken = /(at_[0-9a-f]{64})/.exec(banner)?.[1];
  const http = new HttpClient(`http://127.0.0.1:${port}`);
  const ready = await http.get('/readyz');
  const tenant = await http.post('/v1/admin/tenants', { token: adminToken, body: { name: 'Offline' } });
  const redisPid = Number((await readFile(join(cwd, '.airlock', 'redis', 'redis.pid'), 'utf8')).trim());
  const redisRunningBeforeStop = processAlive(redisPid);
  const exitCode = await launcher.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log(
    JSON.stringify({
      banner,
      readyStatus: ready.status,
      tenantStatus: tenant.status,
      redisRunningBeforeStop,
      redisRunningAfterStop: processAlive(redisPid),
      exitCode,
    }),
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
