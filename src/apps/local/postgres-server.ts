/**
 * A local PostgreSQL server for one App database: its own cluster in
 * `<database folder>/pgdata` (initdb on first start), a `postgres` process leading its
 * own process group, listening on 127.0.0.1 only. Unix sockets go in the data folder
 * (when the path is short enough, else they are off); local socket connections are
 * trusted (only root and the server's user can reach that folder) and TCP uses
 * password authentication (scram-sha-256; trust when the App gives no password).
 *
 * As root, initdb and postgres run as the `postgres` system user (PostgreSQL refuses
 * root): the data folder is chown'ed to it and the folders above made searchable.
 *
 * A postmaster left running by a previous topas (found through `postmaster.pid`) is
 * shut down before starting again; a stale `postmaster.pid` is removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import pg, { type ClientConfig } from 'pg';
import { PortInUseError, type DatabaseServer } from './database-server.js';
import { LineSplitter } from './line-log.js';
import { isAlive, pollUntil, processCommandLine, recordProcess, signalGroup, signalProcess, type RecordedProcess } from './process-group.js';
import type { PostgresBinaries } from './postgres-binaries.js';
import type { RuntimeLog } from './runtime-log.js';

/** Longest unix socket path (sun_path is 108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface PostgresServerOptions {
  /** The database's folder (the cluster lives in its `pgdata`). */
  dir: string;
  binaries: PostgresBinaries;
  /** The bootstrap superuser, named by the App's credentials when the cluster is created. */
  superuser: string;
  /** Its password (empty: TCP connections are trusted). */
  password: string;
  log: RuntimeLog;
  /** For log entries. */
  labels: Record<string, string>;
}

interface ClusterInfo {
  /** The superuser initdb created: admin connections over the socket use it. */
  superuser: string;
}

export class PostgresServer implements DatabaseServer {
  readonly engine = 'postgresql' as const;
  onUnexpectedExit: ((description: string) => void) | null = null;
  private child: ChildProcess | null = null;
  private record: RecordedProcess | null = null;
  private listening: number | null = null;
  private stopping = false;
  private readonly dataDir: string;
  private readonly logFile: string;
  private readonly infoFile: string;
  /** Recent server output, for error messages. */
  private recent: string[] = [];
  /** TCP connections must give a password (false: trusted, the App has none). */
  private passwordAuth: boolean;

  constructor(private readonly options: PostgresServerOptions) {
    this.dataDir = join(options.dir, 'pgdata');
    this.logFile = join(options.dir, 'postgres.log');
    this.infoFile = join(options.dir, 'postgres.json');
    this.passwordAuth = Boolean(options.password);
  }

  get port(): number | null {
    return this.listening;
  }

  /** True when the folder holds a cluster already. */
  static hasData(dir: string): boolean {
    return existsSync(join(dir, 'pgdata', 'PG_VERSION'));
  }

  private get socketDir(): string | null {
    return join(this.dataDir, '.s.PGSQL.65535').length <= MAX_SOCKET_PATH ? this.dataDir : null;
  }

  private get runAs() {
    return this.options.binaries.runAs;
  }

  async start(port: number): Promise<void> {
    if (this.child) return;
    this.stopping = false;
    await stopLeftoverPostmaster(this.dataDir, this.options.log, this.options.labels);
    mkdirSync(this.options.dir, { recursive: true });
    if (!PostgresServer.hasData(this.options.dir)) await this.initdb();
    this.writeHba();
    await this.spawnServer(port);
  }

  adminConnection(): ClientConfig {
    const info = this.readInfo();
    const socketDir = this.socketDir;
    if (socketDir) return { host: socketDir, port: this.listening ?? undefined, user: info.superuser, database: 'postgres' };
    return { host: '127.0.0.1', port: this.listening ?? undefined, user: this.options.superuser, password: this.options.password, database: 'postgres' };
  }

