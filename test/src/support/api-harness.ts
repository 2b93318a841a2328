import { telemetry } from './telemetry.js';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiApp } from '@airlock/api/api-app';
import { resolveSecretBox } from '@airlock/api/secrets';
import { loadConfig } from '@airlock/config';
import { type Database, openDatabase, PluginKvRepository, SpanRepository } from '@airlock/db';
import { DatabaseKvStore } from '@airlock/execution';
import { createInvocationQueue, createRedisConnection, queueProbe } from '@airlock/queue';
import { Sandbox, type SandboxOptions } from '@airlock/sandbox';
import { observeExecutorPool, observeQueues } from '@airlock/telemetry';
import { createFreshDatabase, type FreshDatabase } from './fresh-database.js';
import { HttpClient } from './http-client.js';
import { testEnvironment } from './test-environment.js';

export { spanExporter } from './telemetry.js';

export interface ApiHarness {
  http: HttpClient;
  baseUrl: string;
  adminToken: string;
  /** Redis key prefix of this harness, fresh per start. */
  redisPrefix: string;
  database: Database;
  config: ReturnType<typeof loadConfig>;
  sandbox: Sandbox;
  /** The keys the API seals binding secrets with. */
  secretBox: Awaited<ReturnType<typeof resolveSecretBox>>;
  /** Every route Express serves, except the docs UI and the document itself. */
  routes: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

export interface ApiHarnessOptions {
  redisUrl?: string;
  env?: Record<string, string>;
  /** DNS and address rules for plugin HTTP in the harness's sandbox. */
  sandboxHttp?: SandboxOptions['http'];
  /** Executors of the harness's sandbox (default 1). */
  executors?: number;
}

/**
 * Boots the real API app, in this process, on a fresh PostgreSQL database and a
 * fresh Redis key prefix, listening on a free loopback port.
 */
export async function startApi(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const fresh: FreshDatabase = await createFreshDatabase();
  const adminToken = `at_test_${randomBytes(16).toString('hex')}`;
  const redisPrefix = `airlock-test-${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: fresh.url,
    REDIS_URL: options.redisUrl ?? testEnvironment.redisUrl,
    AIRLOCK_ADMIN_TOKEN: adminToken,
    AIRLOCK_REDIS_PREFIX: redisPrefix,
    AIRLOCK_DATA_DIR: join(tmpdir(), redisPrefix),
    LOG_LEVEL: 'error',
    ...options.env,
  });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const spans = new SpanRepository(database.prisma, database.sql);
  telemetry.spanStore.attach((batch) => spans.insertMany(batch));
  const redis = createRedisConnection(config.redisUrl!, 'request', 'airlock-test-api');
  redis.on('error', () => undefined);
  const sandbox = await Sandbox.start({
    executors: options.executors ?? 1,
    kv: new DatabaseKvStore(new PluginKvRepository(database.prisma)),
    ...(options.sandboxHttp ? { http: options.sandboxHttp } : {}),
  });
  const secretBox = await resolveSecretBox(config.secretsKeys, config.dataDir);
  const invocationQueue = createInvocationQueue(redis, redisPrefix);
  // As the launcher does: /metrics reads the executors and the queue at each scrape.
  observeExecutorPool(() => sandbox.stats());
  observeQueues([queueProbe(invocationQueue)]);
  const app = await createApiApp({
    config,
    prisma: database.prisma,
    sql: database.sql,
    redis,
    adminTokenHash: createHash('sha256').update(adminToken).digest('hex'),
    pingDatabase: () => database.ping(),
    sandbox,
    secrets: secretBox,
    invocationQueue,
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const layers: ExpressLayer[] = app.getHttpAdapter().getInstance().router.stack;
  const routes = layers
    .flatMap((layer) => (layer.route === undefined ? [] : Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route!.path }))))
    // `{/*splat}` layers are middleware Nest mounts for every method (the request logger), not endpoints.
    .filter((route) => !route.path.startsWith('/docs') && !route.path.startsWith('/openapi') && route.path !== '{/*splat}');
  return {
    http: new HttpClient(baseUrl),
    baseUrl,
    adminToken,
    redisPrefix,
    database,
    config,
    sandbox,
    secretBox,
    routes,
    close: async () => {
      await app.close();
      await invocationQueue.close();
      await sandbox.stop();
      redis.disconnect();
      await telemetry.flush();
      await database.close();
      await fresh.drop();
    },
  };
}
