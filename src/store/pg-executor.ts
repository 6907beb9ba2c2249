import type pg from 'pg';
import type { SqlExecutor, SqlResult } from './sql.js';

/** A node-postgres pool or pooled connection as the store's `SqlExecutor`. */
export function pgExecutor(target: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query<T>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
      const result = await target.query(text, params);
      return { rows: result.rows as T[], affectedRows: result.rowCount ?? 0 };
    },
    async exec(script: string): Promise<void> {
      // No parameters: the simple query protocol runs every statement of the script.
      await target.query(script);
    },
  };
}
