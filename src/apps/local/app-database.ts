/**
 * One database of an App: picks its engine (once; the data decides afterwards), runs
 * its server on a free 127.0.0.1 port (the previous one when still free), creates the
 * role and database named by the credentials, applies `initSQL` exactly once per
 * database life, and restarts the server with backoff if it dies.
 *
 * "Exactly once" is recorded in `init-sql.json` next to the data (the time and the
 * SQL's hash): a restart of topas or a re-apply finds it and does not run the SQL
 * again; deleting the database deletes both. A failing initSQL is not recorded, so
 * the next apply tries again.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { postgresUrl, type DatabaseSpec, type DatabaseStatus, type Endpoint } from '../../core/app.js';
import { PortInUseError, type DatabaseEngineName, type DatabaseServer } from './database-server.js';
import { freePort } from './free-port.js';
import { PGLITE_NOTE, PgliteServer } from './pglite-server.js';
import { canEnter, type PostgresAvailability } from './postgres-binaries.js';
import { PostgresServer } from './postgres-server.js';
import type { RecordedProcess } from './process-group.js';
import { RestartBackoff } from './restart-backoff.js';
import type { RuntimeLog } from './runtime-log.js';

/** Which engine to use: see LocalAppRuntimeOptions.databaseEngine. */
export type DatabaseEngineChoice = 'auto' | 'postgresql' | 'pglite';

export interface DatabaseProblem {
  reason: 'DatabaseFailed' | 'InitSQLFailed';
  message: string;
}

export interface AppDatabaseOptions {
  app: string;
  /** The database's folder: its data, server log and initSQL record. */
  dir: string;
  /** Folders from here down to `dir` are ours: made searchable for the postgres user when running as root. */
  stateRoot: string;
  engine: DatabaseEngineChoice;
  /** Whether a local PostgreSQL server can be used (looked up once per runtime). */
  postgres: () => PostgresAvailability;
  /** The port used before (kept when still free). */
  preferredPort: number | null;
  log: RuntimeLog;
  /** The server process started or stopped (the state file must be rewritten). */
  onProcesses: () => void;
  onChange: () => void;
}

/** The state-file record of a database. */
export interface DatabaseRecord {
  engine: DatabaseEngineName;
  port: number | null;
  server: RecordedProcess | null;
}

interface InitRecord {
  appliedAt: string;
  sha256: string;
}

export class AppDatabase {
  private spec: DatabaseSpec;
  private server: DatabaseServer | null = null;
  private engineName: DatabaseEngineName | null = null;
  /** Why PGlite rather than PostgreSQL ('' when chosen), or the PostgreSQL version. */
  private engineWhy = '';
  private port: number | null;
  private phase: 'starting' | 'ready' | 'failed' | 'stopped' = 'starting';
  private problem: DatabaseProblem | null = null;
  private readonly backoff = new RestartBackoff({ initialMs: 1000 });
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Serializes ensure/stop (an apply and a self-healing restart never overlap). */
  private op: Promise<unknown> = Promise.resolve();
  private readonly initFile: string;

  constructor(
    readonly name: string,
    spec: DatabaseSpec,
    private readonly options: AppDatabaseOptions,
  ) {
    this.spec = spec;
    this.port = options.preferredPort;
    this.initFile = join(options.dir, 'init-sql.json');
  }

  /** Starts the server if needed, makes the credentials' role and database exist, applies initSQL once. Never throws: failures go to the status. */
  ensure(spec: DatabaseSpec): Promise<void> {
    this.spec = spec;
    return this.serialize(() => this.converge());
  }

  /** `postgres://user:password@127.0.0.1:port/dbname` (the port it runs, or will run, on). */
  url(): string | null {
    return this.port === null ? null : postgresUrl(this.spec.credentials, { host: '127.0.0.1', port: this.port });
  }

