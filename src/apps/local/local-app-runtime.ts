/**
 * The embedded backend of the App controller: runs an App's services as supervised
 * local processes and its databases as local PostgreSQL (or PGlite) servers. On
 * Kubernetes the same App spec becomes Deployments, Services and database Pods; here
 * each of those has a small local counterpart.
 *
 * - **Supervisor** (`service-supervisor.ts`, `replica-process.ts`): per service, N
 *   replica processes of `local.command`, each leading its own process group and
 *   listening on its own free port (`${port}`, `${port.NAME}`). A readiness probe
 *   (HTTP GET or TCP connect) gates "ready". A replica that exits is restarted with
 *   exponential backoff and counted. A spec change rolls the replicas one at a time
 *   (max surge 1, max unavailable 0); a broken new version never takes the old ready
 *   replicas down. Stopping is SIGTERM to the group, SIGKILL after 5 s.
 * - **Balancer** (`tcp-balancer.ts`): per service port, a TCP listener on 127.0.0.1 that
 *   round-robins connections over the ready replicas — the service's endpoint, stable
 *   across rollouts, re-applies and (when still free) topas restarts.
 * - **Database engines** (`app-database.ts`): a local PostgreSQL server per database
 *   when `initdb` and `postgres` are installed (as root: run as the `postgres` system
 *   user), else PGlite served over the wire protocol (single session). The credentials'
 *   role and database are created and `initSQL` is applied once per database life.
 *   Databases are converged before services, which get `DATABASE_URL` and
 *   `DATABASE_URL_<NAME>`.
 * - **State file** (`app-state-file.ts`): `<stateDir>/<app>/state.json` records every
 *   process started (pid, process group, start time) and the ports in use; it is
 *   rewritten whenever a process starts or stops.
 * - **Restart adoption** (`local-app.ts`): the first `apply()` of an App in a new runtime
 *   stops what a previous topas that died without `close()` left running — recorded
 *   replica groups whose start time still matches, PostgreSQL servers found through
 *   their data folder's `postmaster.pid` — then starts fresh on the same data and, when
 *   free, the same ports. `close()` stops everything and keeps the data; `delete()`
 *   removes the data too. A process 'exit' hook SIGKILLs whatever is still running if
 *   topas exits without `close()`.
 *
 * Status is computed live from the supervisors (`status()`), and `onStatus` listeners
 * hear about changes at most every 200 ms per App.
 */
import { mkdirSync } from 'node:fs';
import { NotFoundError, TopasError } from '../../core/errors.js';
import { parseAppName, type AppSpec, type AppStatus, type Endpoint, type ServiceStatus } from '../../core/app.js';
import { LocalApp } from './local-app.js';
import { findPostgres, type PostgresAvailability } from './postgres-binaries.js';
import type { RuntimeLog, RuntimeLogEntry } from './runtime-log.js';
import { formatMs, type ServiceSupervisor } from './service-supervisor.js';

export interface LocalAppRuntimeOptions {
  /** Folder for per-App state: database data folders, replica logs, recorded pids and ports (e.g. <dataDir>/apps). */
  stateDir: string;
  /** Structured logger: constant message + key/values. Default: nothing. */
  log?: (entry: RuntimeLogEntry) => void;
  /** Which database engine to use: 'auto' (local PostgreSQL server when initdb/pg_ctl/postgres are found, else PGlite), 'postgresql', 'pglite'. Default 'auto'. */
  databaseEngine?: 'auto' | 'postgresql' | 'pglite';
}

/** How long `restart()` waits for the rolling restart to finish. */
const RESTART_TIMEOUT_MS = 120_000;
/** Least time between two status notifications of one App. */
const NOTIFY_EVERY_MS = 200;

/** Runtimes alive in this process: the 'exit' hook kills their processes if close() was never called. */
const live = new Set<LocalAppRuntime>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const runtime of live) runtime.killNow();
  });
}

interface Notifier {
  timer: NodeJS.Timeout | null;
  lastAt: number;
  lastSent: string;
}

