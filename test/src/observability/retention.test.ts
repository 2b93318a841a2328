import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { RetentionRepository, TenantQuotaRepository } from '@airlock/db';
import { PolicyResolver, RetentionSweeper } from '@airlock/execution';
import { createMaintenanceQueue, createRedisConnection } from '@airlock/queue';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { type InProcessWorker, startWorker } from '../support/pipeline.js';

const DAY_MS = 86_400_000;
/** The tier files (sandbox-policies/ at the top of the repository). */
const tiersDirectory = new URL('../../../sandbox-policies/', import.meta.url);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('retention: a scheduled job deletes what is older than each tenant’s retention, in batches', () => {
  let api: ApiHarness;
  let worker: InProcessWorker | undefined;

  before(async () => {
    // Batches of two rows, and a sweep every second.
    api = await startApi({ env: { AIRLOCK_RETENTION_BATCH_SIZE: '2', AIRLOCK_RETENTION_INTERVAL_MS: '1000' } });
  });
  after(async () => {
    await worker?.close();
    await api.close();
  });

  /**
   * A tenant with, from ten days ago: 5 finished invocations, 1 still queued, 1
   * event, 3 spans, 3 webhook deliveries; and a fresh invocation, span and delivery.
   */
  async function tenantWithHistory(tier: string, overrides: { retentionDays?: number } = {}) {
    const { prisma } = api.database;
    const tenant = await prisma.tenant.create({ data: { name: `retention ${tier}`, tier } });
    await prisma.tenantQuota.create({ data: { tenantId: tenant.id, overrides } });
    const old = new Date(Date.now() - 10 * DAY_MS);
    const invocation = { tenantId: tenant.id, pluginId: randomUUID(), version: 1, exportName: 'run' };
    await prisma.invocation.createMany({
      data: Array.from({ length: 5 }, (_, n) => ({
        ...invocation,
        status: n === 0 ? 'trap' : 'ok',
        createdAt: old,
        finishedAt: old,
        fuelUsed: 100n,
        durationMs: 2.5,
        egressBytes: 7n,
        logs: [{ level: 'info', message: 'old', atMs: 0 }],
      })),
    });
    const stuck = await prisma.invocation.create({ data: { ...invocation, createdAt: old } });
    const fresh = await prisma.invocation.create({ data: { ...invocation, status: 'ok', finishedAt: new Date() } });
    await prisma.event.create({ data: { tenantId: tenant.id, type: 'old.event', payload: new Uint8Array(0), createdAt: old } });
    const span = { tenantId: tenant.id, traceId: randomBytes(16).toString('hex'), name: 'sandbox.run', kind: 'internal', durationMs: 1, status: 'ok' };
    await prisma.span.createMany({ data: [0, 1, 2].map(() => ({ ...span, spanId: randomBytes(8).toString('hex'), startTime: old })) });
    await prisma.span.create({ data: { ...span, spanId: randomBytes(8).toString('hex'), startTime: new Date() } });
    const webhook = await prisma.webhook.create({ data: { tenantId: tenant.id, url: 'https://hooks.example.com/', secret: 'sealed' } });
    const delivery = { tenantId: tenant.id, webhookId: webhook.id, status: 'delivered' };
    await prisma.webhookDelivery.createMany({ data: [0, 1, 2].map(() => ({ ...delivery, invocationId: randomUUID(), createdAt: old })) });
    await prisma.webhookDelivery.create({ data: { ...delivery, invocationId: fresh.id } });
    return { id: tenant.id, stuck: stuck.id, fresh: fresh.id };
  }

  const counts = async (tenantId: string) => {
    const { prisma } = api.database;
    return {
      invocations: await prisma.invocation.count({ where: { tenantId } }),
      events: await prisma.event.count({ where: { tenantId } }),
      spans: await prisma.span.count({ where: { tenantId } }),
      webhookDeliveries: await prisma.webhookDelivery.count({ where: { tenantId } }),
    };
  };

  it("keeps each tenant's data for its tier's days, or its override's", async () => {
    const free = await tenantWithHistory('free'); // 7 days
    const enterprise = await tenantWithHistory('enterprise'); // 90 days
    const shortened = await tenantWithHistory('enterprise', { retentionDays: 3 });

    worker = await startWorker(api);
    for (let tries = 0; tries < 100 && (await counts(shortened.id)).invocations > 2; tries++) await sleep(100);
    await sleep(200); // the sweep goes tenant by tenant
    for (let tries = 0; tries < 100 && (await counts(free.id)).invocations > 2; tries++) await sleep(100);

    for (const swept of [free, shortened]) {
      assert.deepEqual(await counts(swept.id), { invocations: 2, events: 0, spans: 1, webhookDeliveries: 1 }, 'old rows gone');
      const left = await api.database.prisma.invocation.findMany({ where: { tenantId: swept.id }, select: { id: true } });
      assert.deepEqual(left.map((row) => row.id).sort(), [swept.stuck, swept.fresh].sort(), 'an unfinished invocation stays whatever its age');
    }
    assert.deepEqual(await counts(enterprise.id), { invocations: 7, events: 1, spans: 4, webhookDeliveries: 4 }, 'within 90 days: nothing deleted');

    // A second worker adds no second schedule.
    const second = await startWorker(api);
    const redis = createRedisConnection(api.config.redisUrl!, 'request', 'retention-test');
    const queue = createMaintenanceQueue(redis, api.redisPrefix);
    const schedulers = await queue.getJobSchedulers();
    assert.deepEqual(
      schedulers.map((scheduler) => [scheduler.key, scheduler.every]).sort(),
      [['reconcile', 60_000], ['reseal', 1000], ['retention', 1000]],
      'one schedule each, however many workers',
    );
    await queue.close();
    redis.disconnect();
    await second.close();
  });

  it('deletes in batches until nothing old is left, in one sweep', async () => {
    // The sweeps below are the only ones: the worker's scheduled sweeps would race them.
    await worker?.close();
    worker = undefined;
    const tenant = await tenantWithHistory('free');
    const usage = async () => (await api.http.get(`/v1/admin/tenants/${tenant.id}/usage`, { token: api.adminToken })).body.days;
    const before = await usage();
    const tenDaysAgo = new Date(Date.now() - 10 * DAY_MS).toISOString().slice(0, 10);
    assert.deepEqual(before.find((day: { day: string }) => day.day === tenDaysAgo), { day: tenDaysAgo, invocations: { ok: 4, trap: 1 }, fuel: 500, runMs: 12.5, egressBytes: 35 });
    // Batches of two: five old invocations take three statements, and one sweep runs them all.
    const deleted = await new RetentionRepository(api.database.prisma).sweep(tenant.id, new Date(Date.now() - 7 * DAY_MS), 2);
    assert.deepEqual(deleted, { invocations: 5, events: 1, spans: 3, webhookDeliveries: 3, kvEntries: 0 });
    assert.deepEqual(await counts(tenant.id), { invocations: 2, events: 0, spans: 1, webhookDeliveries: 1 });
    assert.deepEqual(await usage(), before, 'usage outlives the invocations it counts');
  });

  it("sweeps every other tenant when one cannot be swept (its tier's file is gone), and says which", async () => {
    await worker?.close();
    worker = undefined;
    const { prisma } = api.database;
    // First in the sweep's order (by id), under a tier no file defines any more.
    const orphan = await prisma.tenant.create({ data: { id: '00000000-0000-4000-8000-000000000000', name: 'retention retired tier', tier: 'retired' } });
    try {
      const tenant = await tenantWithHistory('free');
      const sweeper = new RetentionSweeper(new RetentionRepository(prisma), new PolicyResolver(new TenantQuotaRepository(prisma)), 2);
      const swept = await sweeper.sweep();
      assert.deepEqual([swept.failed, swept.failures.map((failure) => failure.tenantId)], [1, [orphan.id]]);
      assert.match(swept.failures[0]!.reason, /retired/);
      assert.deepEqual(await counts(tenant.id), { invocations: 2, events: 0, spans: 1, webhookDeliveries: 1 }, 'the tenant after it was swept');
      // The tier's file back (as after an operator's fix): the next sweep reads it, rather than a failure kept.
      const free = JSON.parse(await readFile(new URL('free.json', tiersDirectory), 'utf8')) as { tier: string };
      await writeFile(new URL('retired.json', tiersDirectory), JSON.stringify({ ...free, tier: 'retired' }));
      assert.deepEqual([(await sweeper.sweep()).failed], [0]);
    } finally {
      await rm(new URL('retired.json', tiersDirectory), { force: true });
      await prisma.tenant.delete({ where: { id: orphan.id } });
    }
  });

  it("keeps a live plugin's key-value data, and deletes what deleted plugins and test namespaces left untouched", async () => {
    const { prisma } = api.database;
    const tenant = await prisma.tenant.create({ data: { name: 'kv retention', tier: 'free' } });
    const live = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'live' } });
    const deleted = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'deleted', deletedAt: new Date(Date.now() - 20 * DAY_MS) } });
    const namespace = randomUUID(); // a version's own, for its tests
    const old = new Date(Date.now() - 10 * DAY_MS);
    const entry = (pluginId: string, key: string, updatedAt: Date) => ({ tenantId: tenant.id, pluginId, key, value: new Uint8Array([1]), updatedAt });
    await prisma.pluginKvEntry.createMany({
      data: [entry(live.id, 'old', old), entry(deleted.id, 'old', old), entry(deleted.id, 'fresh', new Date()), entry(namespace, 'old', old), entry(namespace, 'fresh', new Date())],
    });
    const swept = await new RetentionRepository(prisma).sweep(tenant.id, new Date(Date.now() - 7 * DAY_MS), 2);
    assert.equal(swept.kvEntries, 2);
    const left = await prisma.pluginKvEntry.findMany({ where: { tenantId: tenant.id }, select: { pluginId: true, key: true } });
    assert.deepEqual(
      left.map((row) => `${row.pluginId === live.id ? 'live' : row.pluginId === deleted.id ? 'deleted' : 'namespace'}/${row.key}`).sort(),
      ['deleted/fresh', 'live/old', 'namespace/fresh'],
    );
    // Key counts follow, and one left at zero by a namespace nothing uses any more goes.
    const gone = randomUUID();
    await prisma.pluginKvEntry.create({ data: entry(gone, 'old', old) });
    await new RetentionRepository(prisma).sweep(tenant.id, new Date(Date.now() - 7 * DAY_MS), 2);
    const counts = await prisma.pluginKvUsage.findMany({ where: { tenantId: tenant.id } });
    const countOf = (pluginId: string) => counts.find((row) => row.pluginId === pluginId)?.keys;
    assert.deepEqual([countOf(live.id), countOf(deleted.id), countOf(namespace), countOf(gone)], [1, 1, 1, undefined]);
  });
});
