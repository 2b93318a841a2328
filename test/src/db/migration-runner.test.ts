import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { applyMigrations, MigrationChecksumError, type MigrationFile, PgSqlExecutor } from '@airlock/db';
import pg from 'pg';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';

function migration(name: string, sql: string): MigrationFile {
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

describe('migration runner', () => {
  let fresh: FreshDatabase;
  let client: pg.Client;

  before(async () => {
    fresh = await createFreshDatabase();
    client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await fresh.drop();
  });

  const tables = async () =>
    (await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map(
      (row) => row.tablename,
    );

  it('keeps earlier migrations and rolls back the whole failing one', async () => {
    const good = migration('20260101000000_good', 'CREATE TABLE good (id int);');
    const bad = migration('20260102000000_bad', 'CREATE TABLE half (id int); SELECT * FROM no_such_table;');
    await assert.rejects(applyMigrations(new PgSqlExecutor(client), [good, bad]), /no_such_table/);
    assert.deepEqual(await tables(), ['_airlock_migrations', 'good'], 'the failing migration left no table behind');
    const history = await client.query('SELECT name FROM _airlock_migrations');
    assert.deepEqual(history.rows.map((row) => row.name), [good.name]);

    const fixed = migration('20260102000000_bad', 'CREATE TABLE half (id int);');
    assert.deepEqual(await applyMigrations(new PgSqlExecutor(client), [good, fixed]), [fixed.name]);
    assert.deepEqual(await applyMigrations(new PgSqlExecutor(client), [good, fixed]), [], 'each applies once');
  });

  it('refuses to run when an applied migration was edited', async () => {
    const edited = migration('20260101000000_good', 'CREATE TABLE good (id bigint);');
    await assert.rejects(applyMigrations(new PgSqlExecutor(client), [edited]), MigrationChecksumError);
  });

  it('lets two processes start at once without applying anything twice', async () => {
    const second = new pg.Client({ connectionString: fresh.url });
    await second.connect();
    try {
      const next = [
        migration('20260101000000_good', 'CREATE TABLE good (id int);'),
        migration('20260102000000_bad', 'CREATE TABLE half (id int);'),
        migration('20260103000000_slow', 'SELECT pg_sleep(0.3); CREATE TABLE slow (id int);'),
      ];
      const results = await Promise.all([
        applyMigrations(new PgSqlExecutor(client), next),
        applyMigrations(new PgSqlExecutor(second), next),
      ]);
      assert.deepEqual(results.flat(), ['20260103000000_slow']);
    } finally {
      await second.end();
    }
  });

  it('lets several processes migrate a new database at once: one applies, the others find it done', async () => {
    const empty = await createFreshDatabase();
    const clients = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const each = new pg.Client({ connectionString: empty.url });
        await each.connect();
        return each;
      }),
    );
    try {
      const first = [migration('20260101000000_first', 'CREATE TABLE first (id int);')];
      const results = await Promise.all(clients.map((each) => applyMigrations(new PgSqlExecutor(each), first)));
      assert.deepEqual(results.flat(), ['20260101000000_first'], 'applied once, and no process failed');
    } finally {
      await Promise.all(clients.map((each) => each.end()));
      await empty.drop();
    }
  });
});
