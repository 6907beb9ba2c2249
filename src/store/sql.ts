/**
 * The smallest database surface the store needs, implemented by PGlite (embedded)
 * and node-postgres (PostgreSQL). Parameters are always bound ($1, $2, ...), never
 * spliced into SQL text.
 */
export interface SqlResult<T> {
  rows: T[];
  affectedRows: number;
}

export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Sql extends SqlExecutor {
  /** Runs `fn` in one transaction (BEGIN/COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** 'pglite' or 'postgres'. */
  readonly dialect: 'pglite' | 'postgres';
  /**
   * The same database for the HTTP API's reads: their statements never hold up the
   * engine's (PGlite: they wait while engine statements are queued; PostgreSQL: a pool
   * of their own). Closing it closes nothing: `close()` of this Sql does. Absent: this Sql.
   */
  readLane?(): Sql;
  /**
   * Runs a named transaction body of `procedures.ts` with `args`, in one transaction, where
   * the database is (PGlite: on its thread). Absent: `callProcedure` runs it through
   * `transaction`.
   */
  call?(name: string, args: unknown[]): Promise<unknown>;
}

/** The Sql the API reads through: `sql.readLane()` when there is one, else `sql` itself. */
export function readLaneOf(sql: Sql): Sql {
  return sql.readLane?.() ?? sql;
}
