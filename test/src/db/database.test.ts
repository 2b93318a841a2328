import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  BindingRepository,
  type Database,
  EventRepository,
  type EventToRecord,
  InvocationWorkRepository,
  MIGRATIONS_DIR,
  openDatabase,
  PluginKvRepository,
  PluginLogRepository,
  Prisma,
  readMigrationFiles,
  RetentionRepository,
  SpanRepository,
} from '@airlock/db';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';

/** Exercises every model; the list must name them all, so a new model without a check fails here. */
const MODEL_CHECKS: Record<Prisma.ModelName, (db: Database) => Promise<void>> = {
  Tenant: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Model check' } });
    assert.equal(tenant.tier, 'free', 'column default');
    const renamed = await prisma.tenant.update({ where: { id: tenant.id }, data: { name: 'Renamed' } });
    assert.equal(renamed.name, 'Renamed');
    assert.ok(renamed.updatedAt >= tenant.updatedAt);
    assert.equal((await prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).name, 'Renamed');
  },
  ApiKey: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Key owner' } });
    const key = await prisma.apiKey.create({
      data: { tenantId: tenant.id, name: 'k', prefix: `p${Date.now()}`, secretHash: 'a'.repeat(64) },
    });
    const withTenant = await prisma.apiKey.findUniqueOrThrow({ where: { prefix: key.prefix }, include: { tenant: true } });
    assert.equal(withTenant.tenant.name, 'Key owner');
    await assert.rejects(
      prisma.apiKey.create({ data: { tenantId: tenant.id, name: 'dup', prefix: key.prefix, secretHash: 'b'.repeat(64) } }),
      /Unique constraint/,
    );
    await prisma.tenant.delete({ where: { id: tenant.id } });
    assert.equal(await prisma.apiKey.count({ where: { id: key.id } }), 0, 'keys go with their tenant');
  },
  Plugin: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Plugin owner' } });
    const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p', description: 'd' } });
    const deleted = await prisma.plugin.update({ where: { id: plugin.id }, data: { deletedAt: new Date() } });
    assert.ok(deleted.deletedAt instanceof Date);
    assert.equal((await prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id }, include: { plugins: true } })).plugins.length, 1);
  },
  PluginVersion: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Version owner' } });
    const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p' } });
    const data = { tenantId: tenant.id, pluginId: plugin.id, sha256: 'a'.repeat(64), sizeBytes: 3, wasm: new Uint8Array([0, 97, 115]), exports: ['run'], imports: [], permissions: ['kv'], createdBy: 'admin' };
    const version = await prisma.pluginVersion.create({ data: { ...data, number: 1, tests: [{ name: 't' }] } });
    assert.deepEqual([...version.wasm], [0, 97, 115]);
    assert.deepEqual(version.permissions, ['kv']);
    assert.equal(version.status, 'draft');
    await assert.rejects(prisma.pluginVersion.create({ data: { ...data, number: 2 } }), /Unique constraint/, 'the same bytes twice');
    await assert.rejects(prisma.pluginVersion.create({ data: { ...data, number: 1, sha256: 'b'.repeat(64) } }), /Unique constraint/, 'the same number twice');
  },
  Binding: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Binding owner' } });
    const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p' } });
    const binding = await prisma.binding.create({ data: { tenantId: tenant.id, pluginId: plugin.id, event: 'order.created', exportName: 'run', config: { a: '1' } } });
    assert.equal(binding.version, null, 'null means latest');
    assert.equal(binding.enabled, true);
    const found = await prisma.binding.findMany({ where: { tenantId: tenant.id, event: 'order.created' }, include: { plugin: true } });
    assert.equal(found[0]!.plugin.name, 'p');
  },
  TenantQuota: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Quota owner' } });
    await prisma.tenantQuota.upsert({ where: { tenantId: tenant.id }, create: { tenantId: tenant.id, overrides: { maxPlugins: 3 } }, update: {} });
    const updated = await prisma.tenantQuota.upsert({ where: { tenantId: tenant.id }, create: { tenantId: tenant.id }, update: { overrides: { maxPlugins: 4 } } });
    assert.deepEqual(updated.overrides, { maxPlugins: 4 });
  },
  Approval: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Approval owner' } });
    const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p' } });
    const version = await prisma.pluginVersion.create({
      data: { tenantId: tenant.id, pluginId: plugin.id, number: 1, sha256: 'c'.repeat(64), sizeBytes: 1, wasm: new Uint8Array([0]), exports: [], imports: [], permissions: ['wasi'], createdBy: 'admin', approvalStatus: 'pending' },
    });
    const approval = await prisma.approval.create({ data: { tenantId: tenant.id, versionId: version.id, requested: [{ permission: 'wasi', reason: 'beyond_tier' }], previous: [] } });
    const withVersion = await prisma.approval.findUniqueOrThrow({ where: { id: approval.id }, include: { version: true } });
    assert.equal(withVersion.version.approvalStatus, 'pending');
    await assert.rejects(prisma.approval.create({ data: { tenantId: tenant.id, versionId: version.id, requested: [], previous: [] } }), /Unique constraint/);
  },
  Event: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Event owner' } });
    const event = await prisma.event.create({ data: { tenantId: tenant.id, type: 'order.created', payload: new Uint8Array([123, 125]), idempotencyKey: 'k1' } });
    await assert.rejects(prisma.event.create({ data: { tenantId: tenant.id, type: 'order.created', payload: new Uint8Array(), idempotencyKey: 'k1' } }), /Unique constraint/);
    assert.deepEqual([...(await prisma.event.findUniqueOrThrow({ where: { id: event.id } })).payload], [123, 125]);
  },
  Invocation: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Invocation owner' } });
    const event = await prisma.event.create({ data: { tenantId: tenant.id, type: 'order.created', payload: new Uint8Array() } });
    const invocation = await prisma.invocation.create({
      data: { tenantId: tenant.id, eventId: event.id, pluginId: '00000000-0000-4000-8000-000000000001', version: 1, exportName: 'run' },
    });
    assert.equal(invocation.status, 'queued');
    const done = await prisma.invocation.update({ where: { id: invocation.id }, data: { status: 'ok', fuelUsed: 9_007_199_254_740_993n, output: new Uint8Array([1]) } });
    assert.equal(done.fuelUsed, 9_007_199_254_740_993n, 'fuel beyond 2^53 is kept exactly');
    assert.equal((await prisma.event.findUniqueOrThrow({ where: { id: event.id }, include: { invocations: true } })).invocations.length, 1);
  },
  PluginKvEntry: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'KV owner' } });
    const id = { tenantId: tenant.id, pluginId: '00000000-0000-4000-8000-000000000002', key: 'count' };
    await prisma.pluginKvEntry.upsert({ where: { tenantId_pluginId_key: id }, create: { ...id, value: new Uint8Array([1]) }, update: { value: new Uint8Array([1]) } });
    await prisma.pluginKvEntry.upsert({ where: { tenantId_pluginId_key: id }, create: { ...id, value: new Uint8Array([2]) }, update: { value: new Uint8Array([2]) } });
    assert.deepEqual([...(await prisma.pluginKvEntry.findUniqueOrThrow({ where: { tenantId_pluginId_key: id } })).value], [2]);
    // The plugins' store keeps a plugin to its most keys: a new key past them is refused, an existing one rewritten.
    const kv = new PluginKvRepository(prisma);
    const other = '00000000-0000-4000-8000-000000000003';
    assert.equal(await kv.set(tenant.id, other, 'a', new Uint8Array([1]), 2), true);
    assert.equal(await kv.set(tenant.id, other, 'b', new Uint8Array([1]), 2), true);
    assert.equal(await kv.set(tenant.id, other, 'c', new Uint8Array([1]), 2), false, 'a third key');
    assert.equal(await kv.set(tenant.id, other, 'a', new Uint8Array([9]), 2), true, 'a key it holds');
    assert.deepEqual(await kv.get(tenant.id, other, 'a'), new Uint8Array([9]));
    assert.equal(await kv.get(tenant.id, other, 'c'), null);
    assert.equal(await kv.set(tenant.id, id.pluginId, 'another', new Uint8Array([1]), 2), true, 'keys are counted per plugin');
  },
  PluginKvUsage: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'KV counter' } });
    const pluginId = '00000000-0000-4000-8000-000000000004';
    const kv = new PluginKvRepository(prisma);
    const held = () => kv.countKeys(tenant.id, pluginId);
    // Calls running at once cannot pass the limit together: exactly as many new keys as it allows are stored.
    const written = await Promise.all(Array.from({ length: 24 }, (_, i) => kv.set(tenant.id, pluginId, `key-${i}`, new Uint8Array([i]), 5)));
    assert.equal(written.filter(Boolean).length, 5, written.join(','));
    assert.equal(await held(), 5);
    assert.equal(await prisma.pluginKvEntry.count({ where: { tenantId: tenant.id, pluginId } }), 5);
    // Every way a key goes counts: a plugin's delete (of a key it holds, and of one it does not), any other statement.
    const stored = (await prisma.pluginKvEntry.findMany({ where: { tenantId: tenant.id, pluginId }, orderBy: { key: 'asc' } })).map((entry) => entry.key);
    await kv.delete(tenant.id, pluginId, stored[0]!);
    await kv.delete(tenant.id, pluginId, 'never-stored');
    assert.equal(await held(), 4);
    await prisma.pluginKvEntry.deleteMany({ where: { tenantId: tenant.id, pluginId, key: { in: stored.slice(1, 3) } } });
    assert.equal(await held(), 2);
    assert.equal(await kv.set(tenant.id, pluginId, 'new-1', new Uint8Array([1]), 3), true);
    assert.equal(await kv.set(tenant.id, pluginId, 'new-2', new Uint8Array([1]), 3), false, 'room for one more only');
    await prisma.tenant.delete({ where: { id: tenant.id } });
    assert.equal(await prisma.pluginKvUsage.count({ where: { tenantId: tenant.id } }), 0, 'counts go with their tenant');
  },
  UsageDay: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Usage' } });
    const day = new Date('2026-03-04T00:00:00Z');
    await prisma.usageDay.create({ data: { tenantId: tenant.id, day, status: 'ok', invocations: 3, fuel: 9_007_199_254_740_993n, runMs: 1.5, egressBytes: 4n } });
    const read = await prisma.usageDay.findUniqueOrThrow({ where: { tenantId_day_status: { tenantId: tenant.id, day, status: 'ok' } } });
    assert.deepEqual([read.day.toISOString(), read.fuel, read.runMs], ['2026-03-04T00:00:00.000Z', 9_007_199_254_740_993n, 1.5]);
  },
  Webhook: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Webhook owner' } });
    const webhook = await prisma.webhook.create({ data: { tenantId: tenant.id, url: 'https://hooks.example.com/x', events: ['order.created'], secret: 'sealed' } });
    assert.deepEqual(webhook.events, ['order.created']);
    assert.equal(webhook.enabled, true);
  },
  WebhookDelivery: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Delivery owner' } });
    const webhook = await prisma.webhook.create({ data: { tenantId: tenant.id, url: 'https://hooks.example.com/x', secret: 'sealed' } });
    const invocationId = '00000000-0000-4000-8000-000000000003';
    await prisma.webhookDelivery.create({ data: { tenantId: tenant.id, webhookId: webhook.id, invocationId } });
    const again = await prisma.webhookDelivery.createMany({ data: [{ tenantId: tenant.id, webhookId: webhook.id, invocationId }], skipDuplicates: true });
    assert.equal(again.count, 0, 'one delivery per webhook and invocation');
  },
  AuditEvent: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Audited' } });
    await prisma.auditEvent.create({ data: { tenantId: tenant.id, actor: 'admin', action: 'quota.updated', target: tenant.id, details: { maxPlugins: 4 } } });
    await prisma.auditEvent.create({ data: { actor: 'admin', action: 'tenant.created' } });
    assert.equal(await prisma.auditEvent.count({ where: { tenantId: tenant.id } }), 1);
  },
  Span: async ({ prisma }) => {
    const tenant = await prisma.tenant.create({ data: { name: 'Span owner' } });
    const span = { traceId: 'a'.repeat(32), tenantId: tenant.id, name: 'sandbox.run', kind: 'internal', startTime: new Date(), durationMs: 1.25, status: 'ok' };
    await prisma.span.createMany({ data: [{ ...span, spanId: '1'.repeat(16), attributes: { 'sandbox.fuel_used': 42 } }, { ...span, spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16) }] });
    const found = await prisma.span.findMany({ where: { tenantId: tenant.id, traceId: 'a'.repeat(32) }, orderBy: { spanId: 'asc' } });
    assert.deepEqual(found.map((row) => [row.spanId, row.parentSpanId, row.durationMs]), [['1'.repeat(16), null, 1.25], ['2'.repeat(16), '1'.repeat(16), 1.25]]);
    assert.deepEqual(found[0]!.attributes, { 'sandbox.fuel_used': 42 });
    await prisma.tenant.delete({ where: { id: tenant.id } });
    assert.equal(await prisma.span.count({ where: { tenantId: tenant.id } }), 0, 'spans go with their tenant');
  },
};

