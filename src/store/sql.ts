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
}