  endpoint(): Endpoint | null {
    const port = this.server?.port ?? null;
    return port === null ? null : { host: '127.0.0.1', port };
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  get starting(): boolean {
    return this.phase === 'starting';
  }

  failure(): DatabaseProblem | null {
    return this.phase === 'ready' ? null : this.problem;
  }

  status(): DatabaseStatus {
    const init = this.readInit();
    const engine = this.engineName ?? (this.options.engine === 'pglite' ? 'pglite' : 'postgresql');
    let message: string;
    if (this.problem && this.phase !== 'ready') message = this.problem.message;
    else if (this.phase === 'starting') message = `starting (${engine})`;
    else if (this.phase === 'stopped') message = 'stopped';
    else if (engine === 'pglite') message = `${PGLITE_NOTE}${this.engineWhy ? ` (PostgreSQL is not used: ${this.engineWhy})` : ''}`;
    else message = `local ${this.engineWhy}server${this.server?.recorded() ? ` (pid ${this.server.recorded()!.pid})` : ''}`;
    return { name: this.name, ready: this.ready, endpoint: this.endpoint(), engine, initializedAt: init?.appliedAt ?? null, message };
  }

  record(): DatabaseRecord | null {
    if (!this.engineName) return null;
    return { engine: this.engineName, port: this.port, server: this.server?.recorded() ?? null };
  }

  /** Stops the server; the data stays. */
  stop(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    return this.serialize(async () => {
      await this.server?.stop();
      this.server = null;
      this.phase = 'stopped';
      this.options.onProcesses();
    });
  }

  /** Stops the server and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.options.dir, { recursive: true, force: true });
  }

  killNow(): void {
    this.server?.killNow();
  }

  // --- internals -------------------------------------------------------------------

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.op.then(fn, fn);
    this.op = next.catch(() => {});
    return next;
  }

  private labels(): Record<string, string> {
    return { app: this.options.app, database: this.name };
  }

  private fail(reason: DatabaseProblem['reason'], message: string): void {
    this.phase = 'failed';
    this.problem = { reason, message: `${this.name}: ${message}` };
    this.options.log({ level: 'warn', msg: 'database not ready', ...this.labels(), reason, error: message });
    this.options.onChange();
  }

  private async converge(): Promise<void> {
    if (this.closed) return;
    if (!this.server?.port) {
      if (this.phase !== 'failed') this.phase = 'starting';
      this.options.onChange();
      try {
        await this.startServer();
      } catch (error) {
        this.fail('DatabaseFailed', (error as Error).message);
        return;
      }
    }
    try {
      await this.ensureRoleAndDatabase();
    } catch (error) {
      this.fail('DatabaseFailed', `could not create role ${this.spec.credentials.user} and database ${this.spec.credentials.dbname}: ${(error as Error).message}`);
      return;
    }
    const initError = await this.applyInitSql();
    if (initError) {
      this.fail('InitSQLFailed', initError);
      return;
    }
    this.phase = 'ready';
    this.problem = null;
    this.options.onChange();
  }

  /** Decides the engine once: existing data decides, then the option, then what is installed. */
  private chooseEngine(): { engine: DatabaseEngineName; why: string } {
    const choice = this.options.engine;
    const dir = this.options.dir;
    if (choice === 'pglite') return { engine: 'pglite', why: '' };
    if (choice === 'auto' && !PostgresServer.hasData(dir) && PgliteServer.hasData(dir)) return { engine: 'pglite', why: '' };
    const available = this.options.postgres();
    let unavailable = available.ok ? null : available.reason;
    if (available.ok && available.binaries.runAs) {
      this.makeSearchable();
      if (!canEnter(dir, available.binaries.runAs)) {
        const blocking = firstBlockingFolder(dir, available.binaries.runAs);
        unavailable = `topas runs as root, PostgreSQL must run as the postgres system user, and it cannot enter ${blocking} (give it search permission: chmod o+x ${blocking})`;
      }
    }
    if (unavailable === null) return { engine: 'postgresql', why: '' };
    if (choice === 'postgresql') throw new Error(`PostgreSQL cannot be used: ${unavailable}`);
    if (PostgresServer.hasData(dir)) throw new Error(`its data folder holds a PostgreSQL cluster, but PostgreSQL cannot be used: ${unavailable}`);
    return { engine: 'pglite', why: unavailable };
  }

  /** Adds search permission (o+x) to our folders from the state root down to the database folder. */
  private makeSearchable(): void {
    mkdirSync(this.options.dir, { recursive: true });
    for (let dir = this.options.dir; ; dir = dirname(dir)) {
      try {
        const mode = statSync(dir).mode & 0o7777;
        if ((mode & 0o011) !== 0o011) chmodSync(dir, mode | 0o011);
      } catch {
        // not ours to change
      }
      if (dir === this.options.stateRoot || dirname(dir) === dir) break;
    }
  }

  private async startServer(): Promise<void> {
    if (!this.server) {
      const { engine, why } = this.chooseEngine();
      this.engineName = engine;
      this.engineWhy = why;
      mkdirSync(this.options.dir, { recursive: true });
      if (engine === 'pglite') {
        this.server = new PgliteServer(this.options.dir);
      } else {
        const available = this.options.postgres();
        if (!available.ok) throw new Error(available.reason);
        this.engineWhy = `${available.binaries.version} `;
        this.server = new PostgresServer({
          dir: this.options.dir,
          binaries: available.binaries,
          superuser: this.spec.credentials.user,
          password: this.spec.credentials.password,
          log: this.options.log,
          labels: this.labels(),
        });
      }
      this.server.onUnexpectedExit = (description) => this.serverDied(description);
    }
    for (let attempt = 0; ; attempt++) {
      const port = await freePort(attempt === 0 ? this.port : null);
      try {
        await this.server.start(port);
        this.port = port;
        this.options.onProcesses();
        this.options.log({ level: 'info', msg: 'database listening', ...this.labels(), engine: this.engineName, port });
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= 3) throw error;
      }
    }
  }

