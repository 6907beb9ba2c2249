/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly)
 * executes every statement synchronously on the thread that calls it, so here it
 * holds up this thread and not the server's, where HTTP requests are accepted and
 * parsed and the engine dispatches runs. Requests come from `pglite-sql.ts` over the
 * worker's port (`pglite-messages.ts`); the engine's go before the API's reads
 * (`priority-lanes.ts`).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { errorData, type DatabaseThreadOptions, type FromDatabase, type ToDatabase } from './pglite-messages.js';
import { PreparedStatements } from './pglite-statements.js';
import { PriorityLanes, type Lane } from './priority-lanes.js';

const port = parentPort!;
const options = workerData as DatabaseThreadOptions;
let database: PGlite | null = null;
let statements: PreparedStatements | null = null;
/** Before each pick, the requests that arrived meanwhile join their lanes. */
const lanes = new PriorityLanes(() => {
  if (!database) return;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) handle(database, m.message as ToDatabase);
});

/** Open transactions (by the id of their `begin`): each ends by committing (true) or rolling back. */
const open = new Map<number, (commit: boolean) => void>();
/** When each begun transaction has committed or rolled back (and the next work may run). */
const endings = new Map<number, Promise<void>>();

function answer(id: number, work: Promise<{ rows?: unknown[]; affectedRows?: number } | void>): void {
  work.then(
    (result) => port.postMessage({ id, ok: true, ...(result ?? {}) } satisfies FromDatabase),
    (error: unknown) => port.postMessage({ id, ok: false, error: errorData(error) } satisfies FromDatabase),
  );
}

/** Runs `work` for a statement of the open transaction `tx` (at once: it holds the database). */
function inTransaction<T>(tx: number, work: () => Promise<T>): Promise<T> {
  if (!open.has(tx)) return Promise.reject(new Error(`no open transaction ${tx}`));
  return work();
}

function begin(db: PGlite, id: number, lane: Lane): void {
  let begun = false;
  const ended = lanes
    .run(lane, async () => {
      await db.exec('BEGIN');
      begun = true;
      const commit = await new Promise<boolean>((resolve) => {
        open.set(id, resolve);
        port.postMessage({ id, ok: true } satisfies FromDatabase);
      });
      await db.exec(commit ? 'COMMIT' : 'ROLLBACK');
    })
    .catch((error: unknown) => {
      if (begun) throw error;
      port.postMessage({ id, ok: false, error: errorData(error) } satisfies FromDatabase);
    })
    .finally(() => endings.delete(id));
  endings.set(id, ended);
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
    case 'end': {
      const end = open.get(msg.tx);
      if (!end) return answer(msg.id, Promise.reject(new Error(`no open transaction ${msg.tx}`)));
      open.delete(msg.tx);
      const ended = endings.get(msg.tx) ?? Promise.resolve();
      end(msg.commit);
      answer(msg.id, ended);
      return;
    }
    case 'close':
      answer(
        msg.id,
        lanes.run('engine', async () => {
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
  port.on('message', (msg: ToDatabase) => handle(db, msg));
  port.postMessage({ id: 0, ok: true, ready: true } satisfies FromDatabase);
} catch (error) {
  port.postMessage({ id: 0, ok: false, ready: false, error: errorData(error) } satisfies FromDatabase);
}