function describeBackend(name: string, open: () => Promise<{ options: Parameters<typeof openDatabase>[0]; cleanup: () => Promise<void> }>) {
  describe(`database on ${name}`, () => {
    let options: Parameters<typeof openDatabase>[0];
    let cleanup: () => Promise<void>;
    let database: Database;

    before(async () => {
      ({ options, cleanup } = await open());
      database = await openDatabase(options);
    });
    after(async () => {
      await database.close();
      await cleanup();
    });

    it('migrates an empty database with every migration, in order', async () => {
      const names = (await readMigrationFiles(MIGRATIONS_DIR)).map((migration) => migration.name);
      assert.ok(names.length > 0);
      assert.deepEqual(database.appliedMigrations, names);
      const history = await database.prisma.$queryRaw<Array<{ name: string }>>`SELECT name FROM "_airlock_migrations" ORDER BY name`;
      assert.deepEqual(history.map((row) => row.name), names);
    });

    for (const [model, check] of Object.entries(MODEL_CHECKS)) {
      it(`reads and writes ${model} through Prisma Client`, () => check(database));
    }

    it('plans, records, claims and finishes invocations with the one-round-trip statements of the event pipeline', async () => {
      const { prisma } = database;
      const [tenant, stranger] = [await prisma.tenant.create({ data: { name: 'Pipeline owner', tier: 'pro' } }), await prisma.tenant.create({ data: { name: 'Stranger' } })];
      const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p' } });
      const module = { tenantId: tenant.id, pluginId: plugin.id, sizeBytes: 1, wasm: new Uint8Array([0]), imports: [], permissions: [], createdBy: 'admin' };
      await prisma.pluginVersion.create({ data: { ...module, number: 1, sha256: '1'.repeat(64), exports: ['run'], status: 'published' } });
      await prisma.pluginVersion.create({ data: { ...module, number: 2, sha256: '2'.repeat(64), exports: ['run'], status: 'draft' } });
      const binding = { tenantId: tenant.id, pluginId: plugin.id, event: 'order.created', exportName: 'run' };
      const latest = await prisma.binding.create({ data: { ...binding, config: { region: 'eu' }, secrets: 'sealed' } });
      await prisma.binding.create({ data: { ...binding, enabled: false } });
      await prisma.binding.create({ data: { ...binding, version: 2 } }); // a draft: not runnable
      await prisma.binding.create({ data: { ...binding, exportName: 'missing' } });
      await prisma.binding.create({ data: { ...binding, event: 'order.paid' } });

      const planned = await new BindingRepository(prisma).planFor(tenant.id, 'order.created');
      assert.deepEqual(planned, [{ bindingId: latest.id, pluginId: plugin.id, version: 1, exportName: 'run', config: { region: 'eu' } }]);
      assert.deepEqual(await new BindingRepository(prisma).planFor(stranger.id, 'order.created'), []);

      const events = new EventRepository(prisma, database.sql);
      const payload = new TextEncoder().encode('{"total":3}');
      const keyed = { tenantId: tenant.id, type: 'order.created', payload, idempotencyKey: 'k1', invocations: planned };
      // Concurrent requests are recorded by one statement; a key used twice in it records one event.
      const record = async (...items: EventToRecord[]) => (await events.recordMany(items)).map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : assert.fail(String(outcome.reason))));
      const [first, twin, strangers] = await record(keyed, keyed, { tenantId: stranger.id, type: 'order.created', payload, invocations: [] });
      assert.deepEqual([first!.created, twin!.created, strangers!.created], [true, false, true]);
      assert.equal(twin!.event.id, first!.event.id);
      const [again] = await record(keyed);
      assert.equal(again!.created, false);
      assert.equal(again!.event.id, first!.event.id);
      assert.deepEqual(again!.event.invocations.map((i) => i.id), first!.event.invocations.map((i) => i.id));
      assert.equal(await prisma.invocation.count({ where: { tenantId: tenant.id } }), 1, 'one invocation for the key, however often it came');
      assert.equal(await prisma.event.count({ where: { tenantId: stranger.id } }), 1);
      const stored = await prisma.event.findUniqueOrThrow({ where: { id: first!.event.id }, include: { invocations: true } });
      assert.deepEqual([...stored.payload], [...payload]);
      assert.deepEqual(stored.invocations[0]!.config, { region: 'eu' });

      const work = new InvocationWorkRepository(prisma, database.sql);
      const invocationId = first!.event.invocations[0]!.id;
      assert.deepEqual(await work.claim([{ tenantId: stranger.id, id: invocationId }], new Date()), [], "another tenant's id claims nothing");
      const [claimed, ...rest] = await work.claim([{ tenantId: tenant.id, id: invocationId }], new Date());
      assert.equal(rest.length, 0);
      assert.equal(new TextDecoder().decode(claimed!.input), '{"total":3}', 'the event payload comes with the claim');
      assert.deepEqual(
        { type: claimed!.eventType, tier: claimed!.tenantTier, module: claimed!.module, secrets: claimed!.bindingSecrets, attempts: claimed!.attempts, webhooks: claimed!.hasWebhooks },
        { type: 'order.created', tier: 'pro', module: { sha256: '1'.repeat(64), approvalStatus: 'not_required', published: true }, secrets: 'sealed', attempts: 1, webhooks: false },
      );
      assert.equal((await prisma.invocation.findUniqueOrThrow({ where: { id: invocationId } })).status, 'running');

      const outcome = { status: 'ok', output: new Uint8Array([104, 105]), errorMessage: null, fuelUsed: 12n, memoryPeakBytes: 65536n, durationMs: 1.5, egressBytes: 321n, logs: [{ level: 'info', message: 'a "quoted" line', atMs: 0.1 }], logsDropped: 2 };
      assert.deepEqual([...(await work.finish([{ tenantId: tenant.id, id: invocationId, outcome, deadLettered: false }], new Date()))], [invocationId]);
      assert.equal((await work.finish([{ tenantId: tenant.id, id: invocationId, outcome: { ...outcome, status: 'trap' }, deadLettered: true }], new Date())).size, 0, 'written once');
      const finished = await prisma.invocation.findUniqueOrThrow({ where: { id: invocationId } });
      assert.deepEqual(
        { status: finished.status, output: [...finished.output!], fuel: finished.fuelUsed, egress: finished.egressBytes, logs: finished.logs, dropped: finished.logsDropped, dead: finished.deadLetteredAt },
        { status: 'ok', output: [104, 105], fuel: 12n, egress: 321n, logs: outcome.logs, dropped: 2, dead: null },
      );
      assert.deepEqual(await work.claim([{ tenantId: tenant.id, id: invocationId }], new Date()), [], 'a finished invocation is not claimed again');

      // Plugin logs are searched inside the invocations' JSON.
      const logs = await new PluginLogRepository(prisma).search(tenant.id, { levels: ['info'] }, { limit: 10 });
      assert.deepEqual(logs.entries.map((entry) => [entry.invocationId, entry.line, entry.message]), [[invocationId, 0, 'a "quoted" line']]);

      // Spans are saved in one statement; a span of a tenant deleted meanwhile is dropped alone.
      const spans = new SpanRepository(prisma, database.sql);
      const span = { traceId: 'c'.repeat(32), parentSpanId: null, name: 'sandbox.run', kind: 'internal', startTime: new Date(), durationMs: 0.5, status: 'error', statusMessage: 'trap', attributes: { 'sandbox.status': 'trap', 'sandbox.fuel_used': 7 } };
      await spans.insertMany([
        { ...span, spanId: 'a'.repeat(16), tenantId: tenant.id },
        { ...span, spanId: 'b'.repeat(16), tenantId: '00000000-0000-4000-8000-000000000000' },
      ]);
      await spans.insertMany([{ ...span, spanId: 'a'.repeat(16), tenantId: tenant.id }]); // saved twice: kept once
      const saved = await spans.findTrace(tenant.id, 'c'.repeat(32));
      assert.deepEqual(saved.spans.map((row) => [row.spanId, row.status, row.statusMessage, row.attributes]), [['a'.repeat(16), 'error', 'trap', span.attributes]]);
      assert.equal(saved.truncated, false);
      // A trace longer than what is read says so: its first spans by start time, and `truncated`.
      const later = (ms: number) => new Date(span.startTime.getTime() + ms);
      await spans.insertMany([
        { ...span, spanId: 'd'.repeat(16), tenantId: tenant.id, startTime: later(1) },
        { ...span, spanId: 'e'.repeat(16), tenantId: tenant.id, startTime: later(2) },
      ]);
      const cut = await spans.findTrace(tenant.id, 'c'.repeat(32), 2);
      assert.deepEqual([cut.spans.map((row) => row.spanId), cut.truncated], [['a'.repeat(16), 'd'.repeat(16)], true]);

      // Retention deletes finished invocations and spans older than the cutoff.
      const swept = await new RetentionRepository(prisma).sweep(tenant.id, new Date(Date.now() + 60_000), 1);
      assert.deepEqual([swept.invocations, swept.spans], [1, 3]);
    });

    it('lets claims skip waiting for the log flush, for their own transaction only', async () => {
      const show = async (sql: typeof database.sql) => (await sql.query<{ synchronous_commit: string }>('SHOW synchronous_commit'))[0]!.synchronous_commit;
      const usual = await show(database.keyedSql);
      const setting = await database.keyedSql.transaction(async (tx) => {
        const work = new InvocationWorkRepository(database.prisma, tx);
        // The second claim runs the plan the first one made (a named statement on the keyed connections).
        for (let claim = 0; claim < 2; claim++) await work.claim([{ tenantId: '00000000-0000-4000-8000-000000000000', id: '00000000-0000-4000-8000-000000000001' }], new Date());
        return show(tx);
      });
      assert.equal(setting, 'off', 'a claim commits without waiting for the disk');
      await new InvocationWorkRepository(database.prisma, database.keyedSql).claim([{ tenantId: '00000000-0000-4000-8000-000000000000', id: '00000000-0000-4000-8000-000000000001' }], new Date());
      assert.equal(await show(database.keyedSql), usual, 'the next statement commits as usual');
    });

    it("claims, finishes and looks up an invocation by its key, not by reading the tenant's others, with plans made before the table is ever analyzed", async () => {
      const { prisma } = database;
      const tenant = await prisma.tenant.create({ data: { name: 'Busy tenant' } });
      const plugin = await prisma.plugin.create({ data: { tenantId: tenant.id, name: 'p' } });
      await prisma.pluginVersion.create({ data: { tenantId: tenant.id, pluginId: plugin.id, number: 1, sha256: '3'.repeat(64), sizeBytes: 1, wasm: new Uint8Array([0]), exports: ['run'], imports: [], permissions: [], createdBy: 'admin', status: 'published' } });
      const binding = await prisma.binding.create({ data: { tenantId: tenant.id, pluginId: plugin.id, event: 'order.created', exportName: 'run' } });
      const planned = { bindingId: binding.id, pluginId: plugin.id, version: 1, exportName: 'run', config: {} };
      const outcome = { status: 'ok', output: new Uint8Array(0), errorMessage: null, fuelUsed: 1n, memoryPeakBytes: 1n, durationMs: 1, egressBytes: 0n, logs: [], logsDropped: 0 };
      // Rows of invocations this transaction read: by its indexes (counted against each index) or by scanning the
      // table (PostgreSQL counts both per transaction).
      const rowsRead = async (tx: typeof database.sql) =>
        Number(
          (
            await tx.query<{ rows: string }>(
              `SELECT pg_stat_get_xact_tuples_returned('invocations'::regclass)
                      + (SELECT sum(pg_stat_get_xact_tuples_fetched(indexrelid)) FROM pg_index WHERE indrelid = 'invocations'::regclass) AS rows`,
            )
          )[0]!.rows,
        );
      // On one of the keyed connections, as a worker's statements run.
      const reads = await database.keyedSql.transaction(async (tx) => {
        const work = new InvocationWorkRepository(prisma, tx);
        const all = async (id: string) => {
          const before = await rowsRead(tx);
          const claimed = (await work.claim([{ tenantId: tenant.id, id }], new Date())).length;
          const afterClaim = await rowsRead(tx);
          const states = (await work.runStates([{ tenantId: tenant.id, id }])).length;
          const afterStates = await rowsRead(tx);
          const finished = (await work.finish([{ tenantId: tenant.id, id, outcome, deadLettered: false }], new Date())).size;
          const afterFinish = await rowsRead(tx);
          const described = (await work.describeFinished(tenant.id, id)) === null ? 0 : 1;
          const read = { claiming: afterClaim - before, states: afterStates - afterClaim, finishing: afterFinish - afterStates, describing: (await rowsRead(tx)) - afterFinish };
          return { found: [claimed, states, finished, described], read };
        };
        // Each statement planned first while the tenant has no invocations (a plan is kept for the connection)...
        await all('00000000-0000-4000-8000-000000000001');
        // ...then run for one of 300 invocations of the tenant, in a table no statistics describe yet (a new database).
        const [recorded] = await new EventRepository(prisma, tx).recordMany([{ tenantId: tenant.id, type: 'order.created', payload: new Uint8Array(0), invocations: Array.from({ length: 300 }, () => planned) }]);
        return all(recorded?.status === 'fulfilled' ? recorded.value.event.invocations[150]!.id : assert.fail('not recorded'));
      });
      assert.deepEqual(reads.found, [1, 1, 1, 1]);
      assert.ok(Object.values(reads.read).every((rows) => rows <= 2), `rows of invocations read: ${JSON.stringify(reads.read)}`);
    });

    it('plans each statement of the keyed connections once per connection, not once per run', async (t) => {
      if (database.kind !== 'postgresql') return t.skip('PGlite has one connection and plans each statement anew');
      const plans = await database.keyedSql.transaction(async (tx) => {
        const work = new InvocationWorkRepository(database.prisma, tx);
        for (let claim = 0; claim < 8; claim++) await work.claim([{ tenantId: '00000000-0000-4000-8000-000000000000', id: '00000000-0000-4000-8000-000000000001' }], new Date());
        return tx.query<{ generic_plans: string; custom_plans: string }>(`SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'airlock_claim_invocations'`);
      });
      assert.deepEqual(plans.map((row) => [Number(row.generic_plans) >= 8, Number(row.custom_plans)]), [[true, 0]], 'one plan, made once and run for every claim');
    });

    it('keeps serving when PostgreSQL ends its idle connections (a restart, an operator ending sessions)', async (t) => {
      if (database.kind !== 'postgresql') return t.skip('PGlite runs in this process');
      // Both pools hold idle connections...
      await database.keyedSql.query('SELECT 1');
      await database.sql.query('SELECT 1');
      // ...which the server ends: each pool hears of it on a connection nobody is using.
      const operator = new pg.Client({ connectionString: options.databaseUrl });
      await operator.connect();
      try {
        const ended = await operator.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        assert.ok(ended.rowCount! >= 2, `ended ${ended.rowCount} connections`);
      } finally {
        await operator.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The process is still up (an unheard pool error would have ended it) and the next statements open new connections.
      assert.deepEqual(await database.keyedSql.query('SELECT 1 AS one'), [{ one: 1 }]);
      assert.deepEqual(await database.sql.query('SELECT 1 AS one'), [{ one: 1 }]);
      assert.equal(typeof (await database.prisma.tenant.count()), 'number');
    });

    it('runs interactive transactions and rolls them back on error', async () => {
      await assert.rejects(
        database.prisma.$transaction(async (tx) => {
          await tx.tenant.create({ data: { name: 'Rolled back' } });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await database.prisma.tenant.count({ where: { name: 'Rolled back' } }), 0);
      await database.prisma.$transaction(async (tx) => {
        await tx.tenant.create({ data: { name: 'Committed' } });
      });
      assert.equal(await database.prisma.tenant.count({ where: { name: 'Committed' } }), 1);
    });

    it('applies nothing the second time', async () => {
      await database.close();
      database = await openDatabase(options);
      assert.deepEqual(database.appliedMigrations, []);
      assert.equal(await database.prisma.tenant.count({ where: { name: 'Committed' } }), 1, 'data survives a reopen');
    });
  });
}

let fresh: FreshDatabase;
describeBackend('PostgreSQL', async () => {
  fresh = await createFreshDatabase();
  return { options: { databaseUrl: fresh.url, dataDir: '/nonexistent' }, cleanup: () => fresh.drop() };
});

describeBackend('PGlite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'airlock-pglite-'));
  return { options: { databaseUrl: undefined, dataDir }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});