export class LocalAppRuntime {
  private readonly apps = new Map<string, LocalApp>();
  /** Serializes operations per App (apply, delete). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<(name: string, status: AppStatus) => void>();
  /** Waiters woken on any change of an App (waitReady). */
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly notifiers = new Map<string, Notifier>();
  private readonly log: RuntimeLog;
  private readonly inheritedEnv: NodeJS.ProcessEnv;
  private postgres: PostgresAvailability | null = null;
  private readonly ticker: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: LocalAppRuntimeOptions) {
    this.log = options.log ?? (() => {});
    this.inheritedEnv = { ...process.env };
    mkdirSync(options.stateDir, { recursive: true });
    // Time alone changes some conditions (a replica not ready for too long).
    this.ticker = setInterval(() => {
      for (const name of this.apps.keys()) this.changed(name);
    }, 1000);
    this.ticker.unref();
    live.add(this);
    installExitHook();
  }

  /**
   * Converges the App's databases and service processes to `spec` (level-triggered,
   * idempotent). Resolves once the changes are started: databases are created and
   * initSQL applied before services start; it does not wait for services to be ready.
   */
  apply(app: { name: string; generation: number; spec: AppSpec; baseDir: string }): Promise<void> {
    // The name becomes the App's folder: refuse a bad one before any I/O.
    parseAppName(app.name);
    return this.serialize(app.name, async () => {
      if (this.closed) throw new TopasError('Closed', 'the local App runtime is closed (topas is stopping)');
      let local = this.apps.get(app.name);
      if (!local) {
        local = new LocalApp(app.name, {
          stateDir: this.options.stateDir,
          engine: this.options.databaseEngine ?? 'auto',
          postgres: () => (this.postgres ??= findPostgres(this.inheritedEnv.PATH ?? '')),
          inheritedEnv: this.inheritedEnv,
          log: this.log,
          changed: () => this.changed(app.name),
        });
        this.apps.set(app.name, local);
      }
      this.log({ level: 'info', msg: 'applying App', app: app.name, generation: app.generation });
      await local.apply(app.generation, app.spec, app.baseDir);
    });
  }

  /** The App's live status; null when this runtime does not run it. */
  status(name: string): AppStatus | null {
    return this.apps.get(name)?.status() ?? null;
  }

  /**
   * Resolves when the service has all desired replicas ready with the current spec
   * (rollout finished); rejects with what is not ready on timeout or abort.
   */
  async waitReady(app: string, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ServiceStatus> {
    await this.queues.get(app);
    const supervisor = this.supervisor(app, service);
    if (supervisor.isRolledOut()) return supervisor.status();
    return new Promise<ServiceStatus>((resolve, reject) => {
      const wakers = this.wakersOf(app);
      const finish = (error: Error | null) => {
        clearTimeout(timer);
        wakers.delete(check);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(supervisor.status());
      };
      const notReady = (why: string) => new TopasError('NotReady', `${supervisor.describeProgress()} (${why})`, { app, service });
      const check = () => {
        if (this.apps.get(app)?.services.get(service) !== supervisor) finish(new NotFoundError('service', `${app}/${service}`));
        else if (supervisor.isRolledOut()) finish(null);
      };
      const onAbort = () => finish(notReady('wait aborted'));
      const timer = setTimeout(() => finish(notReady(`waited ${formatMs(timeoutMs)}`)), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      wakers.add(check);
    });
  }

  /** SIGKILLs one replica's process group (default replica 0); the supervisor restarts it with backoff and counts the restart. */
  async kill(app: string, service: string, replica = 0): Promise<{ pid: number }> {
    await this.queues.get(app);
    return this.supervisor(app, service).kill(replica);
  }

  /**
   * Rolling restart: every replica is replaced, one at a time, its new process ready
   * before the old one stops. Resolves when all are replaced (rejects as waitReady does
   * if that takes longer than 2 minutes).
   */
  async restart(app: string, service: string): Promise<void> {
    await this.queues.get(app);
    const supervisor = this.supervisor(app, service);
    this.log({ level: 'info', msg: 'restarting service', app, service });
    supervisor.restart();
    await this.waitReady(app, service, RESTART_TIMEOUT_MS);
  }

  /** The last `tail` lines (default 100) of the service's replicas' output, each prefixed with the replica index. */
  async logs(app: string, service: string, options: { tail?: number } = {}): Promise<string[]> {
    return this.supervisor(app, service).log.tail(options.tail ?? 100);
  }

  /**
   * Where a service or database answers on this machine. `port` picks a service's extra
   * port by its declared number; any other port (or none) is the main port. Null when
   * the name is unknown or not listening.
   */
  endpoint(app: string, name: string, port?: number): Endpoint | null {
    const local = this.apps.get(app);
    if (!local) return null;
    const service = local.services.get(name);
    if (service) return service.endpoint(port);
    return local.databases.get(name)?.endpoint() ?? null;
  }

  /** Stops and removes everything of the App: processes, balancers, databases and their data. */
  delete(name: string): Promise<void> {
    parseAppName(name);
    return this.serialize(name, async () => {
      const local =
        this.apps.get(name) ??
        new LocalApp(name, { stateDir: this.options.stateDir, engine: 'auto', postgres: () => ({ ok: false, reason: 'deleting' }), inheritedEnv: {}, log: this.log, changed: () => {} });
      this.log({ level: 'info', msg: 'deleting App', app: name });
      await local.stop(true);
      this.apps.delete(name);
      this.forget(name);
    });
  }

  /** topas is stopping: stops every process of every App; database data stay for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    await Promise.all([...this.apps.keys()].map((name) => this.queues.get(name)?.catch(() => {})));
    await Promise.all(
      [...this.apps.values()].map(async (local) => {
        await local.stop(false);
        this.forget(local.name);
      }),
    );
    this.apps.clear();
    live.delete(this);
  }

  /** Listens to status changes (at most ~5 per second per App); returns the unsubscribe function. */
  onStatus(listener: (name: string, status: AppStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal SIGKILLs every process now (the process is exiting). */
  killNow(): void {
    for (const local of this.apps.values()) local.killNow();
  }

  // --- internals -------------------------------------------------------------------

  private serialize<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(app) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    const settled = next.catch(() => {});
    this.queues.set(app, settled);
    void settled.then(() => {
      if (this.queues.get(app) === settled) this.queues.delete(app);
    });
    return next;
  }

  private supervisor(app: string, service: string): ServiceSupervisor {
    const local = this.apps.get(app);
    if (!local) throw new NotFoundError('App', app);
    const supervisor = local.services.get(service);
    if (!supervisor) throw new NotFoundError('service', `${app}/${service}`);
    return supervisor;
  }

  private wakersOf(app: string): Set<() => void> {
    let set = this.wakers.get(app);
    if (!set) this.wakers.set(app, (set = new Set()));
    return set;
  }

  /** Something of the App changed: wake waiters now, notify listeners at most every 200 ms. */
  private changed(name: string): void {
    for (const wake of [...(this.wakers.get(name) ?? [])]) wake();
    if (this.listeners.size === 0) return;
    let notifier = this.notifiers.get(name);
    if (!notifier) this.notifiers.set(name, (notifier = { timer: null, lastAt: 0, lastSent: '' }));
    if (notifier.timer) return;
    const n = notifier;
    n.timer = setTimeout(() => {
      n.timer = null;
      n.lastAt = Date.now();
      const status = this.apps.get(name)?.status();
      if (!status) return;
      const text = JSON.stringify(status);
      if (text === n.lastSent) return;
      n.lastSent = text;
      for (const listener of this.listeners) {
        try {
          listener(name, status);
        } catch (error) {
          this.log({ level: 'error', msg: 'status listener failed', app: name, error: String(error) });
        }
      }
    }, Math.max(0, n.lastAt + NOTIFY_EVERY_MS - Date.now()));
  }

  private forget(name: string): void {
    const notifier = this.notifiers.get(name);
    if (notifier?.timer) clearTimeout(notifier.timer);
    this.notifiers.delete(name);
    for (const wake of [...(this.wakers.get(name) ?? [])]) wake();
    this.wakers.delete(name);
  }
}
