/**
 * The server's end of a database thread: a worker thread that talks to the database for
 * this process (PGlite's `pglite-worker.ts`, PostgreSQL's `pg-procedure-worker.ts`), so
 * the work it does between statements never waits for the server's busy event loop.
 * Requests are numbered and each is answered once (`database-messages.ts`).
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.js';
import type { ErrorData, FromDatabase, ToDatabase } from './database-messages.js';
import type { SqlResult } from './sql.js';

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
export type Answer = Exclude<Extract<FromDatabase, { ok: true }>, { ready: true }>;

/** A request before it is numbered. */
type Request = ToDatabase extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

interface Pending {
  resolve: (message: Answer) => void;
  reject: (error: Error) => void;
}

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
export function rowsOf<T>(answer: Answer): SqlResult<T> {
  const a = answer as { rows?: T[]; affectedRows?: number };
  return { rows: a.rows ?? [], affectedRows: a.affectedRows ?? 0 };
}
