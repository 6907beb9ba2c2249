/**
 * The JS half of `require("db")`: SQL connections of one run. A small driver interface
 * (`DbDriver` / `DbConnection`) keeps PostgreSQL (via `pg`) replaceable; MySQL can be
 * added as another driver. Every connection belongs to its run: when the run is stopped
 * (cancel, timeout) in-flight queries are cancelled on the server and the connections
 * closed; when the run ends, whatever the script left open is closed.
 *
 * Values cross to Lua as JSON text (decoded there with `json.decode`, so SQL NULL is
 * `json.null`). Type mapping (PostgreSQL): smallint/integer/real/double → numbers;
 * bigint → a number when it fits 2^53, else a string; numeric/decimal → strings (exact);
 * boolean → boolean; json/jsonb → tables; dates, times, timestamps, bytea, uuid and the
 * rest → the text PostgreSQL prints.
 */
import type pg from 'pg';
import type { RunContext } from './run-context.js';
import { SOCKET_ERRORS } from './network-errors.js';
import { guardedSocket } from './egress.js';
import { OPEN_EGRESS, type EgressPolicy } from './egress-policy.js';

/** Where to connect (already parsed; `url` wins when given). */
export interface DbTarget {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  db?: string;
  /** Connect timeout in ms. */
  timeout: number;
}

export interface DbResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** One open connection of some database. */
export interface DbConnection {
  /** `host:port/db`, for messages. */
  readonly label: string;
  query(sql: string, params: unknown[]): Promise<DbResult>;
  /** A safely quoted identifier; `schema.table` quotes each part. */
  quoteIdent(name: string): string;
  /** The i-th (1-based) bind parameter placeholder. */
  placeholder(i: number): string;
  /** Asks the server to cancel the running statement (best effort, fire and forget). */
  cancel(): void;
  close(): Promise<void>;
}

export interface DbDriver {
  readonly name: string;
  /** Connects; every socket passes `egress` (null: the run's own App database, always allowed). */
  connect(target: DbTarget, egress: EgressPolicy | null): Promise<DbConnection>;
}

// ---------------------------------------------------------------- PostgreSQL

type Pg = typeof pg;
let pgModule: Promise<{ pg: Pg; types: pg.CustomTypesConfig }> | null = null;

/** `pg` is loaded on the first db.connect of a worker (not at worker start), with our type parsers. */
function loadPg(): Promise<{ pg: Pg; types: pg.CustomTypesConfig }> {
  pgModule ??= import('pg').then((m) => {
    const lib = ((m as unknown as { default?: Pg }).default ?? m) as Pg;
    const B = lib.types.builtins;
    const raw = (v: string) => v;
    const exactOrText = new Set<number>([B.NUMERIC, B.DATE, B.TIME, B.TIMETZ, B.TIMESTAMP, B.TIMESTAMPTZ, B.INTERVAL, B.BYTEA]);
    // exact where JS numbers are not, text where Date objects or Buffers would lose detail
    const types = {
      getTypeParser(oid: number, format?: 'text' | 'binary') {
        if (oid === B.INT8) {
          return (v: string) => {
            const n = Number(v);
            return Number.isSafeInteger(n) ? n : v;
          };
        }
        if (exactOrText.has(oid)) return raw;
        return lib.types.getTypeParser(oid, format ?? 'text');
      },
    } as pg.CustomTypesConfig;
    return { pg: lib, types };
  });
  return pgModule;
}

class PgConnection implements DbConnection {
  readonly label: string;
  private ended = false;

  constructor(
    private readonly client: pg.Client,
    private readonly host: string,
    private readonly port: number,
    database: string,
    private readonly egress: EgressPolicy,
  ) {
    this.label = `${host}:${port}/${database}`;
    // a connection error between queries (server gone) must not crash the worker
    client.on('error', () => {
      this.ended = true;
    });
  }

  async query(sql: string, params: unknown[]): Promise<DbResult> {
    const r: pg.QueryResult | pg.QueryResult[] = await this.client.query(sql, params);
    // a multi-statement text (no params) returns one result per statement: use the last
    const last = Array.isArray(r) ? r[r.length - 1] : r;
    return { rows: (last?.rows ?? []) as Record<string, unknown>[], rowCount: last?.rowCount ?? 0 };
  }

  quoteIdent(name: string): string {
    return name
      .split('.')
      .map((part) => `"${part.replace(/"/g, '""')}"`)
      .join('.');
  }

  placeholder(i: number): string {
    return `$${i}`;
  }

