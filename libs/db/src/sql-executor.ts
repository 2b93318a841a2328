import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';

/**
 * Raw SQL for the few jobs Prisma Client cannot do or does too slowly: running
 * migration scripts (many statements at once) and the hot statements of the
 * event path. One implementation per driver, so callers are the same on
 * PostgreSQL and PGlite.
 */
export interface SqlExecutor {
  /** Runs a script of one or more statements, without parameters. */
  exec(script: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query<Row extends object>(statement: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs `work` in a transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

export class PgliteSqlExecutor implements SqlExecutor {
  /** `root` is absent inside a transaction: PGlite has no nested transactions. */
  constructor(
    private readonly db: Pick<Transaction, 'exec' | 'query'>,
    private readonly root?: PGlite,
  ) {}

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  async query<Row extends object>(statement: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.db.query<Row>(statement, [...params])).rows;
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (!this.root) throw new Error('Nested transactions are not supported');
    return this.root.transaction((tx) => work(new PgliteSqlExecutor(tx)));
  }
}

export class PgSqlExecutor implements SqlExecutor {
  constructor(private readonly client: pg.ClientBase) {}

  async exec(script: string): Promise<void> {
    await this.client.query(script);
  }

  async query<Row extends object>(statement: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.client.query<Row & pg.QueryResultRow>(statement, [...params])).rows;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      const result = await work(this);
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw error;
    }
  }
}

/** Statements on a pool: each query takes whichever connection is free. */
export class PgPoolSqlExecutor implements SqlExecutor {
  constructor(private readonly pool: pg.Pool) {}

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async query<Row extends object>(statement: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.pool.query<Row & pg.QueryResultRow>(statement, [...params])).rows;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await new PgSqlExecutor(client).transaction(work);
    } finally {
      client.release();
    }
  }
}
