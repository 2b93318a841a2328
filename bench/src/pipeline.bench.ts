// npm run bench:pipeline [-- --json]
// Event → result latency at fixed rates, backlog drain rate and cross-tenant
// fairness of the event pipeline, against a bare BullMQ no-op worker measured in
// the same run. Airlock runs as deployed (`npm start -- api`, `npm start -- worker`,
// each a process with its executors); this process is the host app sending events.
// All of them, PostgreSQL and Redis share this machine.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findFreePort as freePort } from '@airlock/launcher/private-redis';
import { compilePlugin } from '@airlock/plugin-pdk';
import { createInvocationQueue, createRedisConnection, INVOCATIONS_QUEUE } from '@airlock/queue';
import { Queue, QueueEvents, Worker } from 'bullmq';
import pg from 'pg';
import { childrenOf, cpuMs, postgresCpuMs, redisCpuMs, sum } from './process-cpu.js';
import { drainRate, median, percentile } from './stats.js';

const json = process.argv.includes('--json');
const adminUrl = process.env.AIRLOCK_BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.AIRLOCK_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `airlock-bench-${randomBytes(4).toString('hex')}`;
const dbName = `airlock_bench_${randomBytes(4).toString('hex')}`;
/** Loop iterations of the slow plugin: a few milliseconds of fuel-metered work. */
const CRUNCH_ITERATIONS = Number(process.env.AIRLOCK_BENCH_CRUNCH_ITERATIONS ?? 1_000_000);
const LAUNCHER = fileURLToPath(new URL('../../apps/launcher/dist/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Sends `count` items at `rate` per second, calling `send(i)` without waiting for the previous. */
async function paced(rate: number, count: number, send: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(send(i));
  }
  await Promise.all(pending);
}

/**
 * Queues a backlog for workers that are running and warm, as bare BullMQ's
 * backlog is drained: consumption paused with BullMQ's queue-wide pause, which
 * every worker obeys, while `send` queues `backlog` events, then resumed.
 */
async function pausedBacklog(queueName: string, backlog: number, send: () => Promise<string | null>): Promise<Array<string | null>> {
  const queue = new Queue(queueName, { connection: createRedisConnection(redisUrl, 'request', `bench-pause-${queueName}`), prefix });
  await queue.pause();
  const ids: Array<string | null> = [];
  try {
    for (let i = 0; i < backlog; i += 50) ids.push(...(await Promise.all(Array.from({ length: 50 }, send))));
  } finally {
    await queue.resume();
    await queue.close();
  }
  return ids;
}

// --- Baseline: a bare BullMQ queue and a no-op worker.
async function bareBullmq(rates: number[], backlog: number) {
  const connection = createRedisConnection(redisUrl, 'consumer', 'bench-bare');
  const queue = new Queue('bare', { connection, prefix });
  const events = new QueueEvents('bare', { connection: createRedisConnection(redisUrl, 'consumer', 'bench-bare-events'), prefix });
  await events.waitUntilReady();
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const backlogDoneAt: number[] = [];
  events.on('completed', ({ jobId }) => {
    if (jobId.startsWith('b')) backlogDoneAt.push(performance.now());
    const at = started.get(jobId);
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  const worker = new Worker('bare', async () => 'ok', { connection: createRedisConnection(redisUrl, 'consumer', 'bench-bare-worker'), prefix, concurrency: availableParallelism() });
  const p50ByRate: Record<number, number> = {};
  const p99ByRate: Record<number, number> = {};
  for (const rate of rates) {
    latencies.length = 0;
    await paced(rate, rate * 3, async (i) => {
      const id = `r${rate}-${i}`;
      started.set(id, performance.now());
      await queue.add('noop', {}, { jobId: id });
    });
    await sleep(500);
    p50ByRate[rate] = median(latencies);
    p99ByRate[rate] = percentile(latencies, 99);
  }
  await worker.pause();
  for (let i = 0; i < backlog; i += 500) await queue.addBulk(Array.from({ length: Math.min(500, backlog - i) }, (_, j) => ({ name: 'noop', data: {}, opts: { jobId: `b${i + j}` } })));
  worker.resume();
  while (backlogDoneAt.length < backlog) await sleep(5);
  const drainPerSecond = drainRate(backlogDoneAt);
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { p50ByRate, p99ByRate, drainPerSecond };
}

/**
 * What one round trip to PostgreSQL and to Redis takes on this machine, back to
 * back and one every 50 ms (a CPU that has gone idle is slow to wake): the
 * floor under each step of an event's path, which makes several of them.
 */
async function roundTrips(): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const redis = createRedisConnection(redisUrl, 'consumer', 'bench-round-trips');
  const timed = async (gapMs: number, once: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      if (gapMs > 0) await sleep(gapMs);
      const started = performance.now();
      await once();
      times.push(performance.now() - started);
    }
    return round(median(times), 2);
  };
  const result = {
    postgresBackToBack: await timed(0, () => client.query('SELECT 1')),
    postgresEvery50Ms: await timed(50, () => client.query('SELECT 1')),
    redisBackToBack: await timed(0, () => redis.ping()),
    redisEvery50Ms: await timed(50, () => redis.ping()),
  };
  await client.end();
  redis.disconnect();
  return result;
}

// --- Airlock as deployed: `npm start -- api` and `npm start -- worker` as their own
// processes (plus their executors), on a fresh database; this process only sends
// events and watches the queue.
await admin((client) => client.query(`CREATE DATABASE "${dbName}"`));
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
const adminToken = `at_bench_${randomBytes(16).toString('hex')}`;
const apiPort = await freePort();
const executors = availableParallelism();
const airlockEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  AIRLOCK_ADMIN_TOKEN: adminToken,
  AIRLOCK_REDIS_PREFIX: prefix,
  AIRLOCK_DATA_DIR: `/tmp/${prefix}`,
  // The API and the workers, started apart, seal and open binding secrets with the same keys.
  AIRLOCK_SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  LOG_LEVEL: 'error',
};
/** Starts `node <args>` and resolves once it prints `readyText`. */
async function spawnReady(args: string[], env: Record<string, string>, readyText: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(readyText)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
  return child;
}
/** With AIRLOCK_BENCH_CPU_PROFILES=<dir>, Airlock's processes write V8 CPU profiles there when they exit. */
const profileDir = process.env.AIRLOCK_BENCH_CPU_PROFILES;
function launch(role: 'api' | 'worker', env: Record<string, string>): Promise<ChildProcess> {
  const profiling = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${role}`];
  return spawnReady([...profiling, LAUNCHER, role], { ...airlockEnv, ...env }, 'Airlock is running.');
}
async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
// The API runs plugin code only for test routes: one executor. The worker gets one per core.
const apiProcess = await launch('api', { PORT: String(apiPort), HOST: '127.0.0.1', AIRLOCK_EXECUTORS: '1' });
const base = `http://127.0.0.1:${apiPort}`;
// A host app's HTTP client: kept-alive connections (fetch costs this process several times more CPU per request,
// and it shares the cores with Airlock).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function request(origin: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }) };
    const sent = http.request(`${origin}${path}`, { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as null, as the status says what happened
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    sent.on('error', reject);
    sent.end(payload);
  });
}
const call = (method: string, path: string, token: string, body?: unknown) => request(base, method, path, token, body);

