import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PriorityLanes, type Lane } from './priority-lanes.js';
import type { Sql, SqlExecutor, SqlResult } from './sql.js';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in this
 * process. Its data lives in `<dataDir>/pgdata`; without `dataDir` it is in memory.
 * PGlite is a single session: statements and transactions from concurrent callers
 * run one at a time, never interleaved — the engine's first, the API's reads
 * (`readLane()`) after them (`priority-lanes.ts`).
 */
export async function openPglite(dataDir: string | undefined): Promise<Sql> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'pgdata');
    await mkdir(path, { recursive: true });
  }
  const db = await PGlite.create({ ...(path ? { dataDir: path } : {}), extensions: { pg_trgm } });
  return new PgliteSql(db, new PriorityLanes(), 'engine');
}

function executor(target: PGlite | Transaction): SqlExecutor {
  return {
    async query<T>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
      const result = await target.query<T>(text, params as unknown[] | undefined);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
    async exec(script: string): Promise<void> {
      await target.exec(script);
    },
  };
}

class PgliteSql implements Sql {
  readonly dialect = 'pglite' as const;
  private readonly direct: SqlExecutor;

  constructor(
    private readonly db: PGlite,
    private readonly lanes: PriorityLanes,
    private readonly lane: Lane,
  ) {
    this.direct = executor(db);
  }

  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
    return this.lanes.run(this.lane, () => this.direct.query<T>(text, params));
  }

  exec(script: string): Promise<void> {
    return this.lanes.run(this.lane, () => this.direct.exec(script));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.lanes.run(this.lane, () => this.db.transaction((tx) => fn(executor(tx))));
  }

  readLane(): Sql {
    return this.lane === 'reads' ? this : new PgliteSql(this.db, this.lanes, 'reads');
  }

  async close(): Promise<void> {
    if (this.lane === 'reads') return;
    if (!this.db.closed) await this.db.close();
  }
}
