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
