import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseThread, ThreadSql } from './database-thread.js';
import type { PgliteThreadOptions } from './database-messages.js';
import type { CheckpointPolicy } from './pglite-checkpointer.js';
import type { Sql } from './sql.js';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly), on a thread of
 * its own in this process (`pglite-worker.ts`), so that its statements never hold up
 * the server's thread. Its data lives in `<dataDir>/pgdata`; without `dataDir` it is
 * in memory. PGlite is a single session: statements and transactions from concurrent
 * callers run one at a time, never interleaved — the engine's first, the API's reads
 * (`readLane()`) after them (`priority-lanes.ts`). The thread checkpoints as
 * PostgreSQL's checkpointer would (`pglite-checkpointer.ts`; `checkpoint` for tests).
 */
export async function openPglite(dataDir: string | undefined, checkpoint?: CheckpointPolicy): Promise<Sql> {
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(dataDir, 'pgdata');
    await mkdir(path, { recursive: true });
  }
  const thread = await DatabaseThread.start(import.meta.url, 'pglite-worker', { path, checkpoint } satisfies PgliteThreadOptions, 'the embedded database');
  return new ThreadSql(thread, 'engine', 'pglite');
}
