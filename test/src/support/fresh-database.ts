import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testEnvironment } from './test-environment.js';

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Takes the database at `url` away from its clients, as a server that went down
 * would: open connections are cut and new ones refused, until `restore`.
 */
export async function cutDatabase(url: string): Promise<{ restore(): Promise<void> }> {
  const name = new URL(url).pathname.slice(1);
  await withAdminClient(async (client) => {
    await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  });
  return { restore: () => withAdminClient((client) => client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`)).then(() => undefined) };
}

/** A new, empty PostgreSQL database for one test file; never a shared table. */
export async function createFreshDatabase(): Promise<FreshDatabase> {
  const name = `airlock_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(testEnvironment.postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testEnvironment.postgresAdminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
