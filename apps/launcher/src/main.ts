// Starts Airlock. `node main.js` (what `npm start` runs) starts the API and the
// worker in this one process, with the embedded database and a local Redis
// when none is configured. `node main.js api` or `node main.js worker` starts
// one of them alone, for production, where both DATABASE_URL and REDIS_URL are required.
import { telemetry } from './instrumentation.js';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type AddressInfo, isIPv6 } from 'node:net';
import { resolveAdminToken } from '@airlock/api/admin-token';
import { resolveSecretBox, SECRETS_KEYS_FILE } from '@airlock/api/secrets';
import { createApiApp } from '@airlock/api/api-app';
import { EDITOR_PATH, webEditorDirectory } from '@airlock/api/web-editor';
import { ConfigError, loadConfig, type AirlockConfig } from '@airlock/config';
import { MigrationChecksumError, openDatabase, PluginKvRepository, SpanRepository } from '@airlock/db';
import { DatabaseKvStore } from '@airlock/execution';
import { createInvocationQueue, createRedisConnection, createWebhookQueue, queueProbe } from '@airlock/queue';
import { observeExecutorPool, observeQueues } from '@airlock/telemetry';
import { serveMetrics } from './metrics-server.js';
import { Sandbox } from '@airlock/sandbox';
import { createWorkerApp } from '@airlock/worker/worker-app';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.js';
import { cannotListen } from './listen-errors.js';
import { RedisBinaryMissingError, RedisStartError } from './private-redis.js';
import { resolveRedis, untilRedisAnswers } from './redis-resolution.js';

type Role = 'all' | 'api' | 'worker';
/** What closing may take beyond the worker's drain (connections, executors, the embedded database). */
const SHUTDOWN_MARGIN_MS = 5_000;

class LaunchError extends Error {}