  cancel(): void {
    const { processID, secretKey } = this.client as unknown as { processID: number | null; secretKey: number | null };
    if (this.ended || processID == null || secretKey == null) return;
    // the protocol's CancelRequest, on a connection of its own
    const socket = guardedSocket(this.egress);
    socket.connect(this.port, this.host, () => {
      const msg = Buffer.alloc(16);
      msg.writeInt32BE(16, 0);
      msg.writeInt32BE(80877102, 4);
      msg.writeInt32BE(processID, 8);
      msg.writeInt32BE(secretKey, 12);
      socket.end(msg);
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(2000, () => socket.destroy());
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await Promise.race([this.client.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}

/** Connection-string parameters that name files (pg reads them from the server's disk). */
const FILE_PARAMETERS = ['sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslpassword', 'passfile', 'service', 'servicefile'];

/**
 * What a script may not ask the driver for: files of the server (certificate and key
 * paths in the URL) and Unix sockets (a host that is a path). Null when fine.
 */
export function pgTargetRefusal(target: DbTarget): string | null {
  const socket = (host: string | undefined | null) => (host && (host.startsWith('/') || host.startsWith('@')) ? host : null);
  if (target.url) {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      return null; // the driver says what is wrong with it
    }
    for (const name of FILE_PARAMETERS) {
      if (url.searchParams.has(name)) {
        return `the URL parameter ${name} names a file on the topas server, which tests cannot read; use sslmode (e.g. sslmode=require) without certificate files`;
      }
    }
    const host = socket(decodeURIComponent(url.hostname)) ?? socket(url.searchParams.get('host'));
    if (host) return `${host} is a Unix socket (tests connect over the network only)`;
    return null;
  }
  const host = socket(target.host);
  return host ? `${host} is a Unix socket (tests connect over the network only)` : null;
}

function urlPassword(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.password) || (u.searchParams.get('password') ?? '');
  } catch {
    return '';
  }
}

export const postgresDriver: DbDriver = {
  name: 'postgres',
  async connect(target: DbTarget, egress: EgressPolicy | null): Promise<DbConnection> {
    const refused = pgTargetRefusal(target);
    if (refused) throw new Error(refused);
    const config: pg.ClientConfig = target.url
      ? { connectionString: target.url }
      : { host: target.host, port: target.port, user: target.user, password: target.password, database: target.db };
    const { pg: lib, types } = await loadPg();
    const policy = egress ?? OPEN_EGRESS;
    const client = new lib.Client({
      ...config,
      types,
      connectionTimeoutMillis: target.timeout,
      // the run's own App database is always allowed; anything else passes the egress policy at connect time
      ...(egress ? { stream: () => guardedSocket(egress) } : {}),
    });
    // Only the script's password (pg would fall back to the server's PGPASSWORD or ~/.pgpass
    // and send it on the script's behalf); a function is what pg asks when the server wants one.
    const own = target.url ? urlPassword(target.url) : (target.password ?? '');
    (client as unknown as { password: () => Promise<string> }).password = async () => own;
    await client.connect();
    const c = client as unknown as { host: string; port: number; database: string };
    return new PgConnection(client, c.host, c.port, c.database, policy);
  },
};

const DRIVERS: Record<string, DbDriver> = { postgres: postgresDriver, postgresql: postgresDriver };

// ---------------------------------------------------------------- per-run state

interface DbState {
  next: number;
  conns: Map<number, DbConnection>;
  /** Connections still being opened (closed as soon as they open if the run ended). */
  pending: Set<Promise<unknown>>;
}

const states = new WeakMap<RunContext, DbState>();

function stateOf(ctx: RunContext): DbState {
  let s = states.get(ctx);
  if (!s) {
    const state: DbState = { next: 1, conns: new Map(), pending: new Set() };
    s = state;
    states.set(ctx, s);
    // stop (cancel/timeout) and the end of the run both abort: cancel and close everything
    ctx.abort.signal.addEventListener(
      'abort',
      () => {
        for (const conn of state.conns.values()) {
          conn.cancel();
          void conn.close();
        }
        state.conns.clear();
      },
      { once: true },
    );
  }
  return s;
}

type Fail = { ok: false; error: string } | { ok: false; stopped: true; error: string };

const STOPPED: Fail = { ok: false, stopped: true, error: 'stopped' };

/** Races p against the run's stop; `onStop` cancels what p is doing. */
async function untilStopped<T>(ctx: RunContext, p: Promise<T>): Promise<{ value: T } | 'stopped'> {
  const signal = ctx.abort.signal;
  if (signal.aborted) return 'stopped';
  let onAbort: () => void = () => {};
  const stopped = new Promise<'stopped'>((resolve) => {
    onAbort = () => resolve('stopped');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p.then((value) => ({ value })), stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  if (e?.code && SOCKET_ERRORS[e.code]) return SOCKET_ERRORS[e.code];
  if (Array.isArray(e?.errors) && e.errors.length) return describe(e.errors[0]);
  if (e?.message) return e.message === 'Connection terminated due to connection timeout' ? 'connection timed out' : e.message;
  return String(err);
}

function parse(json: string): unknown {
  return JSON.parse(json);
}

/** A value bound as a parameter: tables (objects/arrays) go as JSON text. */
function bindable(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
}

function rowsJson(rows: Record<string, unknown>[]): string {
  return JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function render(v: unknown): string {
  return v === null ? 'null' : JSON.stringify(v);
}

// ---------------------------------------------------------------- host functions

/**
 * A database of the run's App (`host = "mock-app-db"`) is reached where it answers
 * here; what the script leaves out (user, password, db) comes from the App's credentials.
 */
function toAppDatabase(ctx: RunContext, spec: DbTarget): DbTarget & { app?: true } {
  if (spec.url) {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      return spec;
    }
    const to = ctx.resolve(url.hostname, url.port ? Number(url.port) : 5432);
    if (!to) return spec;
    const creds = ctx.appEntry(url.hostname)?.credentials;
    url.hostname = to.host;
    url.port = String(to.port);
    const app = true as const;
    if (creds) {
      if (!url.username) url.username = encodeURIComponent(creds.user);
      if (!url.password && url.username === encodeURIComponent(creds.user) && creds.password) url.password = encodeURIComponent(creds.password);
      if (url.pathname === '' || url.pathname === '/') url.pathname = `/${encodeURIComponent(creds.dbname)}`;
    }
    return { ...spec, url: url.toString(), app };
  }
  if (!spec.host) return spec;
  const to = ctx.resolve(spec.host, spec.port ?? 5432);
  if (!to) return spec;
  const creds = ctx.appEntry(spec.host)?.credentials;
  const user = spec.user ?? creds?.user;
  return {
    ...spec,
    app: true,
    host: to.host,
    port: to.port,
    user,
    password: spec.password ?? (creds && user === creds.user ? creds.password : undefined),
    db: spec.db ?? creds?.dbname,
  };
}

export function createDbHost(ctx: () => RunContext) {
  const conn = (id: number): DbConnection | Fail => {
    const c = stateOf(ctx()).conns.get(id);
    return c ?? { ok: false, error: 'the connection is closed' };
  };
  const isFail = (c: DbConnection | Fail): c is Fail => 'ok' in c;

  return {
    /** spec: JSON `{ driver, url } | { driver, host, port, user, password, db, timeout }`. */
    db_connect: async (specJson: string): Promise<{ ok: true; id: number; label: string } | Fail> => {
      const c = ctx();
      const state = stateOf(c);
      const spec = parse(specJson) as DbTarget & { driver?: string };
      let driverName = spec.driver ?? 'postgres';
      if (spec.url) {
        const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec.url);
        if (!m) return { ok: false, error: 'invalid URL (expected e.g. "postgres://user:password@host:5432/db")' };
        driverName = m[1].toLowerCase();
      }
      const driver = DRIVERS[driverName];
      if (!driver) return { ok: false, error: `unsupported database "${driverName}" (supported: postgres)` };
      const target = toAppDatabase(c, spec);
      const opening = driver.connect(target, target.app ? null : c.egress);
      state.pending.add(opening);
      try {
        const r = await untilStopped(c, opening);
        if (r === 'stopped') {
          opening.then((x) => x.close(), () => {});
          return STOPPED;
        }
        const id = state.next++;
        state.conns.set(id, r.value);
        return { ok: true, id, label: r.value.label };
      } catch (err) {
        return { ok: false, error: describe(err) };
      } finally {
        state.pending.delete(opening);
      }
    },

    /** Runs one statement; `rows` is the rows as JSON text. */
    db_query: async (id: number, sql: string, paramsJson: string): Promise<{ ok: true; rows: string; count: number } | Fail> => {
      const c = conn(id);
      if (isFail(c)) return c;
      const params = (parse(paramsJson) as unknown[]).map(bindable);
      try {
        const r = await untilStopped(ctx(), c.query(sql, params));
        if (r === 'stopped') return STOPPED;
        return { ok: true, rows: rowsJson(r.value.rows), count: r.value.rowCount };
      } catch (err) {
        if (ctx().abort.signal.aborted) return STOPPED;
        return { ok: false, error: describe(err) };
      }
    },

    /** Inserts all rows (a JSON list of objects) in one transaction with bound parameters. */
    db_seed: async (id: number, table: string, rowsJsonText: string): Promise<{ ok: true; count: number } | Fail> => {
      const c = conn(id);
      if (isFail(c)) return c;
      const rows = parse(rowsJsonText) as Record<string, unknown>[];
      const work = async (): Promise<number> => {
        await c.query('BEGIN', []);
        try {
          let count = 0;
          for (let i = 0; i < rows.length; i++) {
            const cols = Object.keys(rows[i]).sort();
            const sql = cols.length
              ? `INSERT INTO ${c.quoteIdent(table)} (${cols.map((k) => c.quoteIdent(k)).join(', ')}) VALUES (${cols.map((_, j) => c.placeholder(j + 1)).join(', ')})`
              : `INSERT INTO ${c.quoteIdent(table)} DEFAULT VALUES`;
            try {
              count += (await c.query(sql, cols.map((k) => bindable(rows[i][k])))).rowCount;
            } catch (err) {
              throw new Error(rows.length > 1 ? `row ${i + 1}: ${describe(err)}` : describe(err));
            }
          }
          await c.query('COMMIT', []);
          return count;
        } catch (err) {
          await c.query('ROLLBACK', []).catch(() => {});
          throw err;
        }
      };
      try {
        const r = await untilStopped(ctx(), work());
        if (r === 'stopped') return STOPPED;
        return { ok: true, count: r.value };
      } catch (err) {
        if (ctx().abort.signal.aborted) return STOPPED;
        return { ok: false, error: describe(err) };
      }
    },

    /**
     * Counts the rows of `table` matching `where` (JSON object; null means IS NULL) and
     * records an assertion. `count` < 0 means "at least one". On failure the assertion
     * carries expected/actual and up to 3 closest rows (most where-columns equal).
     */
    db_expect: async (
      id: number,
      table: string,
      whereJson: string,
      count: number,
      line: number | null,
      file: string | null,
    ): Promise<{ ok: true; passed: boolean; message: string } | Fail> => {
      const c = conn(id);
      if (isFail(c)) return c;
      const where = parse(whereJson) as Record<string, unknown>;
      const cols = Object.keys(where).sort();
      const params: unknown[] = [];
      const conds = cols.map((k) => {
        const v = where[k];
        if (v === null) return `${c.quoteIdent(k)} IS NULL`;
        params.push(bindable(v));
        return `${c.quoteIdent(k)} = ${c.placeholder(params.length)}`;
      });
      const whereText = cols.length ? cols.map((k) => (where[k] === null ? `${k} IS NULL` : `${k} = ${render(where[k])}`)).join(' AND ') : '(all rows)';
      const tableSql = c.quoteIdent(table);
      const work = async () => {
        const found = await c.query(
          `SELECT count(*) AS n FROM ${tableSql}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`,
          params,
        );
        const n = Number(found.rows[0]?.n ?? 0);
        const passed = count < 0 ? n > 0 : n === count;
        let closest: Record<string, unknown>[] = [];
        if (!passed && cols.length) {
          // rank every row by how many of the where-columns it matches
          const score = cols
            .map((k, i) => `(CASE WHEN ${c.quoteIdent(k)} IS NOT DISTINCT FROM ${c.placeholder(i + 1)} THEN 1 ELSE 0 END)`)
            .join(' + ');
          const near = await c.query(
            `SELECT * FROM ${tableSql} ORDER BY ${score} DESC LIMIT 3`,
            cols.map((k) => bindable(where[k])),
          );
          closest = near.rows;
        } else if (!passed && n > 0) {
          closest = (await c.query(`SELECT * FROM ${tableSql} LIMIT 3`, [])).rows;
        }
        return { n, passed, closest };
      };
      try {
        const r = await untilStopped(ctx(), work());
        if (r === 'stopped') return STOPPED;
        const { n, passed, closest } = r.value;
        const rows = (k: number) => `${k} row${k === 1 ? '' : 's'}`;
        const expected = count < 0 ? 'at least 1 row' : rows(count);
        const what = `db.expect ${table} where ${whereText}`;
        const message = passed ? `${what}: ${rows(n)}` : `${what}: expected ${expected}, found ${n}`;
        const actual =
          `${rows(n)}` +
          (closest.length ? `; closest rows:\n${closest.map((row) => `  ${rowsJson([row]).slice(1, -1)}`).join('\n')}` : '');
        const where_ = line ? `${file || ctx().job.fileName}:${line}` : file || ctx().job.fileName;
        ctx().assertion(passed, message, line, passed ? null : `${where_}: ${message}`, { file, expected, actual });
        return { ok: true, passed, message: passed ? message : `${message}\n${actual}` };
      } catch (err) {
        if (ctx().abort.signal.aborted) return STOPPED;
        return { ok: false, error: describe(err) };
      }
    },

    db_close: async (id: number): Promise<{ ok: true }> => {
      const state = stateOf(ctx());
      const c = state.conns.get(id);
      state.conns.delete(id);
      await c?.close();
      return { ok: true };
    },
  };
}