// `greet` answers at once; `crunch` spins for a few milliseconds: the slow plugin of the fairness flood.
const hello = await compilePlugin({
  files: {
    'index.ts': `import { Host } from "@airlock/plugin-pdk";
export function greet(): i32 { Host.outputString("hello, " + Host.inputString()); return 0; }
export function crunch(): i32 { let x: u32 = 1; for (let i: u32 = 0; i < ${CRUNCH_ITERATIONS}; i++) x = x * 1664525 + 1013904223; Host.outputString(x.toString()); return 0; }
`,
  },
});
if (!hello.ok) throw new Error('cannot compile the bench plugin');
async function tenant(name: string): Promise<string> {
  const created = await call('POST', '/v1/admin/tenants', adminToken, { name, tier: 'enterprise' });
  const key = (await call('POST', `/v1/admin/tenants/${created.body.id}/keys`, adminToken)).body.key as string;
  // Room for the rates measured here.
  await call('PUT', `/v1/admin/tenants/${created.body.id}/quota`, adminToken, { overrides: { eventsPerSecond: 100_000, invocationsPerDay: 100_000_000, concurrentRuns: 100_000 } });
  const plugin = (await call('POST', '/v1/plugins', key, { name: 'greeter' })).body.id;
  await fetch(`${base}/v1/plugins/${plugin}/versions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/wasm' }, body: hello.ok ? Buffer.from(hello.wasm) : '' });
  await call('POST', `/v1/plugins/${plugin}/versions/1/publish`, key);
  await call('POST', '/v1/bindings', key, { event: 'order.created', pluginId: plugin, export: 'greet' });
  await call('POST', '/v1/bindings', key, { event: 'report.requested', pluginId: plugin, export: 'crunch' });
  return key;
}
const tenantA = await tenant('A');
const tenantB = await tenant('B');

const queueEvents = new QueueEvents(INVOCATIONS_QUEUE, { connection: createRedisConnection(redisUrl, 'consumer', 'bench-events'), prefix });
await queueEvents.waitUntilReady();
const sentAt = new Map<string, number>();
const doneAt = new Map<string, number>();
queueEvents.on('completed', ({ jobId }) => doneAt.set(jobId, performance.now()));
/** Answers other than 202, by status ("error" for no answer). */
const refusals: Record<string, number> = {};
async function emit(key: string, type = 'order.created'): Promise<string | null> {
  const started = performance.now();
  const response = await call('POST', '/v1/events', key, { type, payload: 'bench' }).catch(() => null);
  if (response === null || response.status !== 202) {
    const why = response === null ? 'error' : `${response.status} ${response.body?.code ?? ''}`;
    refusals[why] = (refusals[why] ?? 0) + 1;
    return null;
  }
  const id = response.body.invocations[0].id as string;
  sentAt.set(id, started);
  return id;
}
async function waitFor(ids: Array<string | null>, timeoutMs = 120_000): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  const wanted = ids.filter((id): id is string => id !== null);
  while (wanted.some((id) => !doneAt.has(id)) && performance.now() < deadline) await sleep(10);
  return wanted.filter((id) => doneAt.has(id)).map((id) => doneAt.get(id)! - sentAt.get(id)!);
}

// Backlog drains, each measured from the first finish to the last (as for bare BullMQ). First by a worker started
// on it (its code not yet optimized by V8: a cold start, reported apart); after the fixed-rate runs, by the same worker
// warm, as bare BullMQ's worker drains its backlog: the drain compared with bare BullMQ's.
const BACKLOG = 3000;
const drainedPerSecond = (ids: Array<string | null>) => drainRate(ids.flatMap((id) => (id === null ? [] : [doneAt.get(id)!])));
const coldBacklogIds: Array<string | null> = [];
for (let i = 0; i < BACKLOG; i += 50) coldBacklogIds.push(...(await Promise.all(Array.from({ length: 50 }, () => emit(tenantA)))));
const workerProcess = await launch('worker', { AIRLOCK_EXECUTORS: String(executors) });
await waitFor(coldBacklogIds, 300_000);
const airlockColdDrainPerSecond = drainedPerSecond(coldBacklogIds);

/**
 * Where the machine's CPU goes during fixed-rate runs: an API and a worker process, the worker's executors,
 * PostgreSQL and Redis (all of their processes: nothing else uses them meanwhile), and this process, the host app.
 */
function cpuOfPipeline(apiPid: number, workerPid: number): () => Record<string, number> {
  const executorPids = childrenOf(workerPid);
  return () => ({
    api: cpuMs(apiPid),
    worker: cpuMs(workerPid),
    executors: sum(executorPids.map((pid) => cpuMs(pid))),
    postgres: postgresCpuMs(),
    redis: redisCpuMs(),
    loadGenerator: cpuMs(process.pid),
  });
}
/** CPU milliseconds per event of each part, between two readings of cpuOfPipeline. */
const cpuPerEvent = (before: Record<string, number>, after: Record<string, number>, events: number) =>
  Object.fromEntries(Object.entries(after).map(([part, ms]) => [part, round((ms - before[part]!) / events, 2)]));
const airlockCpu = cpuOfPipeline(apiProcess.pid!, workerProcess.pid!);
const cpuBefore = airlockCpu();
let eventsSent = 0;

const rates = [100, 500, 1000];
const results: Record<number, { p50: number; p99: number; achieved: number; refused: number }> = {};
for (const rate of rates) {
  eventsSent += rate * 3;
  const ids: Array<string | null> = [];
  const started = performance.now();
  await paced(rate, rate * 3, async () => void ids.push(await emit(tenantA)));
  const latencies = await waitFor(ids);
  const seconds = (Math.max(...ids.filter((id): id is string => id !== null).map((id) => doneAt.get(id) ?? 0)) - started) / 1000;
  results[rate] = { p50: median(latencies), p99: percentile(latencies, 99), achieved: latencies.length / seconds, refused: ids.filter((id) => id === null).length };
  await sleep(500);
}

const cpuMsPerEvent = cpuPerEvent(cpuBefore, airlockCpu(), eventsSent);

const warmBacklogIds = await pausedBacklog(INVOCATIONS_QUEUE, BACKLOG, () => emit(tenantA));
await waitFor(warmBacklogIds, 300_000);
const airlockDrainPerSecond = drainedPerSecond(warmBacklogIds);

// Fairness: tenant B's latency alone, then while 10,000 events of A's slow plugin wait in the queue.
async function tenantBLatencies(): Promise<number[]> {
  const ids: Array<string | null> = [];
  // 200 events over 10 s: enough that the p99 is not simply the slowest one.
  await paced(20, 200, async () => void ids.push(await emit(tenantB)));
  return waitFor(ids);
}
const idle = await tenantBLatencies();
const crunchStarted = performance.now();
const crunchProbe = await emit(tenantA, 'report.requested');
await waitFor([crunchProbe]);
const crunchMs = performance.now() - crunchStarted;
// A's flood: 10,000 events queued while no worker runs (sent as fast as 100 connections
// allow), then the worker starts on them and B sends its trickle.
await stop(workerProcess);
const floodIds: Array<string | null> = [];
let floodNext = 0;
await Promise.all(
  Array.from({ length: 100 }, async () => {
    while (floodNext < 10_000) {
      floodNext++;
      floodIds.push(await emit(tenantA, 'report.requested'));
    }
  }),
);
const restartedWorker = await launch('worker', { AIRLOCK_EXECUTORS: String(executors) });
// B starts once the worker is warm (its first 100 flood jobs done), so B measures the queue, not the worker's start.
while (floodIds.filter((id) => id !== null && doneAt.has(id)).length < 100) await sleep(10);
const floodQueuedAt = performance.now();
const duringFlood = await tenantBLatencies();
const floodStillQueued = floodIds.filter((id) => id !== null && !doneAt.has(id)).length;
await waitFor(floodIds, 900_000);
const floodDrainSeconds = (performance.now() - floodQueuedAt) / 1000;
const fairnessP99Ratio = percentile(duringFlood, 99) / percentile(idle, 99);

const bare = await bareBullmq(rates, BACKLOG);

// --- The floor: the least any design meeting the pipeline's requirements does per
// event (bench/src/pipeline-floor.ts: an HTTP server that records the event and
// queues a job, a worker that runs the plugin in the sandbox and records the
// result, both committed to PostgreSQL), measured like Airlock above. What it
// reaches on this machine bounds what Airlock can.
async function pipelineFloor(rates: number[], backlog: number) {
  const database = new pg.Client({ connectionString: databaseUrl });
  await database.connect();
  await database.query('CREATE TABLE floor_events (id uuid PRIMARY KEY, type text NOT NULL, payload jsonb NOT NULL)');
  await database.query('CREATE TABLE floor_results (id uuid PRIMARY KEY, status text NOT NULL, output bytea NOT NULL, fuel_used bigint NOT NULL, duration_ms double precision NOT NULL)');
  const wasmPath = `/tmp/${prefix}-floor.wasm`;
  writeFileSync(wasmPath, hello.ok ? hello.wasm : new Uint8Array());
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = { PATH: airlockEnv.PATH, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PREFIX: prefix, PORT: String(port), PLUGIN_WASM: wasmPath, EXECUTORS: String(executors) };
  const floorScript = fileURLToPath(new URL('./pipeline-floor.js', import.meta.url));
  // The floor's queue, named in pipeline-floor.ts.
  const events = new QueueEvents('floor', { connection: createRedisConnection(redisUrl, 'consumer', 'bench-floor-events'), prefix });
  await events.waitUntilReady();
  const sent = new Map<string, number>();
  const done = new Map<string, number>();
  events.on('completed', ({ jobId }) => done.set(jobId, performance.now()));
  const send = async (): Promise<string | null> => {
    const started = performance.now();
    const answer = await request(origin, 'POST', '/events', '', { type: 'order.created', payload: 'bench' }).catch(() => null);
    if (answer?.status !== 202) return null;
    sent.set(answer.body.eventId, started);
    return answer.body.eventId as string;
  };
  const finished = async (ids: Array<string | null>): Promise<string[]> => {
    const wanted = ids.filter((id): id is string => id !== null);
    const deadline = performance.now() + 300_000;
    while (wanted.some((id) => !done.has(id)) && performance.now() < deadline) await sleep(10);
    return wanted.filter((id) => done.has(id));
  };

  const api = await spawnReady([floorScript, 'api'], env, 'floor api ready');
  const coldBacklogIds: Array<string | null> = [];
  for (let i = 0; i < backlog; i += 50) coldBacklogIds.push(...(await Promise.all(Array.from({ length: 50 }, send))));
  const worker = await spawnReady([floorScript, 'worker'], env, 'floor worker ready');
  const coldDrainPerSecond = drainRate((await finished(coldBacklogIds)).map((id) => done.get(id)!));

  const floorCpu = cpuOfPipeline(api.pid!, worker.pid!);
  const cpuBefore = floorCpu();
  let floorEventsSent = 0;
  const byRate: Record<number, { p50: number; p99: number; achieved: number; refused: number }> = {};
  for (const rate of rates) {
    floorEventsSent += rate * 3;
    const ids: Array<string | null> = [];
    const started = performance.now();
    await paced(rate, rate * 3, async () => void ids.push(await send()));
    const ended = await finished(ids);
    const latencies = ended.map((id) => done.get(id)! - sent.get(id)!);
    const seconds = (Math.max(...ended.map((id) => done.get(id)!)) - started) / 1000;
    byRate[rate] = { p50: median(latencies), p99: percentile(latencies, 99), achieved: latencies.length / seconds, refused: ids.filter((id) => id === null).length };
    await sleep(500);
  }
  const cpuMsPerEvent = cpuPerEvent(cpuBefore, floorCpu(), floorEventsSent);
  const drainPerSecond = drainRate((await finished(await pausedBacklog('floor', backlog, send))).map((id) => done.get(id)!));

  await stop(worker);
  await stop(api);
  await events.close();
  const queue = new Queue('floor', { connection: createRedisConnection(redisUrl, 'request', 'bench-floor-cleanup'), prefix });
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  await database.end();
  rmSync(wasmPath, { force: true });
  return { byRate, drainPerSecond, coldDrainPerSecond, cpuMsPerEvent };
}
const floor = await pipelineFloor(rates, BACKLOG);
const roundTripMs = await roundTrips();
const report = {
  p50Ms500: round(results[500]!.p50),
  p99Ms500: round(results[500]!.p99),
  p99Ms1000: round(results[1000]!.p99),
  achievedRate1000: round(results[1000]!.achieved),
  drainPerSecond: round(airlockDrainPerSecond),
  bullmqDrainPerSecond: round(bare.drainPerSecond),
  drainRatioVsBullmq: round(airlockDrainPerSecond / bare.drainPerSecond, 3),
  coldDrainPerSecond: round(airlockColdDrainPerSecond),
  coldDrainRatioVsBullmq: round(airlockColdDrainPerSecond / bare.drainPerSecond, 3),
  fairnessP99Ratio: round(fairnessP99Ratio, 2),
  tenantBIdleP99Ms: round(percentile(idle, 99)),
  tenantBFloodP99Ms: round(percentile(duringFlood, 99)),
  slowPluginEventMs: round(crunchMs),
  floodStillQueuedAfterB: floodStillQueued,
  floodDrainSeconds: round(floodDrainSeconds),
  floodAccepted: floodIds.filter((id) => id !== null).length,
  refusals,
  byRate: results,
  bullmqP50ByRate: bare.p50ByRate,
  bullmqP99ByRate: bare.p99ByRate,
  cpuMsPerEvent,
  executors,
  roundTripMs,
  floor: {
    p50Ms500: round(floor.byRate[500]!.p50),
    p99Ms500: round(floor.byRate[500]!.p99),
    p99Ms1000: round(floor.byRate[1000]!.p99),
    achievedRate1000: round(floor.byRate[1000]!.achieved),
    drainPerSecond: round(floor.drainPerSecond),
    drainRatioVsBullmq: round(floor.drainPerSecond / bare.drainPerSecond, 3),
    coldDrainPerSecond: round(floor.coldDrainPerSecond),
    byRate: floor.byRate,
    cpuMsPerEvent: floor.cpuMsPerEvent,
  },
};
for (const rate of rates) {
  const r = results[rate]!;
  console.log(`${rate} events/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, achieved ${r.achieved.toFixed(0)}/s, refused ${r.refused} (bare BullMQ no-op job: p50 ${bare.p50ByRate[rate]!.toFixed(1)} ms, p99 ${bare.p99ByRate[rate]!.toFixed(1)} ms)`);
}
const describeCpu = (perEvent: Record<string, number>) => Object.entries(perEvent).map(([part, ms]) => `${part} ${ms} ms`).join(', ');
console.log(`CPU per event during the fixed-rate runs: ${describeCpu(cpuMsPerEvent)}`);
console.log(
  `one round trip (p50): PostgreSQL ${roundTripMs.postgresBackToBack} ms back to back, ${roundTripMs.postgresEvery50Ms} ms every 50 ms; ` +
    `Redis ${roundTripMs.redisBackToBack} ms, ${roundTripMs.redisEvery50Ms} ms`,
);
for (const rate of rates) {
  const r = floor.byRate[rate]!;
  console.log(`floor at ${rate} events/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, achieved ${r.achieved.toFixed(0)}/s, refused ${r.refused}`);
}
console.log(`floor CPU per event: ${describeCpu(floor.cpuMsPerEvent)}; floor drain ${floor.drainPerSecond.toFixed(0)}/s (ratio ${report.floor.drainRatioVsBullmq}), by a worker started on the backlog ${floor.coldDrainPerSecond.toFixed(0)}/s`);
console.log(
  `drain: ${airlockDrainPerSecond.toFixed(0)} invocations/s vs bare BullMQ ${bare.drainPerSecond.toFixed(0)} jobs/s (ratio ${report.drainRatioVsBullmq}); ` +
    `by a worker started on the backlog ${airlockColdDrainPerSecond.toFixed(0)}/s (ratio ${report.coldDrainRatioVsBullmq})`,
);
console.log(
  `fairness: tenant B p99 ${report.tenantBIdleP99Ms} ms idle, ${report.tenantBFloodP99Ms} ms with A's 10,000 events of a ${report.slowPluginEventMs} ms plugin queued ` +
    `(${floodStillQueued} still queued when B finished; ratio ${report.fairnessP99Ratio})`,
);
if (json) console.log(JSON.stringify(report));

await stop(restartedWorker);
await stop(apiProcess);
await queueEvents.close();
const queue = createInvocationQueue(createRedisConnection(redisUrl, 'request', 'bench-cleanup'), prefix);
await queue.obliterate({ force: true }).catch(() => undefined);
await queue.close();
await admin((client) => client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
process.exit(0);

function round(value: number, digits = 1): number {
  return Number(value.toFixed(digits));
}
