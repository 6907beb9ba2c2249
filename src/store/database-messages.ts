/**
 * What the server's main thread and a database thread (`database-thread.ts`: PGlite's
 * `pglite-worker.ts`, PostgreSQL's `pg-worker.ts`) say to each other. Every
 * request carries an `id` answered exactly once. A transaction is interactive and
 * pipelined: `begin` queues it in its lane like any statement (and is
 * answered once it holds the database); the statements that name it (`tx`, the id of
 * its `begin`) may be sent at once, before it begins: they run in the order they came;
 * `end` commits or rolls it back after the last of them and lets the next queued work run.
 */
import type { CheckpointPolicy } from './pglite-checkpointer.js';
import type { Lane } from './priority-lanes.js';

export type ToDatabase =
  | { op: 'query'; id: number; lane: Lane; tx?: number; text: string; params?: unknown[] }
  | { op: 'exec'; id: number; lane: Lane; tx?: number; script: string }
  | { op: 'begin'; id: number; lane: Lane }
  /** A transaction body of `procedures.ts`, run whole on the database's thread. */
  | { op: 'call'; id: number; lane: Lane; name: string; args: unknown[] }
  | { op: 'end'; id: number; tx: number; commit: boolean }
  | { op: 'close'; id: number };

/** A database error as data (its class does not cross threads): message, name and PostgreSQL's fields (`code`, `constraint`, `detail`, ...). */
export interface ErrorData {
  message: string;
  name: string;
  fields: Record<string, string | number | boolean>;
}

export type FromDatabase =
  | { id: number; ok: true; rows?: unknown[]; affectedRows?: number; result?: unknown }
  | { id: number; ok: false; error: ErrorData }
  /** Sent once, when the database is open (or could not be opened). */
  | { id: 0; ok: true; ready: true }
  | { id: 0; ok: false; error: ErrorData; ready: false };

/** Options the PGlite thread starts with (`workerData`). */
export interface PgliteThreadOptions {
  /** `<dataDir>/pgdata`; in memory when absent. */
  path?: string;
  /** When the thread checkpoints (`pglite-checkpointer.ts`); PostgreSQL-like defaults. */
  checkpoint?: CheckpointPolicy;
}

/** Options PostgreSQL's thread (`pg-worker.ts`) starts with (`workerData`). */
export interface PostgresThreadOptions {
  /** The database's URL (`DATABASE_URL`). */
  url: string;
  /** Connections of the engine's lane (and everything but the API's reads). */
  poolSize: number;
  /** Connections of the API's reads (`readLane()`), opened at their first read. */
  readPoolSize: number;
  /** Statements each connection keeps prepared (`pg-statements.ts`); 0: none. */
  statementCache: number;
}

/** An error's message, name and own plain fields, to be rebuilt on the other side. */
export function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) return { message: String(error), name: 'Error', fields: {} };
  const fields: ErrorData['fields'] = {};
  for (const [k, v] of Object.entries(error)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  return { message: error.message, name: error.name, fields };
}
