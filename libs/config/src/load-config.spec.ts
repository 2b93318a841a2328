import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('gives every default when nothing is set', () => {
    assert.deepEqual(loadConfig({}, '/srv/airlock'), {
      host: '0.0.0.0',
      port: 3000,
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: '/srv/airlock/.airlock',
      adminToken: undefined,
      redisPrefix: 'airlock',
      bodyLimitBytes: 5 * 1024 * 1024,
      moduleUploadLimitBytes: 64 * 1024 * 1024,
      minFreeDiskBytes: 64 * 1024 * 1024,
      redisBinary: 'redis-server',
      executors: availableParallelism(),
      tenantShare: Math.max(1, Math.floor(availableParallelism() / 2)),
      secretsKeys: undefined,
      jobAttempts: 4,
      jobLockMs: 30_000,
      shutdownDrainMs: 10_000,
      streamMaxMs: 600_000,
      streamsPerTenant: 50,
      retentionIntervalMs: 3_600_000,
      retentionBatchSize: 1000,
      reconcileIntervalMs: 60_000,
      logLevel: 'info',
      otlpEndpoint: undefined,
      tracingDisabled: false,
      metricsPort: undefined,
    });
  });

  it('treats empty variables as unset and reads set ones', () => {
    const config = loadConfig(
      { PORT: '8080', DATABASE_URL: '', REDIS_URL: 'redis://cache:6379/2', AIRLOCK_DATA_DIR: '/var/lib/airlock' },
      '/srv',
    );
    assert.equal(config.port, 8080);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.redisUrl, 'redis://cache:6379/2');
    assert.equal(config.dataDir, '/var/lib/airlock');
  });

  it("derives a tenant's share of a worker from its executors unless set", () => {
    assert.equal(loadConfig({ AIRLOCK_EXECUTORS: '8' }, '/srv').tenantShare, 4);
    assert.equal(loadConfig({ AIRLOCK_EXECUTORS: '1' }, '/srv').tenantShare, 1);
    assert.equal(loadConfig({ AIRLOCK_EXECUTORS: '8', AIRLOCK_TENANT_SHARE: '16' }, '/srv').tenantShare, 16);
    assert.throws(() => loadConfig({ AIRLOCK_TENANT_SHARE: '0' }, '/srv'), ConfigError);
  });

  it('lists every bad variable at once, without echoing values', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: '70000',
          REDIS_URL: 'http://cache',
          AIRLOCK_ADMIN_TOKEN: 'hunter2',
          AIRLOCK_REDIS_PREFIX: 'has spaces',
          AIRLOCK_BODY_LIMIT_BYTES: '12',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(
          error.problems.map((problem) => problem.split(':')[0]),
          ['PORT', 'REDIS_URL', 'AIRLOCK_ADMIN_TOKEN', 'AIRLOCK_REDIS_PREFIX', 'AIRLOCK_BODY_LIMIT_BYTES'],
        );
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });

  it('refuses numbers that are not written as whole numbers in digits, rather than read them as others', () => {
    for (const value of ['0x10', '0b11', '1e3', '3000.0', '-1', '12abc']) {
      assert.throws(() => loadConfig({ PORT: value }, '/srv'), (error: unknown) => error instanceof ConfigError && /^PORT: must be a whole number written in digits/.test(error.problems[0]!), value);
    }
    assert.equal(loadConfig({ AIRLOCK_EXECUTORS: ' 3 ' }, '/srv').executors, 3, 'spaces around are not the number');
  });

  it('refuses database and Redis URLs that name no host (a typo that would mean the library default)', () => {
    for (const [name, value] of [
      ['REDIS_URL', 'redis://'],
      ['REDIS_URL', 'redis:/cache.example:6379'],
      ['REDIS_URL', 'redis://cache.example:6379/queue'],
      ['DATABASE_URL', 'postgresql://'],
      ['DATABASE_URL', 'postgresql:/postgres@db.example:5432/airlock'],
    ] as const) {
      assert.throws(() => loadConfig({ [name]: value }, '/srv'), (error: unknown) => error instanceof ConfigError && error.problems[0]!.startsWith(`${name}: `), value);
    }
    // A socket directory says where PostgreSQL is without a host name; a Redis database number is a path.
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql:///airlock?host=/run/postgresql' }, '/srv').databaseUrl, 'postgresql:///airlock?host=/run/postgresql');
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql:///airlock' }, '/srv').databaseUrl, 'postgresql:///airlock', 'the default socket');
    assert.equal(loadConfig({ REDIS_URL: 'rediss://cache.example:6380/3' }, '/srv').redisUrl, 'rediss://cache.example:6380/3');
    assert.equal(loadConfig({ AIRLOCK_DATA_DIR: '  /var/lib/airlock ' }, '/srv').dataDir, '/var/lib/airlock', 'spaces around a path are not part of it');
  });

  it('refuses secrets keys that share an id', () => {
    const key = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
    assert.throws(() => loadConfig({ AIRLOCK_SECRETS_KEYS: `${key},${key}` }, '/srv'), (error: unknown) => error instanceof ConfigError && /^AIRLOCK_SECRETS_KEYS: must give each key its own id/.test(error.problems[0]!));
  });

  it('refuses an admin token no Authorization header can carry (one with a space), without printing it', () => {
    assert.throws(
      () => loadConfig({ AIRLOCK_ADMIN_TOKEN: 'correct horse battery staple 1234' }, '/srv'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, ['AIRLOCK_ADMIN_TOKEN: must not contain spaces or other whitespace (it is sent after "Bearer ")']);
        assert.doesNotMatch(error.message, /horse/);
        return true;
      },
    );
  });
});