  recorded(): RecordedProcess | null {
    return this.child ? this.record : null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    this.stopping = true;
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGINT is PostgreSQL's fast shutdown: disconnect clients, checkpoint, exit.
    signalProcess(pid, 'SIGINT');
    const timer = setTimeout(() => {
      signalProcess(pid, 'SIGQUIT');
      setTimeout(() => signalGroup(pid, 'SIGKILL'), 3000).unref();
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Switches TCP authentication between password and trust (the App's password was set or removed). */
  async setPasswordAuth(on: boolean): Promise<void> {
    if (on === this.passwordAuth) return;
    this.passwordAuth = on;
    this.writeHba();
    const client = new pg.Client(this.adminConnection());
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end().catch(() => {});
    }
  }

  killNow(): void {
    const pid = this.child?.pid;
    // SIGQUIT: immediate shutdown; the postmaster takes its backends with it.
    if (pid !== undefined) signalProcess(pid, 'SIGQUIT');
  }

  // --- internals -------------------------------------------------------------------

  private readInfo(): ClusterInfo {
    try {
      return JSON.parse(readFileSync(this.infoFile, 'utf8')) as ClusterInfo;
    } catch {
      return { superuser: this.options.superuser };
    }
  }

  /** Makes a path owned by the server's user (as root). */
  private own(path: string): void {
    if (this.runAs) chownSync(path, this.runAs.uid, this.runAs.gid);
  }

  private spawnAs(file: string, args: string[]): ChildProcess {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
    return spawn(file, args, {
      cwd: this.options.dir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
    });
  }

  private async initdb(): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(this.dataDir, 0o700);
    this.own(this.dataDir);
    const args = ['-D', this.dataDir, '-U', this.options.superuser, '-E', 'UTF8', '--no-locale', '--no-instructions', '--no-sync', '--auth-local=trust', '--auth-host=scram-sha-256'];
    const pwfile = join(this.options.dir, '.pwfile');
    if (this.options.password) {
      writeFileSync(pwfile, `${this.options.password}\n`, { mode: 0o600 });
      this.own(pwfile);
      args.push(`--pwfile=${pwfile}`);
    }
    this.options.log({ level: 'info', msg: 'creating PostgreSQL cluster', ...this.options.labels, dataDir: this.dataDir });
    try {
      const child = this.spawnAs(this.options.binaries.initdb, args);
      const output: string[] = [];
      const split = new LineSplitter((line) => output.push(line));
      child.stdout?.on('data', (c: Buffer) => split.push(c));
      child.stderr?.on('data', (c: Buffer) => split.push(c));
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
      split.flush();
      if (code !== 0) {
        rmSync(this.dataDir, { recursive: true, force: true });
        throw new Error(`initdb failed (exit code ${code}): ${output.filter((l) => l.trim()).slice(-3).join(' / ')}`);
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
    writeFileSync(this.infoFile, JSON.stringify({ superuser: this.options.superuser } satisfies ClusterInfo, null, 2));
  }

  /** pg_hba.conf from the App's credentials: socket trusted, TCP on 127.0.0.1 with a password (or trusted without one). */
  private writeHba(): void {
    const method = this.passwordAuth ? 'scram-sha-256' : 'trust';
    const file = join(this.dataDir, 'pg_hba.conf');
    writeFileSync(file, `# Written by topas at every start.\nlocal all all trust\nhost all all 127.0.0.1/32 ${method}\n`, { mode: 0o600 });
    this.own(file);
  }

  private async spawnServer(port: number): Promise<void> {
    this.recent = [];
    const args = [
      '-D', this.dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${this.socketDir ?? ''}`,
      '-c', 'logging_collector=off',
      '-c', 'shared_buffers=32MB',
      '-c', 'max_connections=100',
      '-c', 'password_encryption=scram-sha-256',
    ];
    const child = this.spawnAs(this.options.binaries.postgres, args);
    this.child = child;
    const append = (line: string) => {
      this.recent.push(line);
      if (this.recent.length > 50) this.recent.shift();
      try {
        writeFileSync(this.logFile, `${line}\n`, { flag: 'a' });
      } catch {
        // the log file is for people
      }
    };
    const split = new LineSplitter(append);
    child.stdout?.on('data', (c: Buffer) => split.push(c));
    child.stderr?.on('data', (c: Buffer) => split.push(c));
    let exit: string | null = null;
    child.once('error', (error) => {
      exit = `could not start postgres: ${error.message}`;
    });
    child.once('exit', (code, signal) => {
      split.flush();
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      exit = code !== null ? `exited with code ${code}` : `killed by ${signal}`;
      if (this.child === child) {
        this.child = null;
        this.listening = null;
        if (!this.stopping) this.onUnexpectedExit?.(`postgres ${exit}${this.lastError()}`);
      }
    });
    if (child.pid !== undefined) this.record = recordProcess(child.pid, `postgres -D ${this.dataDir}`);
    this.options.log({ level: 'info', msg: 'starting PostgreSQL', ...this.options.labels, port, pid: child.pid });

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exit !== null) {
        this.child = null;
        if (/could not bind|Address already in use/i.test(this.recent.join('\n'))) throw new PortInUseError(port);
        throw new Error(`postgres ${exit}${this.lastError()}`);
      }
      if (this.recent.some((l) => l.includes('ready to accept connections')) && (await tcpAccepts(port))) break;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS / 1000}s${this.lastError()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.listening = port;
  }

  /** The server's last complaint (`: FATAL: ...`), or '' when it said nothing wrong. */
  private lastError(): string {
    const line = this.recent.filter((l) => /FATAL|ERROR|PANIC|could not/.test(l)).at(-1);
    return line ? `: ${line.replace(/^\S+ \S+ \S+ \[\d+\] /, '').replace(/\s+/g, ' ')}` : '';
  }
}

/**
 * Shuts down a postmaster of this data folder left running by a previous topas (it is
 * not our child, so we poll), and removes a `postmaster.pid` whose process is gone or
 * is not that postmaster (PostgreSQL would otherwise refuse to start).
 */
export async function stopLeftoverPostmaster(dataDir: string, log: RuntimeLog, labels: Record<string, string>): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  const ours = Number.isInteger(pid) && pid > 0 && isAlive(pid) && processCommandLine(pid).includes(dataDir);
  if (ours) {
    log({ level: 'info', msg: 'stopping leftover PostgreSQL server', ...labels, pid });
    signalProcess(pid, 'SIGINT');
    if (!(await pollUntil(() => !isAlive(pid), STOP_GRACE_MS))) {
      signalProcess(pid, 'SIGQUIT');
      if (!(await pollUntil(() => !isAlive(pid), 3000))) signalGroup(pid, 'SIGKILL');
      await pollUntil(() => !isAlive(pid), 2000);
    }
  }
  if (existsSync(pidFile) && !(Number.isInteger(pid) && isAlive(pid) && processCommandLine(pid).includes(dataDir))) rmSync(pidFile, { force: true });
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