/** How the banner names the interface listened on: a URL's host (an IPv6 address in brackets; any address as localhost). */
function shownHostOf(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * A SIGINT or SIGTERM that came while starting: the start stops at its next step and closes what it opened (the
 * private Redis above all, which would otherwise outlive this process), rather than the process dying half-started.
 */
let stopSignal: NodeJS.Signals | undefined;
const shutdownRequested = () => stopSignal !== undefined;
/** What must not outlive this process, of what the start has opened so far (see Launched.lastResort). */
let lastResortWhileStarting: (() => Promise<void>) | undefined;
/** How long a start asked to stop may take to reach a step where it can: a step may wait on a server that is down. */
const STOP_WHILE_STARTING_MS = 10_000;
/** The limit on a start asked to stop; once the start reaches a step where it can, the usual stop's limit applies. */
let startingStopTimer: NodeJS.Timeout | undefined;
const stopWhileStarting = (signal: NodeJS.Signals) => {
  if (stopSignal !== undefined) return;
  stopSignal = signal;
  console.log(`Airlock is stopping (${signal}) as soon as what it started so far can be closed.`);
  startingStopTimer = setTimeout(() => {
    console.error(`Airlock did not reach a point where it could stop within ${STOP_WHILE_STARTING_MS / 1000} s; exiting anyway.`);
    const exit = () => process.exit(1);
    setTimeout(exit, 2_000).unref();
    void (lastResortWhileStarting?.() ?? Promise.resolve()).then(exit, exit);
  }, STOP_WHILE_STARTING_MS).unref();
};

/** Closes what a start opened, last first; `lastResort` stops only what must not outlive the process, at once. */
interface Launched {
  close(): Promise<void>;
  lastResort(): Promise<void>;
}

async function launch(role: Role, config: AirlockConfig): Promise<Launched> {
  if (role !== 'all' && (config.databaseUrl === undefined || config.redisUrl === undefined)) {
    throw new LaunchError(
      `Starting the ${role} alone needs DATABASE_URL and REDIS_URL: the embedded database and the private Redis ` +
        'serve one process only. Run "npm start" to start the API and the worker together with them.',
    );
  }
  // The API seals binding and webhook secrets, the worker opens them: processes started apart, each with a key of
  // its own made in its own data dir, could not (every run with secrets would fail). One started alone uses the
  // keys it is given, or those a start of both left in a data dir it shares, never new ones of its own.
  if (role !== 'all' && config.secretsKeys === undefined && !existsSync(join(config.dataDir, SECRETS_KEYS_FILE))) {
    throw new LaunchError(
      `Starting the ${role} alone needs AIRLOCK_SECRETS_KEYS, the same for every API and worker process: they seal and open ` +
        `binding and webhook secrets. Make one with: node -e "console.log('k1:'+require('crypto').randomBytes(32).toString('base64'))"`,
    );
  }
  // Made for this process's user only: it holds the database, the queue, the keys.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    throw new LaunchError(`The data dir ${config.dataDir} (AIRLOCK_DATA_DIR) cannot be made: ${error.message}.`);
  });
  const closers: Array<() => Promise<unknown>> = [];
  // The private Redis (a child that would outlive this process) and the data dir's lock (held until it is stale):
  // released even when closing the rest takes too long.
  const lastResorts: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => console.error(error));
  };
  const launched: Launched = {
    close,
    lastResort: async () => void (await Promise.all(lastResorts.map((stop) => stop().catch(() => undefined)))),
  };
  lastResortWhileStarting = launched.lastResort;
  try {
    // The embedded database and the private Redis keep their files in the data dir: one process at a time.
    if (config.databaseUrl === undefined || config.redisUrl === undefined) {
      const release = await lockDataDir(config.dataDir, (error) => {
        // Another process took the data dir (this one stalled for longer than the lock lasts, and looked dead): two
        // on the same database files lose writes, so this one stops.
        console.error(`The lock on ${config.dataDir} was lost (${error.message}): another Airlock process took the data dir. Stopping.`);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      }).catch((error: unknown) => {
        if (error instanceof DataDirInUseError) throw error;
        throw new LaunchError(`The data dir ${config.dataDir} (AIRLOCK_DATA_DIR) cannot be used: ${error instanceof Error ? error.message : String(error)}.`);
      });
      closers.push(release);
      lastResorts.push(release);
    }
    if (shutdownRequested()) return launched;
    const redis = await resolveRedis(config);
    closers.push(redis.stop);
    lastResorts.push(redis.stop);
    if (redis.origin === 'REDIS_URL') await untilRedisAnswers(redis.url, redis.origin, shutdownRequested);
    if (shutdownRequested()) return launched;
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, minFreeDiskBytes: config.minFreeDiskBytes }).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (config.databaseUrl !== undefined) {
        if (error instanceof MigrationChecksumError) throw error;
        // Reaching it or signing in failed (not a migration): the URL or the server is the thing to look at.
        const connecting = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '28P01', '28000', '3D000'].includes(String((error as { code?: unknown }).code));
        throw new LaunchError(
          `PostgreSQL (DATABASE_URL) could not be opened: ${message}.` + (connecting ? " Check that it runs and that the URL's host, port, database, user and password are right." : ''),
        );
      }
      throw new LaunchError(
        `The embedded database in ${join(config.dataDir, 'pgdata')} could not be opened (${message}). If the disk is full, free some space; ` +
          'if the directory is damaged, restore it from a backup, or move it away to start with an empty database.',
      );
    });
    closers.push(() => database.close());
    if (shutdownRequested()) return launched;
    // Tenants' spans go to their trace store from now on; the last ones are written before the database closes.
    const spans = new SpanRepository(database.prisma, database.sql);
    telemetry.spanStore.attach((batch) => spans.insertMany(batch));
    closers.push(() => telemetry.flush());
    const lines = [
      `database: ${database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)'}` +
        (database.appliedMigrations.length > 0 ? `, applied ${database.appliedMigrations.join(', ')}` : ''),
      `redis: ${redis.origin}`,
    ];

    // Plugin code runs in executor processes started with an empty environment;
    // in the all-in-one process the API and the worker share them.
    const sandbox = await Sandbox.start({ executors: config.executors, kv: new DatabaseKvStore(new PluginKvRepository(database.prisma)) });
    closers.push(() => sandbox.stop());
    const secrets = await resolveSecretBox(config.secretsKeys, config.dataDir);

    // What /metrics reports besides counters: the executors and the queues, read at each scrape.
    observeExecutorPool(() => sandbox.stats());
    const probeRedis = createRedisConnection(redis.url, 'request', 'airlock-metrics');
    probeRedis.on('error', () => undefined);
    closers.push(async () => probeRedis.disconnect());
    const probedQueues = [createInvocationQueue(probeRedis, config.redisPrefix), createWebhookQueue(probeRedis, config.redisPrefix)];
    closers.push(() => Promise.all(probedQueues.map((queue) => queue.close())));
    observeQueues(probedQueues.map(queueProbe));
    if (config.metricsPort !== undefined) {
      const server = await serveMetrics(config.host, config.metricsPort).catch((error: NodeJS.ErrnoException) => {
        throw new LaunchError(cannotListen('metrics', 'AIRLOCK_METRICS_PORT', config.host, config.metricsPort!, error));
      });
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      lines.push(`metrics: http://${shownHostOf(config.host)}:${(server.address() as AddressInfo).port}/metrics`);
    }

    // The API is made first: nestjs-pino keeps one request logger per process, made by the first app to log, and
    // the API's names each request by its id (see serviceLogOptions).
    const apiClosersFrom = closers.length;
    let keepAdminToken: (() => Promise<void>) | undefined;
    if (role !== 'worker') {
      const requestRedis = createRedisConnection(redis.url, 'request', 'airlock-api');
      requestRedis.on('error', () => undefined); // reported by /readyz, not as crashes
      closers.push(async () => requestRedis.disconnect());
      const invocationQueue = createInvocationQueue(requestRedis, config.redisPrefix);
      closers.push(() => invocationQueue.close());
      const adminToken = await resolveAdminToken(config.adminToken, config.dataDir);
      const api = await createApiApp({
        config,
        prisma: database.prisma,
        sql: database.sql,
        redis: requestRedis,
        adminTokenHash: adminToken.hash,
        pingDatabase: () => database.ping(),
        sandbox,
        secrets,
        invocationQueue,
      });
      closers.push(() => api.close());
      await api.listen(config.port, config.host).catch((error: NodeJS.ErrnoException) => {
        throw new LaunchError(cannotListen('API', 'PORT', config.host, config.port, error));
      });
      const shownHost = shownHostOf(config.host);
      // The port bound, which PORT=0 leaves to the system.
      const { port } = api.getHttpServer().address() as AddressInfo;
      lines.push(`api: http://${shownHost}:${port} (docs at /docs)`);
      lines.push(
        webEditorDirectory() === null
          ? 'web editor: not built (npm run build builds it)'
          : `web editor: http://${shownHost}:${port}${EDITOR_PATH} (sign in with a tenant API key)`,
      );
      if (adminToken.generated !== undefined) {
        // Kept only once everything has started, just before it is printed (see below).
        keepAdminToken = adminToken.keep;
        lines.push(
          `admin token (shown this once; only its hash is kept): ${adminToken.generated}`,
          '  to get a new one, delete admin-token.sha256 in the data dir and restart, or set AIRLOCK_ADMIN_TOKEN',
        );
      }
    }
    if (role !== 'api') {
      // Closed after the API (closers run last first): no new events while the worker drains.
      const consumerRedis = createRedisConnection(redis.url, 'consumer', 'airlock-worker');
      closers.splice(apiClosersFrom, 0, async () => consumerRedis.quit());
      const worker = await createWorkerApp({ config, prisma: database.prisma, sql: database.keyedSql, redis: consumerRedis, sandbox, secrets });
      closers.splice(apiClosersFrom + 1, 0, () => worker.close());
      lines.push('worker: ready');
    }
    // A generated admin token's hash is written only now: a start that failed before kept none of a token never shown.
    await keepAdminToken?.().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      throw new LaunchError(
        'Another Airlock process on this data dir generated an admin token at the same time, and kept it: this one stops. ' +
          'Start it again (it then takes that token), or set AIRLOCK_ADMIN_TOKEN for every process.',
      );
    });
    console.log(`Airlock is running.\n${lines.map((line) => `  ${line}`).join('\n')}`);
    return launched;
  } catch (error) {
    await close();
    throw error;
  }
}

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['all', 'api', 'worker'].includes(role)) throw new LaunchError(`Unknown role "${role}": use all, api or worker.`);
  const config = loadConfig(process.env);
  process.on('SIGINT', stopWhileStarting);
  process.on('SIGTERM', stopWhileStarting);
  const { close, lastResort } = await launch(role, config);
  process.off('SIGINT', stopWhileStarting);
  process.off('SIGTERM', stopWhileStarting);
  clearTimeout(startingStopTimer);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`Airlock is stopping (${signal}).`);
    const deadlineMs = config.shutdownDrainMs + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      console.error(`Airlock did not stop within ${deadlineMs / 1000} s; exiting anyway.`);
      // Not leaving a private redis-server running, nor the data dir locked until the lock is stale.
      const exit = () => process.exit(1);
      setTimeout(exit, 2_000).unref();
      void lastResort().then(exit, exit);
    }, deadlineMs).unref();
    close().then(
      () => process.exit(), // 0, unless a failure set process.exitCode (the data dir's lock lost)
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Asked to stop while starting: stopped as any running Airlock is, within the same limit (runs may be draining).
  if (stopSignal !== undefined) stop(stopSignal);
}

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof LaunchError ||
    error instanceof RedisBinaryMissingError ||
    error instanceof RedisStartError ||
    error instanceof DataDirInUseError ||
    error instanceof MigrationChecksumError;
  console.error(known ? (error as Error).message : error);
  process.exit(1);
});
