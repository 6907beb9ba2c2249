/**
 * PostgreSQL's thread: every statement this process sends to PostgreSQL goes from here,
 * over two pools (the engine's and everything else's; the API's reads), so that the
 * server's thread never writes to or parses from PostgreSQL's sockets (a third of its
 * time under read load), and the store's transaction bodies (`procedures.ts`: a batch
 * of events and ends, the claim, the insert that starts runs) run here whole: each of
 * their statements is a round trip, and on the server's thread every one waited for a
 * turn of an event loop busy with HTTP. Requests come from `database-thread.ts`
 * (`database-messages.ts`), numbered, each answered once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { errorData, type FromDatabase, type PostgresThreadOptions, type ToDatabase } from './database-messages.js';
import { pgExecutor } from './pg-executor.js';
import { PgStatements } from './pg-statements.js';
import type { Lane } from './priority-lanes.js';
import { runProcedure } from './procedures.js';

const port = parentPort!;
const options = workerData as PostgresThreadOptions;

function newPool(max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: options.url, max });
  // An idle connection that drops (server restart) must not end the thread.
  pool.on('error', () => {});
  return pool;
}

const engine = newPool(options.poolSize);
/** The API's reads, opened at their first statement: a reader never holds a connection the engine waits for. */
let reads: pg.Pool | null = null;
const poolOf = (lane: Lane): pg.Pool => (lane === 'reads' ? (reads ??= newPool(options.readPoolSize)) : engine);

function answer(id: number, work: Promise<{ rows?: unknown[]; affectedRows?: number; result?: unknown } | void>): void {
  work.then(
    (result) => port.postMessage({ id, ok: true, ...(result ?? {}) } satisfies FromDatabase),
    (error: unknown) => port.postMessage({ id, ok: false, error: errorData(error) } satisfies FromDatabase),
  );
}

const statements = new PgStatements(options.statementCache);

/** A statement of a transaction, on its connection. */
async function query(client: pg.PoolClient, text: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows: number }> {
  const result = await statements.query(client, text, params, false);
  return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
}

/** A statement on its own, on a connection of the pool; one that fails is not given back (as `pool.query` does). */
async function queryOn(pool: pg.Pool, text: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows: number }> {
  const client = await pool.connect();
  try {
    const result = await statements.query(client, text, params, true);
    client.release();
    return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}

/** A transaction between its `begin` and its `end`, by the id of its `begin`. */
interface OpenTransaction {
  /** Its statements in the order they came, after BEGIN; a failed one fails the ones after it. */
  chain: Promise<unknown>;
  /** The connection it holds, once it has one. */
  client: Promise<pg.PoolClient>;
}

const transactions = new Map<number, OpenTransaction>();

/** Takes a connection and runs BEGIN; the transaction's statements may arrive before that is done. */
function begin(id: number, lane: Lane): void {
  const client = poolOf(lane).connect();
  // A BEGIN that fails fails the statements after it; `end` gives the connection back.
  const started = client.then((c) => c.query('BEGIN')).then(() => undefined);
  transactions.set(id, { chain: started, client });
  answer(id, started);
}

/** Runs `work` as the next statement of the open transaction `tx`. */
function inTransaction<T>(tx: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const open = transactions.get(tx);
  if (!open) return Promise.reject(new Error(`no open transaction ${tx}`));
  const next = open.chain.then(() => open.client).then(work);
  open.chain = next;
  return next;
}

/**
 * Commits (or rolls back) once its last statement is done, and gives its connection back.
 * A commit after a failed statement rolls back, as PostgreSQL (and the PGlite thread)
 * does; the failed statement reported its error to its caller.
 */
async function end(tx: number, commit: boolean): Promise<void> {
  const open = transactions.get(tx);
  if (!open) throw new Error(`no open transaction ${tx}`);
  transactions.delete(tx);
  const failed = await open.chain.then(
    () => false,
    () => true,
  );
  let client: pg.PoolClient;
  try {
    client = await open.client;
  } catch {
    return; // it never had a connection: nothing to end (its begin reported why)
  }
  let broken = false;
  try {
    await client.query(commit && !failed ? 'COMMIT' : 'ROLLBACK');
  } catch (error) {
    broken = true;
    try {
      await client.query('ROLLBACK');
      broken = false;
    } catch {
      // the connection is unusable; it is not given back to the pool
    }
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Runs procedure `name` in one transaction on an engine connection; a connection that cannot roll back is dropped. */
async function call(lane: Lane, name: string, args: unknown[]): Promise<{ result: unknown }> {
  const client = await poolOf(lane).connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await runProcedure(pgExecutor(client, statements), name, args);
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

function handle(msg: ToDatabase): void {
  switch (msg.op) {
    case 'query':
      return answer(msg.id, msg.tx !== undefined ? inTransaction(msg.tx, (c) => query(c, msg.text, msg.params)) : queryOn(poolOf(msg.lane), msg.text, msg.params));
    case 'exec': {
      // No parameters: the simple query protocol runs every statement of the script.
      const work = (target: pg.Pool | pg.PoolClient) => target.query(msg.script).then(() => undefined);
      return answer(msg.id, msg.tx !== undefined ? inTransaction(msg.tx, work) : work(poolOf(msg.lane)));
    }
    case 'begin':
      return begin(msg.id, msg.lane);
    case 'end':
      return answer(msg.id, end(msg.tx, msg.commit));
    case 'call':
      return answer(msg.id, call(msg.lane, msg.name, msg.args));
    case 'close':
      return answer(
        msg.id,
        Promise.all([engine.end(), reads?.end()]).then(() => undefined),
      );
  }
}

try {
  // Fail at start on a database that does not answer (a wrong URL, a refused login).
  (await engine.connect()).release();
  port.on('message', handle);
  port.postMessage({ id: 0, ok: true, ready: true } satisfies FromDatabase);
} catch (error) {
  await engine.end().catch(() => {});
  port.postMessage({ id: 0, ok: false, ready: false, error: errorData(error) } satisfies FromDatabase);
}