  private serverDied(description: string): void {
    this.options.onProcesses();
    if (this.closed) return;
    const delay = this.backoff.next(0);
    this.fail('DatabaseFailed', `${description}; restarting in ${Math.round(delay / 100) / 10}s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.serialize(() => this.converge());
    }, delay);
  }

  private async withClient<T>(config: pg.ClientConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ ...config, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The credentials' role (a superuser, as the postgres image's POSTGRES_USER) and database. PGlite has one of each. */
  private async ensureRoleAndDatabase(): Promise<void> {
    const server = this.server;
    if (!(server instanceof PostgresServer)) return;
    const { user, password, dbname } = this.spec.credentials;
    await this.withClient(server.adminConnection(), async (client) => {
      const role = client.escapeIdentifier(user);
      const pass = password ? `PASSWORD ${client.escapeLiteral(password)}` : 'PASSWORD NULL';
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
      await client.query(`${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} WITH LOGIN SUPERUSER ${pass}`);
      const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbname]);
      if (!db.rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(dbname)} OWNER ${role}`);
    });
    await server.setPasswordAuth(Boolean(password));
  }

  private readInit(): InitRecord | null {
    try {
      return JSON.parse(readFileSync(this.initFile, 'utf8')) as InitRecord;
    } catch {
      return null;
    }
  }

  /** Applies initSQL unless it was applied in this database's life; returns an error message or null. */
  private async applyInitSql(): Promise<string | null> {
    const sql = this.spec.initSQL;
    if (!sql?.trim()) return null;
    const sha256 = createHash('sha256').update(sql).digest('hex');
    const done = this.readInit();
    if (done) {
      if (done.sha256 !== sha256) this.options.log({ level: 'info', msg: 'initSQL changed; not applied again (it runs once, when the database is created)', ...this.labels(), appliedAt: done.appliedAt });
      return null;
    }
    const server = this.server!;
    const { user, password, dbname } = this.spec.credentials;
    const config = server instanceof PostgresServer ? { host: '127.0.0.1', port: server.port ?? undefined, user, password, database: dbname } : server.adminConnection();
    try {
      await this.withClient(config, (client) => client.query(sql));
    } catch (error) {
      const e = error as Error & { position?: string };
      const line = e.position ? ` at line ${sql.slice(0, Number(e.position) - 1).split('\n').length}` : '';
      return `initSQL failed${line}: ${e.message} (fix it and apply again; it is retried until it succeeds once)`;
    }
    const record: InitRecord = { appliedAt: new Date().toISOString(), sha256 };
    writeFileSync(this.initFile, JSON.stringify(record, null, 2));
    this.options.log({ level: 'info', msg: 'initSQL applied', ...this.labels() });
    return null;
  }
}

/** The first folder on the way to `dir` that `user` cannot enter. */
function firstBlockingFolder(dir: string, user: { uid: number; gid: number }): string {
  const parts = dir.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const folder = `/${parts.slice(0, i).join('/')}`;
    if (!canEnter(folder, user)) return folder;
  }
  return dir;
}
