/**
 * The server's end of a database thread: a worker thread that talks to the database for
 * this process (PGlite's `pglite-worker.ts`, PostgreSQL's `pg-worker.ts`), so the
 * database's work never waits for the server's busy event loop, nor holds it up.
 * Requests are numbered and each is answered once (`database-messages.ts`).
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.js';
import type { ErrorData, FromDatabase, ToDatabase } from './database-messages.js';
import type { Lane } from './priority-lanes.js';
import type { Sql, SqlExecutor, SqlResult } from './sql.js';

/** A database error from a database thread, with PostgreSQL's fields (`code`, `constraint`, `detail`, ...) as the original had them. */
export class DatabaseThreadError extends Error {
  [field: string]: unknown;
  constructor(data: ErrorData) {
    super(data.message);
    Object.assign(this, data.fields);
    this.name = data.name;
  }
}

/** A request's answer. */
type Answer = Exclude<Extract<FromDatabase, { ok: true }>, { ready: true }>;

/** A request before it is numbered. */
type Request = ToDatabase extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

interface Pending {
  resolve: (message: Answer) => void;
  reject: (error: Error) => void;
}

/** The server's end of one database thread: numbered requests, each answered once; every waiting request fails when the thread is gone. */
export class DatabaseThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the thread is gone (it exited, or was closed); requests fail at once after that. */
  private gone: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly what: string,
  ) {
    worker.on('message', (msg: FromDatabase) => {
      if (msg.id === 0) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this.idle();
      if (msg.ok) p.resolve(msg);
      else p.reject(new DatabaseThreadError(msg.error));
    });
    worker.on('error', (error) => this.stop(new Error(`${what} stopped: ${error.message}`)));
    worker.on('exit', (code) => this.stop(new Error(`${what} stopped (its thread exited with code ${code})`)));
  }

  /**
   * Starts the worker module `name` beside `importMetaUrl` with `workerData`; resolves once
   * it says its database is open, rejects with why it could not open. `what` names it in
   * errors ("the embedded database").
   */
  static start(importMetaUrl: string, name: string, workerData: unknown, what: string): Promise<DatabaseThread> {
    const worker = startModuleWorker(importMetaUrl, name, { workerData });
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`${what} could not start (its thread exited with code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (msg: FromDatabase) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (msg.ok) {
          const thread = new DatabaseThread(worker, what);
          thread.idle();
          resolve(thread);
        } else {
          void worker.terminate();
          reject(new DatabaseThreadError(msg.error));
        }
      });
    });
  }

  /** Sends one request; resolves with its answer. */
  request(message: Request): Promise<Answer> {
    return this.send(message).answer;
  }

  /** Sends one request: its id (a `begin`'s names the transaction) and its answer. */
  send(message: Request): { id: number; answer: Promise<Answer> } {
    const id = this.nextId++;
    if (this.gone) return { id, answer: Promise.reject(this.gone) };
    const answer = new Promise<Answer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Waiting for an answer keeps the process alive; an idle database does not.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...message, id } as ToDatabase);
    });
    return { id, answer };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.gone) await this.request({ op: 'close' }).catch(() => {});
      this.stop(new Error(`${this.what} is closed`));
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private idle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  private stop(reason: Error): void {
    this.gone ??= reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
  }
}

/** A statement's answer as the `Sql` interface gives it. */
function rowsOf<T>(answer: Answer): SqlResult<T> {
  const a = answer as { rows?: T[]; affectedRows?: number };
  return { rows: a.rows ?? [], affectedRows: a.affectedRows ?? 0 };
}

/**
 * A database reached through its thread: statements, transactions and procedures go as
 * requests to the thread, whose answers come back here. `lane` is whose work this is
 * (the engine's, or the API's reads: `readLane()`).
 */
export class ThreadSql implements Sql {
  constructor(
    private readonly thread: DatabaseThread,
    private readonly lane: Lane,
    readonly dialect: 'pglite' | 'postgres',
  ) {}

  async query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
    return rowsOf<T>(await this.thread.request({ op: 'query', lane: this.lane, text, params }));
  }

  async exec(script: string): Promise<void> {
    await this.thread.request({ op: 'exec', lane: this.lane, script });
  }

  /**
   * Statements are sent as they are issued, without waiting for the transaction to hold
   * the database or for the statement before to be answered: the database's thread runs
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
    return this.lane === 'reads' ? this : new ThreadSql(this.thread, 'reads', this.dialect);
  }

  async close(): Promise<void> {
    if (this.lane === 'reads') return;
    await this.thread.close();
  }
}
