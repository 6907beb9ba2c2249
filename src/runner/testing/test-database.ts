/**
 * A PostgreSQL database for tests: a fresh database on the server of TEST_DATABASE_URL
 * (dropped afterwards), or, when that is not set, PGlite served over the wire protocol
 * by @electric-sql/pglite-socket on 127.0.0.1 (in process; PGlite runs one session, so
 * statements of concurrent connections are queued, and it cannot cancel a statement).
 */
import pg from 'pg';

export interface TestDatabase {
  /** postgres://user:password@127.0.0.1:port/db */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  db: string;
  /** True for a real PostgreSQL server (false: PGlite). */
  real: boolean;
  /** Runs setup SQL (several statements allowed) on the test database. */
  exec(sql: string): Promise<void>;
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export async function startTestDatabase(prefix: string): Promise<TestDatabase> {
  const admin = process.env.TEST_DATABASE_URL;
  if (admin) return realDatabase(admin, prefix);
  return pgliteDatabase();
}

async function realDatabase(adminUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  return {
    url: u.toString(),
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    db: name,
    real: true,
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async (sql, params) => (await client.query(sql, params)).rows,
    close: async () => {
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function pgliteDatabase(): Promise<TestDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    url: `postgres://postgres:pglite-pw@127.0.0.1:${port}/postgres`, // PGlite takes any password; one that is not a word of the URL, so masking it hides only it
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'pglite-pw',
    db: 'postgres',
    real: false,
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async (sql, params) => (await db.query(sql, params)).rows as never,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
