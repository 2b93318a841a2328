import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { InvocationWorkRepository } from '@airlock/db';
import { createInvocationQueue, createRedisConnection } from '@airlock/queue';
import { createWorkerApp } from '@airlock/worker/worker-app';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileSource } from '../support/pdk.js';
import { killBusyExecutor } from '../support/sandbox-harness.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

const PLUGIN = `import { Host, Kv } from "@airlock/plugin-pdk";
// Spins on its first call (so that its executor can be killed mid-call), answers after.
export function flaky(): i32 {
  if (Kv.getString("seen") === null) {
    Kv.setString("seen", "yes");
    let x: i64 = 0;
    while (x >= 0) x++;
  }
  Host.outputString("recovered");
  return 0;
}
export function spin(): i32 {
  let x: i64 = 0;
  while (x >= 0) x++;
  return 0;
}
export function broken(): i32 {
  unreachable();
  return 0;
}
export function quick(): i32 {
  Host.outputString("quick");
  return 0;
}
`;

describe('retries of transient failures, final deterministic ones, dead letters', () => {
  let api: ApiHarness;
  let worker: INestApplicationContext;
  let consumer: Redis;
  let alice: TenantSession;
  let pluginId: string;

  before(async () => {
    api = await startApi({ env: { AIRLOCK_JOB_ATTEMPTS: '2' } });
    consumer = createRedisConnection(api.config.redisUrl!, 'consumer', 'airlock-test-worker');
    worker = await createWorkerApp({ config: api.config, prisma: api.database.prisma, sql: api.database.keyedSql, redis: consumer, sandbox: api.sandbox, secrets: api.secretBox });
    alice = await createTenantSession(api, 'Alice');
    // Room to spin until the test kills the executor.
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides: { fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 60_000 } } });
    pluginId = (await api.http.post('/v1/plugins', { token: alice.key, body: { name: 'unreliable' } })).body.id;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, rawBody: { data: await compileSource(PLUGIN), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: alice.key });
    for (const [event, exportName] of [['job.flaky', 'flaky'], ['job.spin', 'spin'], ['job.broken', 'broken'], ['job.quick', 'quick']]) {
      await api.http.post('/v1/bindings', { token: alice.key, body: { event, pluginId, version: 1, export: exportName } });
    }
  });
  after(async () => {
    await worker.close();
    await consumer.quit();
    await api.close();
  });

  const invocation = (id: string) => api.http.get(`/v1/invocations/${id}`, { token: alice.key }).then((response) => response.body);
  async function waitFor(id: string, accept: (body: any) => boolean, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await invocation(id);
      if (accept(body)) return body;
      if (Date.now() > deadline) assert.fail(`invocation ${id} stayed ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const emit = async (type: string) => (await api.http.post('/v1/events', { token: alice.key, body: { type } })).body.invocations[0].id as string;

  it('retries a call whose executor died, and records the retry\'s result once', async () => {
    const id = await emit('job.flaky');
    await waitFor(id, (body) => body.status === 'running');
    await new Promise((resolve) => setTimeout(resolve, 400)); // the first attempt spins a while before it dies
    await killBusyExecutor(api.sandbox);
    const done = await waitFor(id, (body) => !['queued', 'running'].includes(body.status));
    assert.equal(done.status, 'ok', JSON.stringify(done.error));
    assert.equal(done.output, 'recovered');
    assert.equal(done.attempts, 2);
    assert.equal(done.deadLetteredAt, null);
    // Its run time, like its fuel, is that of both attempts: the one that died counts.
    assert.ok(done.durationMs >= 400, `${done.durationMs} ms`);
  });

  it('does not retry deterministic failures', async () => {
    const id = await emit('job.broken');
    const done = await waitFor(id, (body) => !['queued', 'running'].includes(body.status));
    assert.equal(done.status, 'trap');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past the first backoff
    assert.equal((await invocation(id)).attempts, 1);
  });

  it('runs again a call whose outcome the database refused, keeping and charging the fuel of the attempt it lost', async () => {
    const fuelToday = async () => (await api.http.get('/v1/quota', { token: alice.key })).body.today.fuel as number;
    // A warm instance's call (the first call of an instance pays for its start function too).
    await waitFor(await emit('job.quick'), (body) => body.status === 'ok');
    const perAttempt = (await waitFor(await emit('job.quick'), (body) => body.status === 'ok')).fuelUsed as number;
    await api.database.sql.exec(`
      CREATE SEQUENCE refused_outcomes;
      CREATE FUNCTION refuse_first_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A sequence is not rolled back with the statement that fails: only the first outcome is refused.
        IF nextval('refused_outcomes') = 1 THEN RAISE EXCEPTION 'refused by the test, as a lost connection would'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_first_outcome BEFORE UPDATE ON invocations FOR EACH ROW
        WHEN (NEW.status NOT IN ('queued', 'running')) EXECUTE FUNCTION refuse_first_outcome();`);
    try {
      const before = await fuelToday();
      const id = await emit('job.quick');
      const done = await waitFor(id, (body) => body.status === 'ok' || body.status === 'crashed');
      assert.deepEqual([done.status, done.output, done.attempts], ['ok', 'quick', 2]);
      assert.equal(done.fuelUsed, 2 * perAttempt, 'the fuel of both attempts');
      assert.equal((await fuelToday()) - before, 2 * perAttempt, 'both charged to the day');
    } finally {
      await api.database.sql.exec('DROP TRIGGER refuse_first_outcome ON invocations; DROP FUNCTION refuse_first_outcome(); DROP SEQUENCE refused_outcomes;');
    }
  });

  it('settles outcomes whose write committed as its connection broke, though they were written in a batch', async () => {
    const fuelToday = async () => (await api.http.get('/v1/quota', { token: alice.key })).body.today.fuel as number;
    // Three runs at once.
    const overrides = { fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 60_000 };
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides: { ...overrides, concurrentRuns: 10, eventsPerSecond: 100 } } });
    const perAttempt = (await waitFor(await emit('job.quick'), (body) => body.status === 'ok')).fuelUsed as number;
    // The first outcome written is held a moment, so the next ones wait and go together; that batch commits, and
    // its answer is lost, as when the connection breaks just then. Each is then sent again alone, and found finished.
    const finish = InvocationWorkRepository.prototype.finish;
    let writes = 0;
    InvocationWorkRepository.prototype.finish = async function (this: InvocationWorkRepository, ...args: Parameters<typeof finish>) {
      const write = ++writes;
      if (write === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      const written = await finish.apply(this, args);
      if (args[0].length > 1 && writes <= 2) throw new Error('Connection terminated unexpectedly');
      return written;
    };
    try {
      const before = await fuelToday();
      const ids = await Promise.all([emit('job.quick'), emit('job.quick'), emit('job.quick')]);
      for (const id of ids) assert.equal((await waitFor(id, (body) => body.status === 'ok')).attempts, 1);
      assert.equal(writes >= 2, true, 'a batch of several was written');
      // Settled at once (slots given back, fuel charged), not left to the reconciler's sweep.
      const inFlight = async () => Number((await consumer.get(`${api.redisPrefix}:quota:${alice.tenantId}:in-flight`)) ?? 0);
      const settled = async () => (await fuelToday()) - before === 3 * perAttempt && (await inFlight()) === 0;
      for (let tries = 0; tries < 40 && !(await settled()); tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await fuelToday()) - before, 3 * perAttempt, 'the three runs are charged to the day');
      assert.equal(await inFlight(), 0, 'their slots are given back');
    } finally {
      InvocationWorkRepository.prototype.finish = finish;
      await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides } });
    }
  });

  it('dead-letters a call that fails transiently on every attempt, and replays it on another version', async () => {
    const sendKeyed = () => api.http.post('/v1/events', { token: alice.key, body: { type: 'job.spin', idempotencyKey: 'spin-once' } });
    const id = (await sendKeyed()).body.invocations[0].id as string;
    for (let attempt = 1; attempt <= 2; attempt++) {
      await waitFor(id, (body) => body.status === 'running' && body.attempts === attempt);
      await killBusyExecutor(api.sandbox);
    }
    const dead = await waitFor(id, (body) => !['queued', 'running'].includes(body.status));
    assert.equal(dead.status, 'crashed');
    assert.equal(dead.attempts, 2);
    assert.ok(dead.deadLetteredAt);
    const letters = await api.http.get('/v1/dead-letters', { token: alice.key });
    assert.deepEqual(letters.body.items.map((item: { id: string }) => item.id), [id]);

    // Version 2 exports "spin" too, but answers at once.
    const fixed = `import { Host } from "@airlock/plugin-pdk";\nexport function spin(): i32 { Host.outputString("fixed"); return 0; }\n`;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, rawBody: { data: await compileSource(fixed), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${pluginId}/versions/2/publish`, { token: alice.key });
    const replay = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 2 } });
    assert.equal(replay.status, 202, replay.text);
    const replayed = await waitFor(replay.body.invocationId, (body) => !['queued', 'running'].includes(body.status));
    assert.equal(replayed.status, 'ok');
    assert.equal(replayed.output, 'fixed');
    assert.equal(replayed.replayOf, id);
    assert.equal(replayed.version, 2);
    // The event's key still answers what it answered first: its one invocation, not the replay.
    const resent = await sendKeyed();
    assert.deepEqual(resent.body.invocations.map((item: { id: string }) => item.id), [id]);
    // Resolved: the list says by which replay, and it is not run again unless asked to (a client retrying a replay it
    // was not told the outcome of would run it twice).
    const listed = (await api.http.get('/v1/dead-letters', { token: alice.key })).body.items;
    assert.deepEqual(listed.map((item: { id: string; resolvedBy: string | null }) => [item.id, item.resolvedBy]), [[id, replay.body.invocationId]]);
    const resolvedAlready = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 2 } });
    assert.equal(resolvedAlready.status, 409, resolvedAlready.text);
    assert.equal(resolvedAlready.body.error.message, `A replay of this dead letter succeeded already: ${replay.body.invocationId}. Send again: true to run it once more.`);
    assert.deepEqual(resolvedAlready.body.error.details, { replay: replay.body.invocationId, reason: 'resolved' });

    // A version without the dead letter's export cannot run it.
    const exportless = `import { Host } from "@airlock/plugin-pdk";\nexport function quick(): i32 { Host.outputString("q"); return 0; }\n`;
    await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: alice.key, rawBody: { data: await compileSource(exportless), contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${pluginId}/versions/3/publish`, { token: alice.key });
    const mismatched = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 3 } });
    assert.equal(mismatched.status, 400, mismatched.text);
    assert.equal(mismatched.body.error.details.issues[0].field, 'version');
    const unknownVersion = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 99 } });
    assert.equal(unknownVersion.status, 400, unknownVersion.text);
    assert.deepEqual(unknownVersion.body.error.details.issues, [{ field: 'version', message: 'the plugin has no version 99' }]);

    const audited = (await api.http.get('/v1/audit', { token: alice.key })).body.items.filter((entry: { action: string }) => entry.action === 'dead_letter.replayed');
    assert.deepEqual(audited.map((entry: { target: string; details: unknown }) => [entry.target, entry.details]), [[id, { replay: replay.body.invocationId, version: 2 }]]);

    // The replay and its audit entry are one write: when the audit cannot be written, no replay was made to run.
    const replays = () => api.database.prisma.invocation.count({ where: { replayOf: id } });
    const before = await replays();
    await api.database.sql.exec(`
      CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
      CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit();`);
    try {
      assert.equal((await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { again: true } })).status, 500);
    } finally {
      await api.database.sql.exec('DROP TRIGGER refuse_audit ON audit_events; DROP FUNCTION refuse_audit();');
    }
    assert.equal(await replays(), before, 'nothing made, nothing queued');

    const other = await createTenantSession(api, 'Bob');
    assert.equal((await api.http.post(`/v1/dead-letters/${id}/replay`, { token: other.key })).status, 404);
    assert.deepEqual((await api.http.get('/v1/dead-letters', { token: other.key })).body.items, []);
    assert.equal((await api.http.post(`/v1/dead-letters/${replay.body.invocationId}/replay`, { token: alice.key })).status, 404, 'only dead letters replay');

    // Replays sent at once (a double click, a client's retry) make one run; another may follow once it has finished.
    // Room for all of them in the quotas, so that only the turn taking decides.
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, {
      token: api.adminToken,
      body: { overrides: { fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 60_000, concurrentRuns: 10, eventsPerSecond: 100 } },
    });
    const queue = createInvocationQueue(consumer, api.redisPrefix);
    await queue.pause(); // the replay stays queued while the others are answered
    let made: string;
    try {
      const together = await Promise.all(Array.from({ length: 3 }, () => api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 2, again: true } })));
      assert.deepEqual(together.map((response) => response.status).sort(), [202, 409, 409], together.map((response) => response.text).join('\n'));
      made = together.find((response) => response.status === 202)!.body.invocationId;
      for (const refusedTwice of together.filter((response) => response.status === 409)) assert.deepEqual(refusedTwice.body.error.details, { replay: made, reason: 'pending' });
    } finally {
      await queue.resume();
    }
    assert.equal((await waitFor(made, (body) => !['queued', 'running'].includes(body.status))).status, 'ok');
    let again = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 2, again: true } });
    // The free tier's 5 requests a second may just have been spent by those above.
    for (let tries = 0; tries < 10 && again.body.error?.details?.limit === 'eventsPerSecond'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      again = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { version: 2, again: true } });
    }
    assert.equal(again.status, 202, `once it has finished: ${again.text}`);
    await waitFor(again.body.invocationId, (body) => !['queued', 'running'].includes(body.status));

    // A replay is a new run: it counts against the tenant's quotas like an event.
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the events per second spent above
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides: { invocationsPerDay: 1 } } });
    const refused = await api.http.post(`/v1/dead-letters/${id}/replay`, { token: alice.key, body: { again: true } });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.error.details.limit, 'invocationsPerDay');
    assert.deepEqual((await api.http.get('/v1/dead-letters', { token: alice.key })).body.items.map((item: { id: string }) => item.id), [id], 'the dead letter is kept');
  });

  it('dead-letters a call the worker cannot prepare, and releases its place among the running', async () => {
    const overrides = { fuelPerCall: Number.MAX_SAFE_INTEGER, timeoutMs: 60_000 };
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides } });
    const binding = await api.http.post('/v1/bindings', { token: alice.key, body: { event: 'job.sealed', pluginId, version: 1, export: 'quick', secrets: { TOKEN: 'opaque' } } });
    assert.equal(binding.status, 201, binding.text);
    // Its secrets no longer open (damaged at rest, or sealed with a key since retired): every attempt fails in the worker.
    const sealed = (await api.database.prisma.binding.findUniqueOrThrow({ where: { id: binding.body.id } })).secrets!;
    const [format, , ...rest] = sealed.split(':');
    await api.database.prisma.binding.update({ where: { id: binding.body.id }, data: { secrets: [format, 'retired-key-7', ...rest].join(':') } });
    const id = await emit('job.sealed');
    const failed = await waitFor(id, (body) => !['queued', 'running'].includes(body.status));
    assert.equal(failed.status, 'host_error');
    assert.equal(
      failed.error.message,
      "the worker could not run it: its binding's secrets cannot be opened (sealed with a key this deployment no longer holds, or damaged): set them again",
      "what the tenant can do, without the operator's key id",
    );
    assert.equal(failed.attempts, 2, 'retried as a host failure');
    assert.ok(failed.deadLetteredAt);

    // Replayed before its cause is fixed, the replay is dead-lettered in turn; the replay of that replay, once fixed,
    // resolves both: the first dead letter is not run again unless asked.
    const replayOf = async (deadLetterId: string, body: { again?: boolean } = {}) => {
      for (let tries = 0; ; tries++) {
        const replay = await api.http.post(`/v1/dead-letters/${deadLetterId}/replay`, { token: alice.key, body });
        // The free tier's events per second may just have been spent.
        if (replay.body.error?.details?.limit !== 'eventsPerSecond' || tries === 10) return replay;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    };
    const firstReplay = await replayOf(id);
    assert.equal(firstReplay.status, 202, firstReplay.text);
    assert.equal((await waitFor(firstReplay.body.invocationId, (body) => !['queued', 'running'].includes(body.status))).status, 'host_error');
    const fixed = await api.http.request('PATCH', `/v1/bindings/${binding.body.id}`, { token: alice.key, body: { secrets: { TOKEN: 'fresh' } } });
    assert.equal(fixed.status, 200, fixed.text);
    // The dead letter and its dead-lettered replay are one work: while a replay of either is queued, neither replays.
    const queue = createInvocationQueue(consumer, api.redisPrefix);
    await queue.pause();
    let secondReplay;
    try {
      secondReplay = await replayOf(firstReplay.body.invocationId);
      assert.equal(secondReplay.status, 202, secondReplay.text);
      const besideIt = await replayOf(id);
      assert.equal(besideIt.status, 409, besideIt.text);
      assert.deepEqual(besideIt.body.error.details, { replay: secondReplay.body.invocationId, reason: 'pending' });
    } finally {
      await queue.resume();
      await queue.close();
    }
    assert.equal((await waitFor(secondReplay.body.invocationId, (body) => !['queued', 'running'].includes(body.status))).status, 'ok');
    const letters = (await api.http.get('/v1/dead-letters', { token: alice.key })).body.items as Array<{ id: string; resolvedBy: string | null }>;
    for (const letter of [id, firstReplay.body.invocationId]) {
      assert.equal(letters.find((item) => item.id === letter)?.resolvedBy, secondReplay.body.invocationId, `${letter} resolved by the replay of its replay`);
    }
    // Nor does either run again once the work succeeded, whichever of them the successful replay replayed.
    for (const letter of [id, firstReplay.body.invocationId]) {
      const notAgain = await replayOf(letter);
      assert.equal(notAgain.status, 409, notAgain.text);
      assert.deepEqual(notAgain.body.error.details, { replay: secondReplay.body.invocationId, reason: 'resolved' });
    }
    // A replay of the first dead letter resolves its dead-lettered replay as well (a sibling, not a descendant).
    const sibling = await replayOf(id, { again: true });
    assert.equal(sibling.status, 202, sibling.text);
    assert.equal((await waitFor(sibling.body.invocationId, (body) => !['queued', 'running'].includes(body.status))).status, 'ok');
    const resolvedNow = (await api.http.get('/v1/dead-letters', { token: alice.key })).body.items as Array<{ id: string; resolvedBy: string | null }>;
    assert.equal(resolvedNow.find((item) => item.id === firstReplay.body.invocationId)?.resolvedBy, sibling.body.invocationId, 'the latest success of the work');
    // Retention deletes the first dead letter before its replays: they are still one work, by the id they replay.
    await api.database.prisma.invocation.delete({ where: { id } });
    const afterRetention = (await api.http.get('/v1/dead-letters', { token: alice.key })).body.items as Array<{ id: string; resolvedBy: string | null }>;
    assert.equal(afterRetention.find((item) => item.id === firstReplay.body.invocationId)?.resolvedBy, sibling.body.invocationId, 'its sibling still resolves it');
    await api.http.request('DELETE', `/v1/bindings/${binding.body.id}`, { token: alice.key });

    // With room for one run at a time, the next event is admitted: the failed one no longer counts as running.
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the events per second spent above
    await api.http.request('PUT', `/v1/admin/tenants/${alice.tenantId}/quota`, { token: api.adminToken, body: { overrides: { ...overrides, concurrentRuns: 1 } } });
    const next = await api.http.post('/v1/events', { token: alice.key, body: { type: 'job.quick' } });
    assert.equal(next.status, 202, next.text);
    assert.equal((await waitFor(next.body.invocations[0].id, (body) => body.status !== 'queued' && body.status !== 'running')).output, 'quick');

    // Like a direct call, a replay does not run a deleted plugin.
    assert.equal((await api.http.delete(`/v1/plugins/${pluginId}?force=true`, { token: alice.key })).status, 200);
    const replayed = await api.http.post(`/v1/dead-letters/${firstReplay.body.invocationId}/replay`, { token: alice.key, body: { again: true } });
    assert.equal(replayed.status, 409, replayed.text);
  });
});
