/**
 * One App run locally: its databases and service supervisors, its conditions, its
 * state file. `apply` is one reconcile of the App: clean up what a previous topas
 * left (first time only), prune what the spec no longer has, converge databases, then
 * services. Operations on one App are serialized by the runtime.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { databaseUrlEnv, type AppSpec, type AppStatus, type Condition } from '../../core/app.js';
import { appConditions } from './app-conditions.js';
import { AppDatabase, type DatabaseEngineChoice } from './app-database.js';
import { resolveUnder } from '../../store/resolve-under.js';
import { readAppState, writeAppState, type AppStateFile } from './app-state-file.js';
import type { PostgresAvailability } from './postgres-binaries.js';
import { stopLeftoverPostmaster } from './postgres-server.js';
import { stopRecordedGroup } from './process-group.js';
import { replicaTemplate } from './replica-template.js';
import type { RuntimeLog } from './runtime-log.js';
import { ServiceSupervisor } from './service-supervisor.js';

/** Grace for leftover processes of a previous topas (SIGTERM → SIGKILL). */
const LEFTOVER_GRACE_MS = 3000;

export interface LocalAppContext {
  stateDir: string;
  engine: DatabaseEngineChoice;
  postgres: () => PostgresAvailability;
  inheritedEnv: NodeJS.ProcessEnv;
  log: RuntimeLog;
  /** The App's status may have changed. */
  changed: () => void;
}

