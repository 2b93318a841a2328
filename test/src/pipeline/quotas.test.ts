import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { createRedisConnection } from '@airlock/queue';
import { createWorkerApp } from '@airlock/worker/worker-app';
import type { Redis } from 'ioredis';
import { type ApiHarness, startApi } from '../support/api-harness.js';
import { compileTemplate } from '../support/pdk.js';
import { createTenantSession, type TenantSession } from '../support/tenant-session.js';

describe('tenant quotas at enqueue, in Redis', () => {
  let api: ApiHarness;
  let hello: Uint8Array;
  const workers: Array<{ app: INestApplicationContext; redis: Redis }> = [];

  before(async () => {
    api = await startApi();
    hello = await compileTemplate('hello');
  });
  after(async () => {
    for (const worker of workers) {
      await worker.app.close();
      await worker.redis.quit();
    }
    await api.close();
  });

  const startWorker = async () => {
    const redis = createRedisConnection(api.config.redisUrl!, 'consumer', 'airlock-test-worker');
    workers.push({ app: await createWorkerApp({ config: api.config, prisma: api.database.prisma, sql: api.database.keyedSql, redis, sandbox: api.sandbox, secrets: api.secretBox }), redis });
  };

  /** A tenant with one binding on order.created and these quota overrides. */
  async function tenantWith(name: string, overrides: Record<string, number>): Promise<TenantSession> {
    const session = await createTenantSession(api, name);
    await api.http.request('PUT', `/v1/admin/tenants/${session.tenantId}/quota`, { token: api.adminToken, body: { overrides } });
    const plugin = (await api.http.post('/v1/plugins', { token: session.key, body: { name: 'greeter' } })).body.id;
    await api.http.post(`/v1/plugins/${plugin}/versions`, { token: session.key, rawBody: { data: hello, contentType: 'application/wasm' } });
    await api.http.post(`/v1/plugins/${plugin}/versions/1/publish`, { token: session.key });
    await api.http.post('/v1/bindings', { token: session.key, body: { event: 'order.created', pluginId: plugin, export: 'greet' } });
    return session;
  }
  /** Waits for the next second: publishing in `tenantWith` ran the version's tests, counted as this second's events. */
  const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  const burst = (session: TenantSession, count: number) =>
    Promise.all(Array.from({ length: count }, () => api.http.post('/v1/events', { token: session.key, body: { type: 'order.created' } })));

  it('never lets concurrent events take a tenant past its invocations per day', async () => {
    const tenant = await tenantWith('Daily', { invocationsPerDay: 7, eventsPerSecond: 1000, concurrentRuns: 1000 });
    const responses = await burst(tenant, 20);
    const statuses = responses.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 202).length, 7, statuses.join(','));
    const refused = responses.filter((response) => response.status === 429);
    assert.equal(refused.length, 13);
    assert.deepEqual(refused[0]!.body.error.details.limit, 'invocationsPerDay');
    assert.ok(Number(refused[0]!.headers.get('retry-after')) > 0);
    assert.equal((await api.http.get('/v1/invocations?limit=200', { token: tenant.key })).body.items.length, 7, 'refused events recorded nothing');
  });

  it('refuses for good, with 422 and no Retry-After, an event that fans out to more invocations than a limit ever admits', async () => {
    const tenant = await tenantWith('Narrow', { concurrentRuns: 1, eventsPerSecond: 1000, invocationsPerDay: 1000 });
    const pluginId = (await api.http.get('/v1/plugins', { token: tenant.key })).body.items[0].id as string;
    await api.http.post('/v1/bindings', { token: tenant.key, body: { event: 'order.created', pluginId, export: 'greet', config: { second: 'yes' } } });
    const refused = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.error.code, 'quota_too_small');
    assert.deepEqual(refused.body.error.details, { limit: 'concurrentRuns', max: 1, requested: 2 });
    assert.equal(refused.headers.get('retry-after'), null);
    assert.equal((await api.http.get('/v1/invocations', { token: tenant.key })).body.items.length, 0, 'nothing recorded');
    const direct = await api.http.post(`/v1/plugins/${pluginId}/invoke`, { token: tenant.key, body: { export: 'greet', input: 'x' } });
    assert.equal(direct.status, 202, 'one invocation fits');
  });

  it('refuses for good, with 422 and no Retry-After, every request of a tenant whose events per second or fuel per day is 0', async () => {
    const tenant = await tenantWith('Blocked', { eventsPerSecond: 1000, invocationsPerDay: 1000, concurrentRuns: 1000 });
    const pluginId = (await api.http.get('/v1/plugins', { token: tenant.key })).body.items[0].id as string;
    for (const limit of ['eventsPerSecond', 'fuelPerDay']) {
      const put = await api.http.request('PUT', `/v1/admin/tenants/${tenant.tenantId}/quota`, { token: api.adminToken, body: { overrides: { [limit]: 0 } } });
      assert.equal(put.status, 200, put.text);
      const requests = [
        api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } }),
        api.http.post(`/v1/plugins/${pluginId}/invoke`, { token: tenant.key, body: { export: 'greet', input: 'x' } }),
        api.http.post(`/v1/plugins/${pluginId}/versions/1/test`, { token: tenant.key, body: { export: 'greet', input: 'x' } }),
      ];
      for (const refused of await Promise.all(requests)) {
        assert.equal(refused.status, 422, `${limit}: ${refused.text}`);
        assert.equal(refused.body.error.code, 'quota_too_small');
        assert.deepEqual(refused.body.error.details, { limit, max: 0 });
        assert.match(refused.body.error.message, new RegExp(`${limit} quota is 0`));
        assert.equal(refused.headers.get('retry-after'), null, 'nothing to wait for');
      }
    }
    assert.equal((await api.http.get('/v1/invocations', { token: tenant.key })).body.items.length, 0, 'nothing recorded');
  });

  it('limits events per second, with Retry-After: 1', async () => {
    const tenant = await tenantWith('Bursty', { eventsPerSecond: 3, invocationsPerDay: 1000, concurrentRuns: 1000 });
    await nextSecond();
    const responses = await burst(tenant, 15);
    const accepted = responses.filter((response) => response.status === 202).length;
    assert.ok(accepted >= 3 && accepted <= 6, `${accepted} accepted (a burst can straddle two seconds)`);
    const refused = responses.find((response) => response.status === 429)!;
    assert.equal(refused.body.error.details.limit, 'eventsPerSecond');
    assert.equal(refused.headers.get('retry-after'), '1');

    // Sending one event again with its idempotency key runs nothing new, but is a request like any other.
    await nextSecond();
    const replays = await Promise.all(
      Array.from({ length: 15 }, () => api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', idempotencyKey: 'same-order' } })),
    );
    const replayed = replays.filter((response) => response.status === 202);
    assert.ok(replayed.length >= 3 && replayed.length <= 6, `${replayed.length} accepted`);
    assert.equal(new Set(replayed.map((response) => response.body.eventId)).size, 1, 'one event');
    assert.equal(replays.find((response) => response.status === 429)?.body.error.details.limit, 'eventsPerSecond');
  });

  it('limits invocations in flight, and frees them as they finish', async () => {
    const tenant = await tenantWith('Busy', { concurrentRuns: 2, eventsPerSecond: 1000, invocationsPerDay: 1000 });
    const [first, second, third] = await burst(tenant, 3).then((responses) => responses.map((response) => response.status).sort());
    assert.deepEqual([first, second, third], [202, 202, 429]);
    await startWorker();
    let accepted = 429;
    for (let tries = 0; tries < 100 && accepted !== 202; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      accepted = (await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } })).status;
    }
    assert.equal(accepted, 202, 'finished invocations no longer count');
  });

  it('keeps counting when Redis has forgotten its scripts (a restart, SCRIPT FLUSH)', async () => {
    const tenant = await tenantWith('Forgetful', { invocationsPerDay: 2, eventsPerSecond: 1000, concurrentRuns: 1000 });
    const send = async () => (await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } })).status;
    assert.equal(await send(), 202);
    const redis = createRedisConnection(api.config.redisUrl!, 'consumer', 'airlock-test-script-flush');
    try {
      await redis.script('FLUSH');
    } finally {
      await redis.quit();
    }
    assert.equal(await send(), 202, 'the script was sent again');
    assert.equal(await send(), 429, 'and the count went on from where it was');
  });

  it('gives back what it admitted when the database refuses to record it', async () => {
    const tenant = await tenantWith('Refused', { concurrentRuns: 2, eventsPerSecond: 1000, invocationsPerDay: 1000 });
    const pluginId = (await api.http.get('/v1/plugins', { token: tenant.key })).body.items[0].id as string;
    await api.http.post('/v1/bindings', { token: tenant.key, body: { event: 'order.refused', pluginId, export: 'greet', config: { refuse: 'yes' } } });
    // The database refuses every invocation whose config asks for it.
    await api.database.sql.exec(`
      CREATE FUNCTION refuse_marked_invocations() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.config ? 'refuse' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_marked_invocations BEFORE INSERT ON invocations FOR EACH ROW EXECUTE FUNCTION refuse_marked_invocations();`);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.refused' } })).status, 500);
      assert.equal((await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } })).status, 202, 'the refused events hold no place among the running');
      const invoke = (config: Record<string, string>) => api.http.post(`/v1/plugins/${pluginId}/invoke`, { token: tenant.key, body: { export: 'greet', input: 'x', config } });
      for (let i = 0; i < 3; i++) assert.equal((await invoke({ refuse: 'yes' })).status, 500);
      assert.equal((await invoke({})).status, 202, 'nor do the refused calls');
    } finally {
      await api.database.sql.exec('DROP TRIGGER refuse_marked_invocations ON invocations; DROP FUNCTION refuse_marked_invocations();');
    }
  });

  it('answers 503, not 500, when the database drops the connection recording an event, and records it when sent again', async () => {
    const tenant = await tenantWith('Dropped', { concurrentRuns: 10, eventsPerSecond: 1000, invocationsPerDay: 1000 });
    // The database ends the connection that records the first such event, as a restart or a failover would.
    await api.database.sql.exec(`
      CREATE SEQUENCE dropped_connections;
      CREATE FUNCTION drop_first_recording() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'order.dropped' AND nextval('dropped_connections') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER drop_first_recording BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION drop_first_recording();`);
    try {
      const body = { type: 'order.dropped', payload: 'x', idempotencyKey: 'dropped-once' };
      const dropped = await api.http.post('/v1/events', { token: tenant.key, body });
      assert.equal(dropped.status, 503, dropped.text);
      assert.equal(dropped.body.error.code, 'not_ready');
      assert.match(dropped.body.error.message, /database/);
      const again = await api.http.post('/v1/events', { token: tenant.key, body });
      assert.equal(again.status, 202, again.text);
    } finally {
      await api.database.sql.exec('DROP TRIGGER drop_first_recording ON events; DROP FUNCTION drop_first_recording(); DROP SEQUENCE dropped_connections;');
    }
  });

  it('refuses what the database cannot store (U+0000 or a lone surrogate in text, an overlong type), and keeps them in payloads', async () => {
    const tenant = await tenantWith('Nul', { concurrentRuns: 1000, eventsPerSecond: 1000, invocationsPerDay: 1000 });
    const keyed = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', idempotencyKey: 'a\u0000b' } });
    assert.equal(keyed.status, 400, keyed.text);
    assert.deepEqual(keyed.body.error.details.issues, [{ field: 'idempotencyKey', message: 'must not contain the character U+0000 (NUL)' }]);
    const pluginId = (await api.http.get('/v1/plugins', { token: tenant.key })).body.items[0].id as string;
    const configured = await api.http.post(`/v1/plugins/${pluginId}/invoke`, { token: tenant.key, body: { export: 'greet', config: { 'k\u0000': 'v' } } });
    assert.equal(configured.status, 400, configured.text);
    assert.equal(configured.body.error.details.issues[0].field, 'config.k\u0000');
    // A lone surrogate is no character: PostgreSQL refuses it in JSON, and as text it would become U+FFFD, so two
    // different idempotency keys would be one.
    const surrogate = await api.http.post(`/v1/plugins/${pluginId}/invoke`, { token: tenant.key, body: { export: 'greet', config: { k: '\ud800' } } });
    assert.equal(surrogate.status, 400, surrogate.text);
    assert.deepEqual(surrogate.body.error.details.issues, [{ field: 'config.k', message: 'must be well-formed Unicode (it holds a lone surrogate)' }]);
    const surrogateKey = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', idempotencyKey: 'order-\udfff' } });
    assert.equal(surrogateKey.status, 400, surrogateKey.text);
    assert.equal(surrogateKey.body.error.details.issues[0].field, 'idempotencyKey');
    const pairedInPayload = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', idempotencyKey: 'order-😀', payload: { note: '\ud800' } } });
    assert.equal(pairedInPayload.status, 202, 'a pair is a character; a payload keeps what JSON can say');
    // A type the pattern allows but the column cannot hold is refused alone, not with the events recorded beside it.
    const longType = `${'a'.repeat(50)}.${'b'.repeat(50)}.c`;
    const tooLong = await api.http.post('/v1/events', { token: tenant.key, body: { type: longType } });
    assert.equal(tooLong.status, 400, tooLong.text);
    assert.equal(tooLong.body.error.details.issues[0].field, 'type');
    const payload = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', payload: { note: 'a\u0000b' } } });
    assert.equal(payload.status, 202, payload.text);
    const stored = await api.database.prisma.event.findUniqueOrThrow({ where: { id: payload.body.eventId } });
    assert.equal(Buffer.from(stored.payload).toString(), JSON.stringify({ note: 'a\u0000b' }), 'a payload is bytes: kept as sent');
    // JSON nested deeper than code that serializes it again can follow.
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deepPayload = await api.http.post('/v1/events', {
      token: tenant.key,
      rawBody: { data: Buffer.from(`{"type": "order.created", "payload": ${deep(200_000)}}`), contentType: 'application/json' },
    });
    assert.equal(deepPayload.status, 400, deepPayload.text);
    assert.equal(deepPayload.body.error.details.issues[0].field, 'payload');
    const deepConfig = await api.http.post(`/v1/plugins/${pluginId}/invoke`, {
      token: tenant.key,
      rawBody: { data: Buffer.from(`{"export": "greet", "config": {"k": ${deep(100)}}}`), contentType: 'application/json' },
    });
    assert.equal(deepConfig.status, 400, deepConfig.text);
    assert.match(deepConfig.body.error.details.issues[0].message, /nests deeper than 64 levels/);
  });

  it('counts an event sent many times at once with one idempotency key once', async () => {
    const tenant = await tenantWith('Retrying', { concurrentRuns: 3, invocationsPerDay: 3, eventsPerSecond: 1000 });
    const responses = await Promise.all(
      Array.from({ length: 3 }, () => api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created', idempotencyKey: 'same-order' } })),
    );
    assert.deepEqual(responses.map((response) => response.status), [202, 202, 202]);
    assert.equal(new Set(responses.map((response) => response.body.eventId)).size, 1, 'one event');
    // One invocation is queued: two more fit in flight and in the day, whichever request won the race.
    const [fourth, fifth, sixth] = await burst(tenant, 3).then((all) => all.map((response) => response.status).sort());
    assert.deepEqual([fourth, fifth, sixth], [202, 202, 429]);
  });

  it('refuses new events once the day\'s fuel is spent', async () => {
    const tenant = await tenantWith('Hungry', { fuelPerDay: 1, eventsPerSecond: 1000, invocationsPerDay: 1000, concurrentRuns: 1000 });
    const first = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } });
    assert.equal(first.status, 202);
    const id = first.body.invocations[0].id;
    for (let tries = 0; tries < 200; tries++) {
      if ((await api.http.get(`/v1/invocations/${id}`, { token: tenant.key })).body.status === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let refused;
    for (let tries = 0; tries < 50; tries++) {
      refused = await api.http.post('/v1/events', { token: tenant.key, body: { type: 'order.created' } });
      if (refused.status === 429) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(refused!.status, 429);
    assert.equal(refused!.body.error.details.limit, 'fuelPerDay');
  });

  it('counts test runs against events per second and the day\'s fuel, sharing the budget with events', async () => {
    const limited = await tenantWith('Tester', { eventsPerSecond: 2, invocationsPerDay: 1000, concurrentRuns: 1000 });
    await nextSecond();
    const limitedPlugin = (await api.http.get('/v1/plugins', { token: limited.key })).body.items[0].id as string;
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => api.http.post(`/v1/plugins/${limitedPlugin}/versions/1/test`, { token: limited.key, body: { export: 'greet', input: 'x' } })),
    );
    const statuses = runs.map((response) => response.status);
    assert.ok(statuses.filter((status) => status === 200).length <= 4, `at most two a second (a burst can straddle two): ${statuses.join(',')}`);
    const refused = runs.find((response) => response.status === 429);
    assert.equal(refused?.body.error.details.limit, 'eventsPerSecond');
    assert.equal(refused?.headers.get('retry-after'), '1');

    const hungry = await tenantWith('Hungry tester', { fuelPerDay: 1, eventsPerSecond: 1000, invocationsPerDay: 1000, concurrentRuns: 1000 });
    const bindingId = (await api.http.get('/v1/bindings', { token: hungry.key })).body.items[0].id as string;
    const first = await api.http.post(`/v1/bindings/${bindingId}/test`, { token: hungry.key, body: { input: 'Ada' } });
    assert.equal(first.status, 200, first.text);
    assert.ok(first.body.fuelUsed > 1, 'the run spends more than the whole day\'s fuel');
    const again = await api.http.post(`/v1/bindings/${bindingId}/test`, { token: hungry.key, body: { input: 'Ada' } });
    assert.equal(again.status, 429);
    assert.equal(again.body.error.details.limit, 'fuelPerDay');
    const pluginId = (await api.http.get('/v1/plugins', { token: hungry.key })).body.items[0].id as string;
    const declared = await api.http.post(`/v1/plugins/${pluginId}/versions/1/test`, { token: hungry.key });
    assert.equal(declared.status, 429, 'declared tests too');
    const event = await api.http.post('/v1/events', { token: hungry.key, body: { type: 'order.created' } });
    assert.equal(event.status, 429, 'and events: the fuel a test burns is the tenant\'s');
    assert.equal(event.body.error.details.limit, 'fuelPerDay');
  });
});
