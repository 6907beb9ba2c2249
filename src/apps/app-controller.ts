/**
 * The App controller: keeps what runs (the `AppRuntime`) in line with the stored
 * Apps, and is how runs reach their App (`SutGateway`: endpoints for host names, and
 * the `sut` operations). Reconciling is level-triggered — it reads the stored spec and
 * converges — so it is also what happens at start-up, after a restart of topas.
 * Changes of one App (API applies, `sut` changes) are serialized per App.
 */
import {
  isConditionTrue,
  parseAppManifest,
  parseAppName,
  pendingStatus,
  parseServiceSpec,
  toAppResource,
  type App,
  type AppRecord,
  type AppStatus,
  type ServiceSpec,
  type ServiceStatus,
} from '../core/app.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { errorField, type Logger } from '../core/logger.js';
import { SUT_CHANGES, type AppEndpoints, type SutCaller, type SutGateway, type SutOperation, type SutReply } from '../core/sut.js';
import type { Store } from '../store/store.js';
import type { AppRuntime } from './app-runtime.js';

/** Annotation naming the folder relative `local.cwd` paths resolve against (the CLI sets it to the App file's folder). */
export const BASE_DIR_ANNOTATION = 'topas.dev/base-dir';

export type AppStore = Pick<Store, 'putApp' | 'getApp' | 'listApps' | 'deleteApp' | 'setAppStatus'>;

export interface AppControllerOptions {
  store: AppStore;
  runtime: AppRuntime;
  /** Folder relative `local.cwd` resolve against when an App names none. Default: the working directory. */
  defaultBaseDir?: string;
  /** Every failure of a reconcile, a status write or a delete is logged here, with the App name. */
  log?: Logger;
}

/** What applying an App did. */
export interface ApplyResult {
  app: App;
  created: boolean;
  /** The spec changed (generation went up). */
  changed: boolean;
}

/** Fields `sut.apply_service` accepts; `env` is merged into `envVars`. */
const SERVICE_PATCH_FIELDS = ['image', 'version', 'replicas', 'env', 'envVars', 'port', 'ports', 'local'] as const;

export class AppController implements SutGateway {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly unsubscribe: () => void;
  private readonly log: NonNullable<AppControllerOptions['log']>;

  constructor(private readonly o: AppControllerOptions) {
    this.log = o.log ?? (() => {});
    this.unsubscribe = o.runtime.onStatus((name, status) => {
      this.o.store.setAppStatus(name, status).catch((error: unknown) => this.log('warn', 'app status not stored', { app: name, error: errorField(error) }));
    });
  }

  /** Reconciles every stored App (at start-up: adopts or restarts what a previous topas left). */
  async start(): Promise<void> {
    for (const record of await this.o.store.listApps()) {
      await this.exclusive(record.name, () => this.reconcile(record)).catch((error: unknown) =>
        this.log('error', 'app reconcile failed', { app: record.name, error: errorField(error) }),
      );
    }
  }

