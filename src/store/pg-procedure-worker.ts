/**
 * PostgreSQL's procedure thread: the store's transaction bodies (`procedures.ts`: a
 * batch of events and ends, the claim, the insert that starts runs) run here, over a
 * pool of their own, whole. Each of their statements is a round trip to PostgreSQL; on
 * the server's thread every one of them waited for a turn of an event loop that is busy
 * answering HTTP (under 50 readers a turn takes tens of ms, and a claim is five round
 * trips), here they go back to back. The server sends one `call` and gets one answer
 * (`database-thread.ts`); it answers `call` and `close`, nothing else.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { errorData, type FromDatabase, type ProcedureThreadOptions, type ToDatabase } from './database-messages.js';
import { pgExecutor } from './pg-executor.js';
import { runProcedure } from './procedures.js';

const port = parentPort!;
const options = workerData as ProcedureThreadOptions;

function answer(id: number, work: Promise<{ result?: unknown } | void>): void {
  work.then(
    (result) => port.postMessage({ id, ok: true, ...(result ?? {}) } satisfies FromDatabase),
    (error: unknown) => port.postMessage({ id, ok: false, error: errorData(error) } satisfies FromDatabase),
  );
}

/** Runs procedure `name` in one transaction on a pooled connection; a connection that cannot roll back is dropped. */
async function call(pool: pg.Pool, name: string, args: unknown[]): Promise<{ result: unknown }> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await runProcedure(pgExecutor(client), name, args);
    await client.query('COMMIT');
    return { result };
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
// An idle connection that drops (server restart) must not end the thread.
pool.on('error', () => {});
try {
  // Fail at start on a database that does not answer, as the server's own pool does.
  (await pool.connect()).release();
  port.on('message', (msg: ToDatabase) => {
    switch (msg.op) {
      case 'call':
        return answer(msg.id, call(pool, msg.name, msg.args));
      case 'close':
        return answer(msg.id, pool.end());
      default:
        return answer(msg.id, Promise.reject(new Error(`the procedure thread does not take ${JSON.stringify(msg.op)}`)));
    }
  });
  port.postMessage({ id: 0, ok: true, ready: true } satisfies FromDatabase);
} catch (error) {
  await pool.end().catch(() => {});
  port.postMessage({ id: 0, ok: false, ready: false, error: errorData(error) } satisfies FromDatabase);
}