export class LocalApp {
  generation = 0;
  spec: AppSpec | null = null;
  readonly services = new Map<string, ServiceSupervisor>();
  readonly databases = new Map<string, AppDatabase>();
  private conditions: Condition[] = [];
  private readonly dir: string;
  private readonly stateFile: string;
  /** What a previous topas recorded (ports to keep); null once read and acted on. */
  private previous: AppStateFile | null = null;
  private adopted = false;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly ctx: LocalAppContext,
  ) {
    // Every path below comes from resolveUnder: names (App, database, service) never lead outside.
    this.dir = resolveUnder(ctx.stateDir, name);
    this.stateFile = resolveUnder(this.dir, 'state.json');
  }

  private get databasesDir(): string {
    return resolveUnder(this.dir, 'databases');
  }

  private get logsDir(): string {
    return resolveUnder(this.dir, 'logs');
  }

  /**
   * Stops whatever a previous topas left running for this App (it died without
   * stopping it): recorded replica process groups (verified by start time) and
   * PostgreSQL servers of its data folders. Their data and ports are reused.
   */
  async cleanUpLeftovers(): Promise<void> {
    if (this.adopted) return;
    this.adopted = true;
    this.previous = readAppState(this.stateFile);
    const prev = this.previous;
    const tasks: Promise<unknown>[] = [];
    for (const [service, record] of Object.entries(prev?.services ?? {})) {
      for (const proc of record.processes) {
        tasks.push(
          stopRecordedGroup(proc, LEFTOVER_GRACE_MS).then((stopped) => {
            if (stopped) this.ctx.log({ level: 'info', msg: 'stopped leftover replica of a previous topas', app: this.name, service, replica: proc.slot, pid: proc.pid });
          }),
        );
      }
    }
    if (existsSync(this.databasesDir)) {
      for (const db of readdirSync(this.databasesDir)) {
        const labels = { app: this.name, database: db };
        tasks.push(
          stopLeftoverPostmaster(resolveUnder(this.databasesDir, db, 'pgdata'), this.ctx.log, labels).then(async () => {
            const server = prev?.databases[db]?.server;
            if (server) await stopRecordedGroup(server, LEFTOVER_GRACE_MS);
          }),
        );
      }
    }
    await Promise.all(tasks);
  }

  async apply(generation: number, spec: AppSpec, baseDir: string): Promise<void> {
    await this.cleanUpLeftovers();
    this.generation = generation;
    this.spec = spec;
    this.stopped = false;
    mkdirSync(this.logsDir, { recursive: true });
    this.ctx.changed();

    // Prune: services, then databases, that the spec no longer has.
    const serviceNames = new Set(spec.services.map((s) => s.name));
    for (const [name, supervisor] of this.services) {
      if (serviceNames.has(name)) continue;
      this.services.delete(name);
      this.ctx.log({ level: 'info', msg: 'pruning service', app: this.name, service: name });
      await supervisor.stop();
    }
    const databaseNames = new Set(spec.databases.map((d) => d.name));
    for (const [name, database] of this.databases) {
      if (databaseNames.has(name)) continue;
      this.databases.delete(name);
      this.ctx.log({ level: 'info', msg: 'pruning database', app: this.name, database: name });
      await database.destroy();
    }
    if (existsSync(this.databasesDir)) {
      for (const name of readdirSync(this.databasesDir)) {
        if (!databaseNames.has(name)) rmSync(resolveUnder(this.databasesDir, name), { recursive: true, force: true });
      }
    }
    this.saveState();

    // Databases first: services get their URLs, and their schema exists when they start.
    await Promise.all(
      spec.databases.map((dbSpec) => {
        let database = this.databases.get(dbSpec.name);
        if (!database) {
          database = new AppDatabase(dbSpec.name, dbSpec, {
            app: this.name,
            dir: resolveUnder(this.databasesDir, dbSpec.name),
            stateRoot: this.ctx.stateDir,
            engine: this.ctx.engine,
            postgres: this.ctx.postgres,
            preferredPort: this.previous?.databases[dbSpec.name]?.port ?? null,
            log: this.ctx.log,
            onProcesses: () => this.saveState(),
            onChange: this.ctx.changed,
          });
          this.databases.set(dbSpec.name, database);
        }
        return database.ensure(dbSpec);
      }),
    );

    const urls = spec.databases.flatMap((d) => {
      const url = this.databases.get(d.name)?.url();
      return url ? [{ name: d.name, url }] : [];
    });
    const databaseEnv = databaseUrlEnv(urls);
    for (const serviceSpec of spec.services) {
      let supervisor = this.services.get(serviceSpec.name);
      if (!supervisor) {
        supervisor = new ServiceSupervisor(serviceSpec.name, serviceSpec, {
          app: this.name,
          logDir: this.logsDir,
          inheritedEnv: this.ctx.inheritedEnv,
          log: this.ctx.log,
          onProcesses: () => this.saveState(),
          onChange: this.ctx.changed,
        });
        this.services.set(serviceSpec.name, supervisor);
      }
      await supervisor.update(serviceSpec, replicaTemplate(serviceSpec, baseDir, databaseEnv), this.previous?.services[serviceSpec.name]?.ports ?? {});
    }
    this.saveState();
    this.ctx.changed();
  }

  status(): AppStatus | null {
    const spec = this.spec;
    if (!spec) return null;
    const services = spec.services.flatMap((s) => {
      const supervisor = this.services.get(s.name);
      return supervisor ? [supervisor] : [];
    });
    const databases = spec.databases.flatMap((d) => {
      const database = this.databases.get(d.name);
      return database ? [database] : [];
    });
    const now = Date.now();
    this.conditions = appConditions(
      this.conditions,
      this.generation,
      services.map((s) => ({ name: s.name, rolledOut: s.isRolledOut(), describe: s.describeProgress(), progress: s.progress(), problems: s.problems(now) })),
      databases.map((d) => ({ name: d.name, ready: d.ready, starting: d.starting, problem: d.failure() })),
      new Date(now).toISOString(),
    );
    return {
      observedGeneration: this.generation,
      services: services.map((s) => s.status()),
      databases: databases.map((d) => d.status()),
      conditions: this.conditions,
    };
  }

  /** Stops every process and server; with `deleteData`, removes the App's folder too. */
  async stop(deleteData: boolean): Promise<void> {
    this.stopped = true;
    const ports = new Map([...this.services].map(([name, s]) => [name, s.ports()]));
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    await Promise.all([...this.databases.values()].map((d) => (deleteData ? d.destroy() : d.stop())));
    if (deleteData) {
      // Leftovers of a previous topas that this one never applied.
      await this.cleanUpLeftovers();
      rmSync(this.dir, { recursive: true, force: true });
    } else {
      this.saveState(ports);
    }
    this.services.clear();
    this.databases.clear();
  }

  /** SIGKILLs every process now (topas exits without close()). */
  killNow(): void {
    for (const s of this.services.values()) s.killNow();
    for (const d of this.databases.values()) d.killNow();
  }

  /**
   * Rewrites the state file from the live processes. While stopping, only the final
   * write (`finalPorts`: the balancer ports before they closed) happens, so a topas
   * killed mid-stop still has every process on record.
   */
  private saveState(finalPorts?: Map<string, Record<string, number>>): void {
    if (this.stopped && !finalPorts) return;
    const state: AppStateFile = { version: 1, app: this.name, updatedAt: new Date().toISOString(), services: {}, databases: {} };
    for (const [name, supervisor] of this.services) state.services[name] = { ports: finalPorts?.get(name) ?? supervisor.ports(), processes: supervisor.recorded() };
    for (const [name, database] of this.databases) {
      const record = database.record();
      if (record) state.databases[name] = record;
    }
    try {
      writeAppState(this.stateFile, state);
    } catch (error) {
      this.ctx.log({ level: 'error', msg: 'could not write the App state file', app: this.name, file: this.stateFile, error: String(error) });
    }
  }
}
