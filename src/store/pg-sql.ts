import pg from 'pg';
import { DatabaseThread } from './database-thread.js';
import type { ProcedureThreadOptions } from './database-messages.js';
import { pgExecutor } from './pg-executor.js';
import { runProcedure } from './procedures.js';
import type { Sql, SqlExecutor, SqlResult } from './sql.js';

/** Connections kept open to PostgreSQL by one topas process for the engine (and everything but API reads). */
const POOL_SIZE = 10;
/**
 * Connections of the API's reads (`readLane()`), apart from the engine's: a reader
 * never holds a connection the engine waits for, and at most this many reads run
 * at once (the others wait their turn in the pool's queue).
 */
const READ_POOL_SIZE = 8;
/**
 * Connections of the procedure thread (`pg-procedure-worker.ts`): the engine's
 * transactions (event batches and ends, claims, inserts that start runs) that may run
 * at once.
 */
const PROCEDURE_POOL_SIZE = 4;

/** PostgreSQL over a node-postgres pool; each transaction holds one pooled connection. */
export async function openPostgres(url: string): Promise<Sql> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  // An idle connection that drops (server restart) must not crash the process.
  pool.on('error', () => {});
  // Fail fast on a wrong URL instead of at the first query.
  const client = await pool.connect();
  client.release();
  let procedures: DatabaseThread;
  try {
    procedures = await DatabaseThread.start(import.meta.url, 'pg-procedure-worker', { url, poolSize: PROCEDURE_POOL_SIZE } satisfies ProcedureThreadOptions, "PostgreSQL's procedure thread");
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return new PostgresSql(pool, procedures, () => {
    const reads = new pg.Pool({ connectionString: url, max: READ_POOL_SIZE });
    reads.on('error', () => {});
    return reads;
  });
}

class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  private readonly direct: SqlExecutor;
  /** The read lane, opened at its first use; closed with this Sql. */
  private reads: PostgresSql | null = null;

  /**
   * `procedures` runs the store's procedures (`call`); without it they run as transactions
   * on `pool`. `readPool` opens the read lane's pool (at its first use); without it,
   * reads share `pool`.
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly procedures: DatabaseThread | null,
    private readonly readPool?: () => pg.Pool,
    private readonly isReadLane = false,
  ) {
    this.direct = pgExecutor(pool);
  }

  readLane(): Sql {
    if (!this.readPool) return this;
    this.reads ??= new PostgresSql(this.readPool(), null, undefined, true);
    return this.reads;
  }

  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
    return this.direct.query<T>(text, params);
  }

  exec(script: string): Promise<void> {
    return this.direct.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(pgExecutor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable; do not return it to the pool
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs a procedure of `procedures.ts` on the procedure thread: one exchange with this thread, however many statements it has. */
  async call(name: string, args: unknown[]): Promise<unknown> {
    if (!this.procedures) return this.transaction((tx) => runProcedure(tx, name, args));
    return (await this.procedures.request({ op: 'call', lane: 'engine', name, args })).result;
  }

  async close(): Promise<void> {
    if (this.isReadLane) return; // closed with the Sql it belongs to
    await this.procedures?.close();
    await this.reads?.pool.end();
    await this.pool.end();
  }
}
