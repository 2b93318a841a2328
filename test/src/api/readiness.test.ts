import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { loadConfig } from '@airlock/config';
import { RedisBinaryMissingError, startPrivateRedis, type PrivateRedis } from '@airlock/launcher/private-redis';
import { createRedisConnection } from '@airlock/queue';
import { createWorkerApp } from '@airlock/worker/worker-app';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { cutDatabase } from '../support/fresh-database.js';

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('health and readiness', () => {
  let dir: string;
  let redis: PrivateRedis;
  let api: ApiHarness;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-readiness-'));
    // A private server, so stopping it cannot disturb anything else on the machine.
    redis = await startPrivateRedis({ dir, appendOnly: false });
    api = await startApi({ redisUrl: redis.url });
  });
  after(async () => {
    await api.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is live and ready when the database and Redis answer', async () => {
    assert.deepEqual((await api.http.get('/healthz')).body, { status: 'ok' });
    const ready = await api.http.get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { database: 'up', redis: 'up' }, workers: 0 });
  });

  it('counts a worker once it has started, and stops counting it when it stops', async () => {
    const config = loadConfig({ REDIS_URL: redis.url, AIRLOCK_REDIS_PREFIX: api.redisPrefix, LOG_LEVEL: 'error' });
    const connection: Redis = createRedisConnection(redis.url, 'consumer', 'airlock-test-worker');
    const worker: INestApplicationContext = await createWorkerApp({ config, prisma: api.database.prisma, sql: api.database.keyedSql, redis: connection, sandbox: api.sandbox, secrets: api.secretBox });
    try {
      assert.equal((await api.http.get('/readyz')).body.workers, 1);
    } finally {
      await worker.close();
      await connection.quit();
    }
    assert.equal((await api.http.get('/readyz')).body.workers, 0);
  });

  it('answers 503 naming the database while it is unreachable, and recovers when it is back', async () => {
    const cut = await cutDatabase(api.config.databaseUrl!);
    try {
      const down = await eventually(() => api.http.get('/readyz'), (response) => response.status === 503);
      assert.equal(down.status, 503, down.text);
      assert.equal(down.body.error.code, 'not_ready');
      assert.equal(down.body.error.message, 'Not ready: database unreachable.');
      assert.deepEqual(down.body.error.details.checks, { database: 'down', redis: 'up' });
    } finally {
      await cut.restore();
    }
    const back = await eventually(() => api.http.get('/readyz'), (response) => response.status === 200, 10_000);
    assert.equal(back.status, 200, back.text);
  });

  it('answers 503 naming Redis while it is down, quickly, and recovers when it is back', async () => {
    const port = redis.port;
    await redis.stop();
    const down = await eventually(() => api.http.get('/readyz'), (response) => response.status === 503);
    assert.equal(down.status, 503);
    assert.equal(down.body.error.code, 'not_ready');
    assert.equal(down.body.error.message, 'Not ready: redis unreachable.');
    assert.deepEqual(down.body.error.details.checks, { database: 'up', redis: 'down' });
    assert.equal((await api.http.get('/healthz')).status, 200, 'still live');

    redis = await startPrivateRedis({ dir, appendOnly: false, port });
    const back = await eventually(() => api.http.get('/readyz'), (response) => response.status === 200);
    assert.equal(back.status, 200, 'ready again without a restart');
  });

  it('says how to install Redis when there is no redis-server to start', async () => {
    await assert.rejects(
      startPrivateRedis({ dir, binary: join(dir, 'no-such-redis-server') }),
      (error: unknown) => error instanceof RedisBinaryMissingError && /apt-get install redis-server/.test(error.message),
    );
  });
});
