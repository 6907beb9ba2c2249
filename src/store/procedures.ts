/**
 * Transaction bodies the store runs by name, so that each runs where the database is:
 * on PGlite, whole on the database's own thread (`pglite-worker.ts`) — no exchange with
 * the server's thread between its statements, so the database never waits, held by a
 * transaction, for a busy event loop; on PostgreSQL, whole on its procedure thread
 * (`pg-worker.ts`), for the same reason: each statement is a round trip.
 * Arguments and results are plain data (they cross threads); an error keeps its
 * message and PostgreSQL's fields (`code`, `constraint`, ...) but not its class, so
 * the store checks what it throws as typed errors before it calls.
 */
import type { Sql, SqlExecutor } from './sql.js';
import { finishRunsWith, writeEventsWith } from './run-events-sql.js';
import { claimEmbeddedWith, claimSharedWith, insertStartingSharedWith } from './run-queue-sql.js';

export const PROCEDURES = {
  writeEvents: writeEventsWith,
  finishRuns: finishRunsWith,
  claimEmbedded: claimEmbeddedWith,
  claimShared: claimSharedWith,
  insertStartingShared: insertStartingSharedWith,
} satisfies Record<string, (tx: SqlExecutor, ...args: never[]) => Promise<unknown>>;

export type ProcedureName = keyof typeof PROCEDURES;

type Args<F> = F extends (tx: SqlExecutor, ...args: infer A) => Promise<unknown> ? A : never;
type Result<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;

/** Runs the procedure `name` in one transaction: on the database's thread when `sql` has one. */
export function callProcedure<N extends ProcedureName>(sql: Sql, name: N, ...args: Args<(typeof PROCEDURES)[N]>): Promise<Result<(typeof PROCEDURES)[N]>> {
  if (sql.call) return sql.call(name, args) as Promise<Result<(typeof PROCEDURES)[N]>>;
  const body = PROCEDURES[name] as (tx: SqlExecutor, ...a: unknown[]) => Promise<Result<(typeof PROCEDURES)[N]>>;
  return sql.transaction((tx) => body(tx, ...args));
}

/** Runs the procedure `name` on `tx`, inside a transaction the caller holds (the database's thread). */
export function runProcedure(tx: SqlExecutor, name: string, args: unknown[]): Promise<unknown> {
  if (!Object.hasOwn(PROCEDURES, name)) return Promise.reject(new Error(`no procedure ${JSON.stringify(name)}`));
  return (PROCEDURES[name as ProcedureName] as (tx: SqlExecutor, ...a: unknown[]) => Promise<unknown>)(tx, ...args);
}
