import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * Raw SQL for the few jobs Prisma Client cannot do or does too slowly: running
 * migration scripts (many statements at once) and the hot statements of the
 * event path. One implementation per driver, so callers are the same on
 * PostgreSQL and PGlite.
 */
export interface SqlExecutor {
  /** Runs a script of one or more statements, without parameters. */
  exec(script: string): Promise<void>;
  /**
   * Runs one parameterised statement and returns its rows. A `name` makes
   * PostgreSQL prepare it once per connection and reuse its plan: for the hot
   * statements of the event path, whose planning costs more than their
   * execution. (PGlite has one connection in-process and plans each time.)
   */
  query<Row extends object>(statement: string, params?: readonly unknown[], name?: string): Promise<Row[]>;
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

/**
 * Statements on one connection, or on a pool (each statement takes whichever
 * connection is free; a transaction holds one for its duration).
 */
export class PgSqlExecutor implements SqlExecutor {
  constructor(private readonly db: pg.ClientBase | pg.Pool) {}

  async exec(script: string): Promise<void> {
    await this.db.query(script);
  }

  async query<Row extends object>(statement: string, params: readonly unknown[] = [], name?: string): Promise<Row[]> {
    return (await this.db.query<Row & pg.QueryResultRow>({ text: statement, values: [...params], ...(name === undefined ? {} : { name }) })).rows;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.db instanceof pg.Pool) {
      const client = await this.db.connect();
      try {
        return await new PgSqlExecutor(client).transaction(work);
      } finally {
        client.release();
      }
    }
    await this.db.query('BEGIN');
    try {
      const result = await work(this);
      await this.db.query('COMMIT');
      return result;
    } catch (error) {
      await this.db.query('ROLLBACK');
      throw error;
    }
  }
}
