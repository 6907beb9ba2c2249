import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseThread, rowsOf } from './database-thread.js';
import type { DatabaseThreadOptions } from './database-messages.js';
import type { Lane } from './priority-lanes.js';
import type { Sql, SqlExecutor, SqlResult } from './sql.js';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly), on a thread of
 * its own in this process (`pglite-worker.ts`), so that its statements never hold up
 * the server's thread. Its data lives in `<dataDir>/pgdata`; without `dataDir` it is
 * in memory. PGlite is a single session: statements and transactions from concurrent
 * callers run one at a time, never interleaved — the engine's first, the API's reads
 * (`readLane()`) after them (`priority-lanes.ts`).
 */
export async function openPglite(dataDir: string | undefined): Promise<Sql> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'pgdata');
    await mkdir(path, { recursive: true });
  }
  const thread = await DatabaseThread.start(import.meta.url, 'pglite-worker', { path } satisfies DatabaseThreadOptions, 'the embedded database');
  return new PgliteSql(thread, 'engine');
}

class PgliteSql implements Sql {
  readonly dialect = 'pglite' as const;

  constructor(
    private readonly thread: DatabaseThread,
    private readonly lane: Lane,
  ) {}

  async query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
    return rowsOf<T>(await this.thread.request({ op: 'query', lane: this.lane, text, params }));
  }

  async exec(script: string): Promise<void> {
    await this.thread.request({ op: 'exec', lane: this.lane, script });
  }

  /**
   * Statements are sent as they are issued, without waiting for the transaction to hold
   * the database or for the statement before to be answered: the PGlite thread runs
   * them in order, and holds the database idle only while `fn` itself awaits an answer
   * it needs (statements issued together — `Promise.all` — cost one exchange).
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const { id: txId, answer: begun } = this.thread.send({ op: 'begin', lane: this.lane });
    // A BEGIN that fails fails the statements after it, and the end: it is reported there.
    begun.catch(() => undefined);
    const tx: SqlExecutor = {
      query: async <R>(text: string, params?: unknown[]) => rowsOf<R>(await this.thread.request({ op: 'query', lane: this.lane, tx: txId, text, params })),
      exec: async (script: string) => {
        await this.thread.request({ op: 'exec', lane: this.lane, tx: txId, script });
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      await this.thread.request({ op: 'end', tx: txId, commit: false }).catch(() => {});
      throw error;
    }
    await this.thread.request({ op: 'end', tx: txId, commit: true });
    return result;
  }

  async call(name: string, args: unknown[]): Promise<unknown> {
    return (await this.thread.request({ op: 'call', lane: this.lane, name, args })).result;
  }

  readLane(): Sql {
    return this.lane === 'reads' ? this : new PgliteSql(this.thread, 'reads');
  }

  async close(): Promise<void> {
    if (this.lane === 'reads') return;
    await this.thread.close();
  }
}
