// npm run bench:pipeline-cpu [-- --json]
// Where an event's CPU goes, per process: the API, PostgreSQL and Redis while a
// backlog of events is sent (no worker running), then the worker, its executors,
// PostgreSQL and Redis while a worker drains it. Repeated in rounds (the first
// warms up and is left out), each with a fresh worker, so that two builds can be
// compared on a machine whose speed drifts: the per-process figures move much
// less from run to run than latencies under load do. Airlock runs as deployed
// (`npm start -- api` and `-- worker`), on a fresh database; nothing else should
// use this PostgreSQL or Redis meanwhile, as their whole CPU time is counted.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '@airlock/launcher/private-redis';
import { compilePlugin } from '@airlock/plugin-pdk';
import { createInvocationQueue, createRedisConnection, INVOCATIONS_QUEUE } from '@airlock/queue';
import { QueueEvents } from 'bullmq';
import pg from 'pg';
import { childrenOf, cpuMs, postgresCpuMs, redisCpuMs, sum } from './process-cpu.js';
import { drainRate } from './stats.js';

const json = process.argv.includes('--json');
const ROUNDS = Number(process.env.AIRLOCK_BENCH_ROUNDS ?? 3);
const BACKLOG = Number(process.env.AIRLOCK_BENCH_BACKLOG ?? 3000);
const adminUrl = process.env.AIRLOCK_BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.AIRLOCK_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `airlock-bench-${randomBytes(4).toString('hex')}`;
const dbName = `airlock_bench_${randomBytes(4).toString('hex')}`;
const LAUNCHER = fileURLToPath(new URL('../../apps/launcher/dist/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}


await admin(`CREATE DATABASE "${dbName}"`);
const airlockEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  DATABASE_URL: Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString(),
  REDIS_URL: redisUrl,
  AIRLOCK_ADMIN_TOKEN: `at_bench_${randomBytes(16).toString('hex')}`,
  AIRLOCK_REDIS_PREFIX: prefix,
  AIRLOCK_DATA_DIR: `/tmp/${prefix}`,
  // The API and the workers, started apart, seal and open binding secrets with the same keys.
  AIRLOCK_SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  LOG_LEVEL: 'error',
};
/** With AIRLOCK_BENCH_CPU_PROFILES=<dir>, Airlock's processes write V8 CPU profiles there when they exit. */
const profileDir = process.env.AIRLOCK_BENCH_CPU_PROFILES;
async function launch(role: 'api' | 'worker', env: Record<string, string>): Promise<ChildProcess> {
  const profiling = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${role}`];
  const child = spawn(process.execPath, [...profiling, LAUNCHER, role], { env: { ...airlockEnv, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('Airlock is running.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}:\n${out}`)));
  });
  return child;
}
async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const apiPort = await findFreePort();
const api = await launch('api', { PORT: String(apiPort), HOST: '127.0.0.1', AIRLOCK_EXECUTORS: '1' });
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }) };
    const sent = http.request(`http://127.0.0.1:${apiPort}${path}`, { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) }));
    });
    sent.on('error', reject);
    sent.end(payload);
  });
}

