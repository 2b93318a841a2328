import { chmod, mkdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/prisma/client.js';
import { readMigrationFiles } from './migrations/migration-files.js';
import { applyMigrations } from './migrations/migration-runner.js';
import { MIGRATIONS_DIR } from './paths.js';
import { PgliteSqlExecutor, PgSqlExecutor, type SqlExecutor } from './sql-executor.js';

export interface DatabaseOptions {
  /** A `postgresql://` URL; unset means the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  /** Where the embedded database keeps its files (`<dataDir>/pgdata`). */
  dataDir: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /**
   * The embedded database is not ready (`ping` rejects) while its disk has less free space than this: its writes
   * would fail, each request finding out by itself. Default 64 MiB. PostgreSQL's disk is not this process's to see.
   */
  minFreeDiskBytes?: number;
}

const DEFAULT_MIN_FREE_DISK_BYTES = 64 * 1024 * 1024;

/** The embedded database's disk is (nearly) full; the message says how full, for a readiness answer. */
export class DiskSpaceLowError extends Error {}

/** One open database: the shared Prisma client and what it takes to check and close it. */
export interface Database {
  readonly kind: 'postgresql' | 'pglite';
  readonly prisma: PrismaClient;
  /**
   * The same connections without Prisma Client, for the few statements on the
   * event path where its per-query cost shows (recording events, claiming and
   * finishing invocations).
   */
  readonly sql: SqlExecutor;
  /**
   * For statements that reach every row they touch by its key, and run for each
   * batch of runs (claiming and finishing them): each is planned once per
   * connection, as lookups by key (see KEYED_LOOKUP_PLANNING), not planned
   * again on every run.
   */
  readonly keyedSql: SqlExecutor;
  /** Names of the migrations applied while opening. */
  readonly appliedMigrations: readonly string[];
  /** Resolves when the database answers a query (and, embedded, has room on its disk); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl === undefined
    ? openPglite(options.dataDir, options.migrate ?? true, options.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES)
    : openPostgres(options.databaseUrl, options.migrate ?? true);
}

/** Applies pending migrations through `sql` and returns their names. */
export async function migrate(sql: SqlExecutor): Promise<string[]> {
  return applyMigrations(sql, await readMigrationFiles(MIGRATIONS_DIR));
}

/**
 * How the keyed-lookup connections plan. A named statement is planned once for
 * any parameters (a generic plan) instead of for each call: the claim's
 * planning took more of the database's time than running it (0.77 ms against
 * 0.49 ms, and 0.33 ms more to parse its text). A generic plan is kept until
 * the statistics of a table it reads change; one made while the tables were
 * empty (a new database) scanned them whole, and kept doing so as they grew
 * until the next ANALYZE. So these connections take no whole-table scans or
 * joins that read a table whole (hash and merge joins): every row is found
 * through an index, whatever the statistics say. Only statements of that shape
 * may run on them.
 */
const KEYED_LOOKUP_PLANNING = 'SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off';

/**
 * A pool tells of a connection PostgreSQL ended while nobody was using it (a
 * restart, an operator ending sessions) as an `error` event, which unheard ends
 * the process. The pool has dropped that connection already and opens another
 * for the next statement, which fails if PostgreSQL is still away: that is where
 * the outage shows (and is retried or answered 503), so the event needs nothing more.
 */
function survivingIdleErrors(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  return pool;
}

/** The keyed-lookup connections: a few suffice, as claims and finishes run a batch at a time. */
function keyedLookupPool(databaseUrl: string): pg.Pool {
  return new pg.Pool({
    connectionString: databaseUrl,
    max: 4,
    // Set before the connection is handed out; a connection that cannot take them is closed and its request fails.
    onConnect: async (client) => {
      await client.query(KEYED_LOOKUP_PLANNING);
    },
  });
}

async function openPostgres(databaseUrl: string, shouldMigrate: boolean): Promise<Database> {
  let appliedMigrations: string[] = [];
  if (shouldMigrate) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      appliedMigrations = await migrate(new PgSqlExecutor(client));
    } finally {
      await client.end();
    }
  }
  // One pool for Prisma and the raw statements, so both count against one connection limit.
  const pool = survivingIdleErrors(new pg.Pool({ connectionString: databaseUrl }));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // Opens its connections only when used (by workers).
  const keyedPool = survivingIdleErrors(keyedLookupPool(databaseUrl));
  return {
    kind: 'postgresql',
    prisma,
    sql: new PgSqlExecutor(pool),
    keyedSql: new PgSqlExecutor(keyedPool),
    appliedMigrations,
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
    close: async () => {
      await Promise.all([prisma.$disconnect(), keyedPool.end()]);
    },
  };
}

/** Rejects with DiskSpaceLowError when the disk holding `directory` has less than `minFreeBytes` free. */
async function requireFreeSpace(directory: string, minFreeBytes: number): Promise<void> {
  const disk = await statfs(directory);
  // Blocks available to this (unprivileged) process, not those the filesystem keeps for root.
  const free = disk.bavail * disk.bsize;
  if (free >= minFreeBytes) return;
  const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
  throw new DiskSpaceLowError(`the embedded database's disk has ${mib(free)} MiB free, less than the ${mib(minFreeBytes)} MiB kept free for it (AIRLOCK_MIN_FREE_DISK_BYTES)`);
}

async function openPglite(dataDir: string, shouldMigrate: boolean, minFreeDiskBytes: number): Promise<Database> {
  const directory = join(dataDir, 'pgdata');
  // Tenants' payloads, outputs, sources and key-value data: this process's user's only (PGlite makes its files
  // readable by all; a directory no one else may enter keeps them in), and tightened on a directory made before.
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const pglite = await PGlite.create(directory);
  const appliedMigrations = shouldMigrate ? await migrate(new PgliteSqlExecutor(pglite, pglite)) : [];
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    kind: 'pglite',
    prisma,
    sql: new PgliteSqlExecutor(pglite, pglite),
    // One connection, which plans each statement anew.
    keyedSql: new PgliteSqlExecutor(pglite, pglite),
    appliedMigrations,
    ping: async () => {
      await prisma.$queryRaw`SELECT 1`;
      await requireFreeSpace(directory, minFreeDiskBytes);
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
