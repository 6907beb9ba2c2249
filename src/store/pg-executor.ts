import type pg from 'pg';
import type { PgStatements } from './pg-statements.js';
import type { SqlExecutor, SqlResult } from './sql.js';

/** A node-postgres connection in a transaction as the store's `SqlExecutor`; its statements prepared by `statements`. */
export function pgExecutor(target: pg.PoolClient, statements: PgStatements): SqlExecutor {
  return {
    async query<T>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
      const result = await statements.query(target, text, params, false);
      return { rows: result.rows as T[], affectedRows: result.rowCount ?? 0 };
    },
    async exec(script: string): Promise<void> {
      // No parameters: the simple query protocol runs every statement of the script.
      await target.query(script);
    },
  };
}
