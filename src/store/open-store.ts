import type { Store } from './store.js';
import { readLaneOf, type Sql } from './sql.js';
import { openPglite } from './pglite-sql.js';
import { openPostgres } from './pg-sql.js';
import { createPostgresStore } from './postgres-store.js';

export interface OpenStoreOptions {
  /** PostgreSQL URL; when set, used instead of the embedded PGlite database. */
  databaseUrl?: string | null;
  /** Folder of the embedded database (`<dataDir>/pgdata`); in memory when absent. */
  dataDir?: string;
  /** Outcomes a test's flakiness is judged on (`TOPAS_FLAKY_WINDOW`). Default 30. */
  flakyWindow?: number;
  /** Statements each PostgreSQL connection keeps prepared (`TOPAS_DATABASE_STATEMENT_CACHE`). Default 256. */
  statementCache?: number;
}

/** Opens the `Sql` connection the options select: PostgreSQL when a URL is given, else PGlite. */
export function openSql(options: OpenStoreOptions): Promise<Sql> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, { statementCache: options.statementCache }) : openPglite(options.dataDir);
}

/** Opens the store and applies pending migrations. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  return (await openStores(options)).store;
}

/** The store, and the same store for the HTTP API's reads. */
export interface OpenedStores {
  /** The engine's (and everything else's); closing it closes both. */
  store: Store;
  /** Its statements never hold up the engine's (`Sql.readLane`); closing it closes nothing. */
  reads: Store;
}

/** Opens the store with its read view and applies pending migrations. */
export async function openStores(options: OpenStoreOptions): Promise<OpenedStores> {
  const sql = await openSql(options);
  const store = createPostgresStore(sql, { flakyWindow: options.flakyWindow });
  try {
    await store.migrate();
  } catch (error) {
    await sql.close().catch(() => {});
    throw error;
  }
  return { store, reads: createPostgresStore(readLaneOf(sql), { flakyWindow: options.flakyWindow }) };
}