  /** Stops every App's processes; their specs stay stored for the next start. */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.o.runtime.close();
  }

  /** Validates and stores an App manifest, then converges to it. Throws ValidationError naming the field. */
  async apply(manifest: unknown): Promise<ApplyResult> {
    const m = parseAppManifest(manifest);
    return this.exclusive(m.metadata.name, async () => {
      const labels = m.metadata.labels ?? {};
      const annotations = m.metadata.annotations ?? {};
      const written = await this.o.runtime.records?.write({ name: m.metadata.name, spec: m.spec, labels, annotations });
      const { record, created, changed } = await this.o.store.putApp({
        name: m.metadata.name,
        spec: m.spec,
        baseDir: annotations[BASE_DIR_ANNOTATION] ?? this.o.defaultBaseDir ?? process.cwd(),
        labels,
        annotations,
        ...(written ? { generation: written.generation } : {}),
      });
      await this.reconcile(record).catch((error: unknown) => {
        this.log('error', 'app reconcile failed', { app: record.name, generation: record.generation, error: errorField(error) });
        throw error;
      });
      this.log(created || changed ? 'info' : 'debug', created ? 'app created' : changed ? 'app changed' : 'app unchanged', { app: record.name, generation: record.generation });
      return { app: this.resource(record), created, changed };
    });
  }

  async get(name: string): Promise<App | null> {
    const record = await this.o.store.getApp(name);
    return record ? this.resource(record) : null;
  }

  async list(): Promise<App[]> {
    return (await this.o.store.listApps()).map((r) => this.resource(r));
  }

  /**
   * Stops and removes the App (processes, databases and their data). False when there
   * was none: then nothing is touched. Throws ValidationError (field `name`) for a name
   * that is not an App name, before any I/O.
   */
  async delete(name: string): Promise<boolean> {
    parseAppName(name);
    return this.exclusive(name, async () => {
      if (!(await this.o.store.getApp(name))) return false;
      await this.o.runtime.delete(name).catch((error: unknown) => {
        this.log('error', 'app delete failed', { app: name, error: errorField(error) });
        throw error;
      });
      const deleted = await this.o.store.deleteApp(name);
      if (deleted) this.log('info', 'app deleted', { app: name });
      return deleted;
    });
  }

  // --- SutGateway --------------------------------------------------------------

  async endpoints(appName: string): Promise<AppEndpoints | null> {
    const record = await this.o.store.getApp(appName);
    return record ? this.endpointsOf(record) : null;
  }

  async awaitReady(appName: string, timeoutMs: number, signal: AbortSignal): Promise<string | null> {
    const started = Date.now();
    let waited = false;
    for (;;) {
      const record = await this.o.store.getApp(appName);
      if (!record) return `App "${appName}" does not exist (any more); the run goes on without it`;
      // Before this process reconciled the App, its stored status is a previous process's word.
      const live = this.o.runtime.status(appName);
      const status = live ?? this.liveStatus(record);
      if (live && isReady(record, live)) {
        return waited ? `App "${appName}" is ready (waited ${((Date.now() - started) / 1000).toFixed(1)} s)` : null;
      }
      if (Date.now() - started >= timeoutMs || signal.aborted) {
        const why = status.conditions.find((c) => c.type === 'Ready')?.message ?? 'not reconciled yet';
        return `App "${appName}" is not ready after ${Math.round(timeoutMs / 1000)} s (${why}); the run goes on`;
      }
      waited = true;
      await delay(200, signal);
    }
  }

  async call(caller: SutCaller, op: SutOperation, args: unknown[]): Promise<SutReply> {
    if (caller.readOnly && SUT_CHANGES.has(op)) {
      throw new Error(`this run declared it only reads App "${caller.appName}" (read-only), so it cannot ${op.replace('_', ' ')}; schedule it without --read-only`);
    }
    const app = caller.appName;
    switch (op) {
      case 'apply_service': {
        const [name, patch] = args as [string, Record<string, unknown>];
        const status = await this.applyService(app, name, patch ?? {});
        return { value: luaService(status), endpoints: await this.endpointsOrEmpty(app) };
      }
      case 'scale': {
        const [name, replicas] = args as [string, number];
        await this.service(app, name);
        const status = await this.applyService(app, name, { replicas });
        return { value: luaService(status), endpoints: await this.endpointsOrEmpty(app) };
      }
      case 'wait_ready': {
        const [name, ms] = args as [string, number];
        await this.service(app, name);
        const status = await this.o.runtime.waitReady(app, name, ms, caller.signal);
        return { value: luaService(status), endpoints: await this.endpointsOrEmpty(app) };
      }
      case 'status': {
        const [name] = args as [string | null];
        const record = await this.mustGet(app);
        const status = this.liveStatus(record);
        if (name === null || name === undefined) return { value: luaApp(record, status) };
        await this.service(app, name);
        return { value: luaService(status.services.find((s) => s.name === name) ?? null) };
      }
      case 'restart': {
        const [name] = args as [string];
        await this.service(app, name);
        await this.o.runtime.restart(app, name);
        return { value: luaService(await this.serviceStatus(app, name)) };
      }
      case 'kill': {
        const [name, replica] = args as [string, number];
        const spec = await this.service(app, name);
        if (replica >= spec.replicas) throw new Error(`service "${name}" has ${spec.replicas} replica(s) (0..${spec.replicas - 1}), no replica ${replica}`);
        return { value: await this.o.runtime.kill(app, name, replica) };
      }
      case 'endpoint': {
        const [name] = args as [string];
        const record = await this.mustGet(app);
        knownName(record, name);
        const endpoint = this.o.runtime.endpoint(app, name);
        if (!endpoint) throw new Error(`"${name}" of App "${app}" is not listening yet (wait for it with sut.wait_ready)`);
        const address = `${endpoint.host}:${endpoint.port}`;
        return { value: { host: endpoint.host, port: endpoint.port, address, url: `http://${address}` } };
      }
      case 'logs': {
        const [name, tail] = args as [string, number];
        await this.service(app, name);
        return { value: await this.o.runtime.logs(app, name, { tail }) };
      }
      default:
        throw new Error(`unknown sut operation ${String(op)}`);
    }
  }

  // --- internals ---------------------------------------------------------------

  /** Changes (or adds) one service of the App's stored spec and converges; returns its status. */
  private async applyService(app: string, name: string, patch: Record<string, unknown>): Promise<ServiceStatus | null> {
    const unknown = Object.keys(patch).filter((k) => !(SERVICE_PATCH_FIELDS as readonly string[]).includes(k));
    if (unknown.length) throw new Error(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (fields: ${SERVICE_PATCH_FIELDS.join(', ')})`);
    return this.exclusive(app, async () => {
      const record = await this.mustGet(app);
      const services = [...record.spec.services];
      const index = services.findIndex((s) => s.name === name);
      const current: Partial<ServiceSpec> = index >= 0 ? services[index]! : { name };
      const { env, ...rest } = patch as { env?: Record<string, string> } & Partial<ServiceSpec>;
      const merged = {
        ...current,
        ...rest,
        name,
        ...(env || rest.envVars ? { envVars: { ...current.envVars, ...rest.envVars, ...plainObject(env) } } : {}),
      };
      let service: ServiceSpec;
      try {
        service = parseServiceSpec(merged, []);
      } catch (error) {
        if (error instanceof ValidationError) {
          const hint = index < 0 ? ` (service "${name}" is new to App "${app}", so it needs version, port and local)` : '';
          throw new Error(`${error.message}${hint}`);
        }
        throw error;
      }
      if (index >= 0) services[index] = service;
      else services.push(service);
      const spec = { ...record.spec, services };
      const written = await this.o.runtime.records?.write({ name: record.name, spec, labels: record.labels ?? {}, annotations: record.annotations ?? {} });
      // The record's own generation is not passed on: the store bumps it (or takes the resource's).
      const { record: next } = await this.o.store.putApp({ name: record.name, spec, baseDir: record.baseDir, labels: record.labels, annotations: record.annotations, generation: written?.generation });
      await this.reconcile(next);
      return this.liveStatus(next).services.find((s) => s.name === name) ?? null;
    });
  }

  private async reconcile(record: AppRecord): Promise<void> {
    await this.o.runtime.apply({
      name: record.name,
      generation: record.generation,
      spec: record.spec,
      baseDir: record.baseDir ?? this.o.defaultBaseDir ?? process.cwd(),
    });
    const status = this.o.runtime.status(record.name);
    if (status) await this.o.store.setAppStatus(record.name, status);
  }

  private resource(record: AppRecord): App {
    return toAppResource({ ...record, status: this.liveStatus(record) });
  }

  /** What the runtime says now; before this process reconciled the App, what was stored. */
  private liveStatus(record: AppRecord): AppStatus {
    return this.o.runtime.status(record.name) ?? record.status ?? pendingStatus(record);
  }

  /** Every name of the App and where it answers, as the runtime reports it. */
  private endpointsOf(record: AppRecord): AppEndpoints {
    const at = (name: string, port?: number) => this.o.runtime.endpoint(record.name, name, port);
    const out: AppEndpoints = {};
    for (const s of record.spec.services) {
      const ports: AppEndpoints[string]['ports'] = {};
      for (const p of s.ports ?? []) {
        const e = at(s.name, p.port);
        if (e) ports[String(p.port)] = e;
      }
      out[s.name] = { main: at(s.name), ports };
    }
    for (const d of record.spec.databases) out[d.name] = { main: at(d.name), ports: {}, credentials: { ...d.credentials } };
    return out;
  }

  private async endpointsOrEmpty(app: string): Promise<AppEndpoints> {
    return (await this.endpoints(app)) ?? {};
  }

  private async mustGet(app: string): Promise<AppRecord> {
    const record = await this.o.store.getApp(app);
    if (!record) throw new NotFoundError('App', app);
    return record;
  }

  /** The service's spec, or an error listing the App's services. */
  private async service(app: string, name: string): Promise<ServiceSpec> {
    const record = await this.mustGet(app);
    const service = record.spec.services.find((s) => s.name === name);
    if (!service) {
      const names = record.spec.services.map((s) => s.name);
      throw new Error(`App "${app}" has no service "${name}" (services: ${names.length ? names.join(', ') : 'none'})`);
    }
    return service;
  }

  private async serviceStatus(app: string, name: string): Promise<ServiceStatus | null> {
    return this.liveStatus(await this.mustGet(app)).services.find((s) => s.name === name) ?? null;
  }

  /** Runs `work` after every earlier change of the same App. */
  private exclusive<T>(app: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(app) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => {});
    this.locks.set(app, settled);
    void settled.then(() => {
      if (this.locks.get(app) === settled) this.locks.delete(app);
    });
    return next;
  }
}

/** Ready means: reconciled at the current generation, every service's replicas ready, every database ready. */
export function isReady(record: Pick<AppRecord, 'generation' | 'spec'>, status: AppStatus): boolean {
  if (status.observedGeneration < record.generation) return false;
  if (status.conditions.length) return isConditionTrue(status, 'Ready');
  return (
    record.spec.services.every((s) => (status.services.find((x) => x.name === s.name)?.readyReplicas ?? 0) >= s.replicas) &&
    record.spec.databases.every((d) => status.databases.find((x) => x.name === d.name)?.ready === true)
  );
}

function knownName(record: AppRecord, name: string): void {
  if (record.spec.services.some((s) => s.name === name) || record.spec.databases.some((d) => d.name === name)) return;
  const services = record.spec.services.map((s) => s.name).join(', ') || 'none';
  const databases = record.spec.databases.map((d) => d.name).join(', ') || 'none';
  throw new Error(`App "${record.name}" has no service or database "${name}" (services: ${services}; databases: ${databases})`);
}

/** A Lua table decoded from JSON may be an empty list where an object was meant. */
function plainObject(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.length === 0) return {};
  return value as Record<string, string>;
}

const address = (e: { host: string; port: number } | null | undefined) => (e ? `${e.host}:${e.port}` : null);

/** A service's status as Lua sees it (snake_case, addresses as "host:port"). */
function luaService(s: ServiceStatus | null): Record<string, unknown> | null {
  if (!s) return null;
  return {
    name: s.name,
    version: s.version,
    replicas: s.replicas,
    ready_replicas: s.readyReplicas,
    ready: s.readyReplicas >= s.replicas,
    restarts: s.restarts,
    endpoint: address(s.endpoint),
    ports: Object.fromEntries(Object.entries(s.ports ?? {}).map(([k, v]) => [k, address(v)])),
    pids: (s.replicaStatuses ?? []).map((r) => r.pid),
  };
}

function luaApp(record: AppRecord, status: AppStatus): Record<string, unknown> {
  return {
    name: record.name,
    generation: record.generation,
    observed_generation: status.observedGeneration,
    ready: isReady(record, status),
    services: Object.fromEntries(status.services.map((s) => [s.name, luaService(s)])),
    databases: Object.fromEntries(
      status.databases.map((d) => [d.name, { name: d.name, ready: d.ready, endpoint: address(d.endpoint), engine: d.engine, initialized_at: d.initializedAt }]),
    ),
    conditions: status.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
  };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
