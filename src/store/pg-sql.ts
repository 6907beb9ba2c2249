import { DatabaseThread, ThreadSql } from './database-thread.js';
import type { PostgresThreadOptions } from './database-messages.js';
import type { Sql } from './sql.js';
import { DEFAULT_STATEMENT_CACHE } from './pg-statements.js';
import { TopasError } from '../core/errors.js';

/** PostgreSQL did not answer at start: a wrong `DATABASE_URL`, a refused login, a server that is down. */
export class DatabaseUnavailableError extends TopasError {
  constructor(url: string, cause: unknown) {
    super(
      'DatabaseUnavailable',
      `cannot open PostgreSQL at ${redacted(url)}: ${cause instanceof Error ? cause.message : String(cause)}; check DATABASE_URL (postgres://user:password@host:5432/database) and that the server answers`,
      { code: (cause as { code?: unknown })?.code ?? null },
    );
  }
}

/** The URL without its password, to be shown. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Connections kept open to PostgreSQL by one topas process for the engine (and everything but API reads). */
const POOL_SIZE = 10;
/**
 * Connections of the API's reads (`readLane()`), apart from the engine's: a reader
 * never holds a connection the engine waits for, and at most this many reads run
 * at once (the others wait their turn in the pool's queue).
 */
const READ_POOL_SIZE = 8;

/**
 * PostgreSQL, reached through a thread of this process (`pg-worker.ts`) that holds the
 * connections: the server's thread sends it requests and never touches PostgreSQL's
 * sockets; the store's transaction bodies (`procedures.ts`) run there whole. Rejects
 * when the database does not answer (a wrong URL, a refused login), at once.
 */
export async function openPostgres(url: string, settings: { statementCache?: number } = {}): Promise<Sql> {
  const options: PostgresThreadOptions = { url, poolSize: POOL_SIZE, readPoolSize: READ_POOL_SIZE, statementCache: settings.statementCache ?? DEFAULT_STATEMENT_CACHE };
  let thread: DatabaseThread;
  try {
    thread = await DatabaseThread.start(import.meta.url, 'pg-worker', options, 'the connection to PostgreSQL');
  } catch (error) {
    throw new DatabaseUnavailableError(url, error);
  }
  return new ThreadSql(thread, 'engine', 'postgres');
}