const hello = await compilePlugin({
  files: { 'index.ts': 'import { Host } from "@airlock/plugin-pdk";\nexport function greet(): i32 { Host.outputString("hello, " + Host.inputString()); return 0; }\n' },
});
if (!hello.ok) throw new Error('cannot compile the bench plugin');
const adminToken = airlockEnv.AIRLOCK_ADMIN_TOKEN;
const tenant = (await call('POST', '/v1/admin/tenants', adminToken, { name: 'A', tier: 'enterprise' })).body.id as string;
const key = (await call('POST', `/v1/admin/tenants/${tenant}/keys`, adminToken)).body.key as string;
await call('PUT', `/v1/admin/tenants/${tenant}/quota`, adminToken, { overrides: { eventsPerSecond: 100_000, invocationsPerDay: 100_000_000, concurrentRuns: 100_000 } });
const plugin = (await call('POST', '/v1/plugins', key, { name: 'greeter' })).body.id as string;
await fetch(`http://127.0.0.1:${apiPort}/v1/plugins/${plugin}/versions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/wasm' }, body: Buffer.from(hello.wasm) });
await call('POST', `/v1/plugins/${plugin}/versions/1/publish`, key);
await call('POST', '/v1/bindings', key, { event: 'order.created', pluginId: plugin, export: 'greet' });

const queueEvents = new QueueEvents(INVOCATIONS_QUEUE, { connection: createRedisConnection(redisUrl, 'consumer', 'bench-cpu-events'), prefix });
await queueEvents.waitUntilReady();
const finishedAt = new Map<string, number>();
queueEvents.on('completed', ({ jobId }) => finishedAt.set(jobId, performance.now()));

interface Round {
  /** CPU ms per event while the backlog was sent. */
  sending: { api: number; postgres: number; redis: number };
  /** CPU ms per event while a worker drained it, and the drain rate (events/s, first finish to last). */
  draining: { worker: number; executors: number; postgres: number; redis: number; perSecond: number };
}
const round3 = (value: number) => Number(value.toFixed(3));
const rounds: Round[] = [];
for (let round = 0; round <= ROUNDS; round++) {
  const sendingFrom = { api: cpuMs(api.pid!), postgres: postgresCpuMs(), redis: redisCpuMs() };
  const ids: string[] = [];
  // 50 requests at a time, as a busy host app sends them.
  for (let sent = 0; sent < BACKLOG; sent += 50) {
    const answers = await Promise.all(Array.from({ length: 50 }, () => call('POST', '/v1/events', key, { type: 'order.created', payload: 'bench' })));
    for (const answer of answers) {
      if (answer.status !== 202) throw new Error(`an event was refused: ${answer.status} ${JSON.stringify(answer.body)}`);
      ids.push(answer.body.invocations[0].id as string);
    }
  }
  const sending = {
    api: round3((cpuMs(api.pid!) - sendingFrom.api) / BACKLOG),
    postgres: round3((postgresCpuMs() - sendingFrom.postgres) / BACKLOG),
    redis: round3((redisCpuMs() - sendingFrom.redis) / BACKLOG),
  };
  await sleep(1000); // what the sending left behind (span writes) settles
  const worker = await launch('worker', { AIRLOCK_EXECUTORS: '2' });
  const executors = childrenOf(worker.pid!);
  const drainingFrom = { worker: cpuMs(worker.pid!), executors: sum(executors.map((pid) => cpuMs(pid))), postgres: postgresCpuMs(), redis: redisCpuMs() };
  while (ids.some((id) => !finishedAt.has(id))) await sleep(5);
  const draining = {
    worker: round3((cpuMs(worker.pid!) - drainingFrom.worker) / BACKLOG),
    executors: round3((sum(executors.map((pid) => cpuMs(pid))) - drainingFrom.executors) / BACKLOG),
    postgres: round3((postgresCpuMs() - drainingFrom.postgres) / BACKLOG),
    redis: round3((redisCpuMs() - drainingFrom.redis) / BACKLOG),
    perSecond: Math.round(drainRate(ids.map((id) => finishedAt.get(id)!))),
  };
  await stop(worker);
  if (!json) console.log(`round ${round}${round === 0 ? ' (warm-up, left out)' : ''}: sending ${JSON.stringify(sending)}, draining ${JSON.stringify(draining)}`);
  if (round > 0) rounds.push({ sending, draining });
  await sleep(1000);
}

const mean = (pick: (round: Round) => number) => round3(sum(rounds.map(pick)) / rounds.length);
const report = {
  rounds: rounds.length,
  backlog: BACKLOG,
  sendingCpuMsPerEvent: { api: mean((r) => r.sending.api), postgres: mean((r) => r.sending.postgres), redis: mean((r) => r.sending.redis) },
  drainingCpuMsPerEvent: { worker: mean((r) => r.draining.worker), executors: mean((r) => r.draining.executors), postgres: mean((r) => r.draining.postgres), redis: mean((r) => r.draining.redis) },
  drainPerSecond: Math.round(mean((r) => r.draining.perSecond)),
};
console.log(json ? JSON.stringify(report) : `mean of ${rounds.length} rounds of ${BACKLOG} events: ${JSON.stringify(report)}`);

await queueEvents.close();
await stop(api);
const queue = createInvocationQueue(createRedisConnection(redisUrl, 'request', 'bench-cpu-cleanup'), prefix);
await queue.obliterate({ force: true }).catch(() => undefined);
await queue.close();
await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
process.exit(0);
