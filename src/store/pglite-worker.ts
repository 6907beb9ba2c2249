/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly)
 * executes every statement synchronously on the thread that calls it, so here it
 * holds up this thread and not the server's, where HTTP requests are accepted and
 * parsed and the engine dispatches runs. Requests come from `pglite-sql.ts` over the
 * worker's port (`database-messages.ts`); the engine's go before the API's reads
 * (`priority-lanes.ts`).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { errorData, type PgliteThreadOptions, type FromDatabase, type ToDatabase } from './database-messages.js';
import { PENDING_SQL, startCheckpointer } from './pglite-checkpointer.js';
import { PreparedStatements } from './pglite-statements.js';
import { runProcedure } from './procedures.js';
import type { SqlExecutor } from './sql.js';
import { PriorityLanes, type Lane } from './priority-lanes.js';

const port = parentPort!;
const options = workerData as PgliteThreadOptions;
let database: PGlite | null = null;
let statements: PreparedStatements | null = null;
let checkpointer: ReturnType<typeof startCheckpointer> | null = null;
/** Before each pick, the requests that arrived meanwhile join their lanes. */
const lanes = new PriorityLanes(() => {
  if (!database) return;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) handle(database, m.message as ToDatabase);
});

/** A transaction between its `begin` and its `end`, by the id of its `begin`. */
interface OpenTransaction {
  /**
   * Its statements in the order they came, after BEGIN: a statement runs once the one
   * before it is done, so a client may send them all without waiting for answers. A
   * failed statement fails the ones after it (PostgreSQL would refuse them too).
   */
  chain: Promise<unknown>;
  /** Ends it, committing (true) or rolling back, once the last statement is done. */
  end: (commit: boolean) => void;
  /** When it has committed or rolled back, and the next queued work may run. */
  ended: Promise<void>;
}

const transactions = new Map<number, OpenTransaction>();

function answer(id: number, work: Promise<{ rows?: unknown[]; affectedRows?: number; result?: unknown } | void>): void {
  work.then(
    (result) => port.postMessage({ id, ok: true, ...(result ?? {}) } satisfies FromDatabase),
    (error: unknown) => port.postMessage({ id, ok: false, error: errorData(error) } satisfies FromDatabase),
  );
}

/** Runs `work` as the next statement of the open transaction `tx`. */
function inTransaction<T>(tx: number, work: () => Promise<T>): Promise<T> {
  const open = transactions.get(tx);
  if (!open) return Promise.reject(new Error(`no open transaction ${tx}`));
  const next = open.chain.then(work);
  open.chain = next;
  return next;
}

/**
 * Queues a transaction in its lane; once it holds the database it runs BEGIN, then its
 * statements as they come, until its `end`. Its statements may come before it begins.
 */
function begin(db: PGlite, id: number, lane: Lane): void {
  let begun!: () => void;
  let notBegun!: (error: unknown) => void;
  const started = new Promise<void>((resolve, reject) => {
    begun = resolve;
    notBegun = reject;
  });
  let end!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => (end = resolve));
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const ended = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ended.catch(() => undefined); // reported by `end`
  // Known before it is queued: queueing may take the requests that follow (its statements, its end).
  transactions.set(id, { chain: started, end, ended });
  lanes.run(lane, async () => {
    try {
      await db.exec('BEGIN');
    } catch (error) {
      notBegun(error);
      throw error;
    }
    begun();
    await db.exec((await decided) ? 'COMMIT' : 'ROLLBACK');
  }).then(settle.resolve, settle.reject);
  answer(id, started);
}

function handle(db: PGlite, msg: ToDatabase): void {
  const run = statements!;
  switch (msg.op) {
    case 'query': {
      const work = () => run.query(msg.text, msg.params);
      answer(msg.id, msg.tx !== undefined ? inTransaction(msg.tx, work) : lanes.run(msg.lane, work));
      return;
    }
    case 'exec': {
      const work = () => db.exec(msg.script).then(() => undefined);
      answer(msg.id, msg.tx !== undefined ? inTransaction(msg.tx, work) : lanes.run(msg.lane, work));
      return;
    }
    case 'begin':
      begin(db, msg.id, msg.lane);
      return;
    case 'call': {
      const tx: SqlExecutor = { query: (text, params) => run.query(text, params) as never, exec: (script) => db.exec(script).then(() => undefined) };
      answer(
        msg.id,
        lanes.run(msg.lane, async () => {
          await db.exec('BEGIN');
          try {
            const result = await runProcedure(tx, msg.name, msg.args);
            await db.exec('COMMIT');
            return { result };
          } catch (error) {
            await db.exec('ROLLBACK');
            throw error;
          }
        }),
      );
      return;
    }
    case 'end': {
      const open = transactions.get(msg.tx);
      if (!open) return answer(msg.id, Promise.reject(new Error(`no open transaction ${msg.tx}`)));
      transactions.delete(msg.tx);
      // After its last statement (failed or not): a commit after a failure rolls back, as in PostgreSQL.
      void open.chain.then(
        () => open.end(msg.commit),
        () => open.end(false),
      );
      answer(msg.id, open.ended);
      return;
    }
    case 'close':
      answer(
        msg.id,
        lanes.run('engine', async () => {
          checkpointer?.stop();
          if (!db.closed) await db.close();
        }),
      );
      return;
  }
}

try {
  const db = await PGlite.create({ ...(options.path ? { dataDir: options.path } : {}), extensions: { pg_trgm } });
  database = db;
  statements = new PreparedStatements(db);
  // In the reads' lane, behind the engine's work: a checkpoint writes out every dirty
  // page at once. One that fails (a full disk) is tried at the next look, and the
  // statements meanwhile report the cause.
  checkpointer = startCheckpointer(
    {
      pending: () =>
        lanes.run('reads', async () => {
          const row = (await db.query<{ wal_bytes: number; since_record: number; age_seconds: number }>(PENDING_SQL)).rows[0]!;
          return { walBytes: row.wal_bytes, sinceRecord: row.since_record, ageSeconds: row.age_seconds };
        }),
      checkpoint: () => lanes.run('reads', () => db.exec('CHECKPOINT').then(() => undefined)),
    },
    options.checkpoint,
  );
  port.on('message', (msg: ToDatabase) => handle(db, msg));
  port.postMessage({ id: 0, ok: true, ready: true } satisfies FromDatabase);
} catch (error) {
  port.postMessage({ id: 0, ok: false, ready: false, error: errorData(error) } satisfies FromDatabase);
}
