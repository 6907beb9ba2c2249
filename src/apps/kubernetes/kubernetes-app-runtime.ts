/**
 * Where an App runs on Kubernetes: the `App` resource is its record, and the App
 * reconciler (`controller/app-reconciler.ts`, run by the leader) turns it into
 * Deployments, StatefulSets, Services, Secrets and Jobs and writes its status. This
 * runtime is the API side of that: it writes specs to the resource, reads status from
 * it (an informer cache, so every topas instance answers), and does the `sut`
 * operations that act on the children directly — a rollout restart, deleting a Pod,
 * reading Pod logs.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { APP_API_VERSION, APP_KIND, parseAppSpec, type AppSpec, type AppStatus, type Endpoint, type ServiceStatus } from '../../core/app.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { TopasError } from '../../core/errors.js';
import { APP_COMPONENT_LABEL, APP_LABEL } from '../../kubernetes/app/app-child-meta.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Informer } from '../../kube/informer.js';
import { isConflict, KubeApiError, RESOURCES, type KubeApi, type KubeObject } from '../../kube/kube-api.js';
import { deploymentRolloutMessage } from '../../kubernetes/app/app-status.js';
import type { AppRecords, AppRuntime } from '../app-runtime.js';

/** The Pod template annotation `kubectl rollout restart` sets; the reconciler keeps it. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export interface KubernetesAppRuntimeOptions {
  api: KubeApi;
  /** Where Apps (and their children) live: topas's namespace. */
  namespace: string;
  /** The App resources of `namespace` (started by the caller). */
  apps: Informer<KubeObject>;
  log?: Logger;
  /** The clock (tests). */
  now?: () => Date;
}

/** How long `restart()` waits for the rollout (as the local runtime). */
const RESTART_TIMEOUT_MS = 120_000;

type DeploymentObject = V1Deployment & KubeObject;

/** An App resource as read. */
export interface AppObject extends KubeObject {
  spec?: unknown;
  status?: Partial<AppStatus> & Record<string, unknown>;
}


export class KubernetesAppRuntime implements AppRuntime {
  readonly records: AppRecords;
  /** What `records.write` wrote last per App, until the informer has caught up with it. */
  private readonly written = new Map<string, AppObject>();
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: KubernetesAppRuntimeOptions) {
    this.log = o.log ?? silentLogger;
    this.now = o.now ?? (() => new Date());
    this.records = { write: (app) => this.write(app) };
  }

  /** Creates the App resource or updates its spec, labels and annotations; at most a few tries on a 409. */
  private async write(app: { name: string; spec: AppSpec; labels: Record<string, string>; annotations: Record<string, string> }): Promise<{ generation: number }> {
    const { api, namespace } = this.o;
    for (let attempt = 0; ; attempt++) {
      const live = await api.find<AppObject>(RESOURCES.app, namespace, app.name);
      if (!live) {
        const created = await api.create<AppObject>(RESOURCES.app, namespace, {
          apiVersion: APP_API_VERSION,
          kind: APP_KIND,
          metadata: { name: app.name, namespace, labels: app.labels, annotations: app.annotations },
          spec: app.spec,
        });
        this.written.set(app.name, created);
        return { generation: created.metadata.generation ?? 1 };
      }
      const sameSpec = canonicalJson(liveSpec(live)) === canonicalJson(app.spec);
      const sameMeta = canonicalJson(live.metadata.labels ?? {}) === canonicalJson(app.labels) && canonicalJson(live.metadata.annotations ?? {}) === canonicalJson(app.annotations);
      if (sameSpec && sameMeta) return { generation: live.metadata.generation ?? 1 };
      try {
        const updated = await api.update<AppObject>(RESOURCES.app, namespace, {
          ...live,
          metadata: { ...live.metadata, labels: app.labels, annotations: app.annotations },
          spec: app.spec,
        });
        this.written.set(app.name, updated);
        return { generation: updated.metadata.generation ?? 1 };
      } catch (error) {
        if (!isConflict(error) || attempt >= 4) throw error;
      }
    }
  }

  /** The reconciler converges from the resource `records.write` wrote: nothing to do here. */
  async apply(): Promise<void> {}

  status(name: string): AppStatus | null {
    const app = this.app(name);
    return app ? statusOf(app) : null;
  }


  waitReady(app: string, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ServiceStatus> {
    return new Promise<ServiceStatus>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, value?: ServiceStatus) => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        if (error) reject(error);
        else resolve(value!);
      };
      const check = () => {
        const live = this.app(app);
        const ready = live ? readyService(live, service) : null;
        if (ready) finish(null, ready);
      };
      const aborted = () => finish(new TopasError('Aborted', `stopped waiting for service "${service}" of App "${app}"`));
      const off = this.o.apps.on((_type, object) => {
        if (object.metadata.name === app) check();
      });
      timer = setTimeout(() => finish(new TopasError('NotReady', `service "${service}" of App "${app}" is not ready after ${Math.round(timeoutMs / 1000)} s: ${this.notReadyReason(app, service)}`)), timeoutMs);
      signal?.addEventListener('abort', aborted, { once: true });
      check();
    });
  }

  async kill(app: string, service: string, replica = 0): Promise<{ pid: number | null; pod: string }> {
    const pods = await this.pods(app, service);
    const running = pods.filter((p) => !p.metadata.deletionTimestamp);
    const pod = running[replica];
    if (!pod) throw new TopasError('NoSuchReplica', `${service}: replica ${replica} is not running (${running.length} Pod(s): ${running.map((p) => p.metadata.name).join(', ') || 'none'})`);
    await this.o.api.delete(RESOURCES.pod, this.o.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
    this.log('info', 'app: deleted a Pod', { app, service, pod: pod.metadata.name });
    return { pid: null, pod: pod.metadata.name };
  }

  /**
   * `kubectl rollout restart`: a new Pod template annotation rolls every Pod. Resolves,
   * as the local runtime's does, once the rollout is done (`kubectl rollout status`):
   * the App's generation does not change, so a `waitReady` right after the patch would
   * answer from the status of the Pods being replaced.
   */
  async restart(app: string, service: string): Promise<void> {
    this.mustHaveService(app, service);
    const patched = await this.o.api.patch<DeploymentObject>(RESOURCES.deployment, this.o.namespace, service, {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: this.now().toISOString() } } } },
    });
    this.log('info', 'app: restarting a service', { app, service });
    await this.waitRolledOut(app, service, patched.metadata.generation ?? 0, RESTART_TIMEOUT_MS);
  }

  /** The last lines of each of the service's Pods' logs, each line prefixed with its Pod's name. */
  async logs(app: string, service: string, options: { tail?: number } = {}): Promise<string[]> {
    const lines: string[] = [];
    for (const pod of await this.pods(app, service)) {
      const text = await this.o.api.podLog(this.o.namespace, pod.metadata.name, options.tail !== undefined ? { tailLines: options.tail } : {}).catch((error: Error) => `(no log: ${error.message})`);
      for (const line of text.split('\n')) if (line) lines.push(`[${pod.metadata.name}] ${line}`);
    }
    return options.tail !== undefined ? lines.slice(-options.tail) : lines;
  }

  endpoint(app: string, name: string, port?: number): Endpoint | null {
    const live = this.app(app);
    if (!live) return null;
    const status = statusOf(live);
    const database = status.databases.find((d) => d.name === name);
    if (database) return database.endpoint;
    const service = status.services.find((s) => s.name === name);
    if (!service) return null;
    if (port === undefined) return service.endpoint;
    const spec = safeSpec(live)?.services.find((s) => s.name === name);
    if (spec && port === spec.port) return service.endpoint;
    const named = spec?.ports?.find((p) => p.port === port);
    return named ? (service.ports?.[named.name] ?? null) : null;
  }

  /** Deletes the App resource; the API server's garbage collector deletes its children (owner references). */
  async delete(name: string): Promise<void> {
    await this.o.api.delete(RESOURCES.app, this.o.namespace, name, { propagationPolicy: 'Background' });
  }

  /** Nothing runs in this process; the informer belongs to the caller. */
  async close(): Promise<void> {}

  onStatus(listener: (name: string, status: AppStatus) => void): () => void {
    return this.o.apps.on((type, object) => {
      if (type !== 'delete' && object.metadata.namespace === this.o.namespace && (object as AppObject).status) listener(object.metadata.name, statusOf(object as AppObject));
    });
  }

  // --- internals ---------------------------------------------------------------

  /**
   * The App resource as last seen: the informer's copy, or our own write when the
   * informer has not seen that generation yet (so a `sut` change is never answered with
   * the status of the spec before it).
   */
  private app(name: string): AppObject | undefined {
    const cached = this.o.apps.get(this.o.namespace, name) as AppObject | undefined;
    const own = this.written.get(name);
    if (own && (!cached || (cached.metadata.generation ?? 0) < (own.metadata.generation ?? 0))) return own;
    this.written.delete(name);
    return cached;
  }

  private mustHaveService(app: string, service: string): void {
    const spec = this.app(app) && safeSpec(this.app(app)!);
    if (!spec?.services.some((s) => s.name === service)) throw new TopasError('NotFound', `App "${app}" has no service "${service}" on the cluster`);
  }

  /** The service's Pods, oldest first (replica 0 is the oldest). */
  private async pods(app: string, service: string): Promise<KubeObject[]> {
    this.mustHaveService(app, service);
    const list = await this.o.api.list(RESOURCES.pod, this.o.namespace, { labelSelector: `${APP_LABEL}=${app},${APP_COMPONENT_LABEL}=${service}` });
    return list.items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }

  /**
   * Until the service's Deployment has rolled out `generation` (seen by its controller,
   * every replica updated, available, no old one left); watches the one Deployment.
   */
  private async waitRolledOut(app: string, service: string, generation: number, timeoutMs: number): Promise<void> {
    const { api, namespace } = this.o;
    const done = (d: DeploymentObject) => (d.status?.observedGeneration ?? 0) >= generation && deploymentRolloutMessage(d) === null;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await api.find<DeploymentObject>(RESOURCES.deployment, namespace, service);
      if (!current) throw new TopasError('NotFound', `the Deployment of service "${service}" of App "${app}" is gone`);
      if (done(current)) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TopasError('NotReady', `service "${service}" of App "${app}" did not finish its restart within ${Math.round(timeoutMs / 1000)} s: ${deploymentRolloutMessage(current) ?? 'waiting for the Deployment controller'}`);
      }
      // Watch from what was read until the rollout is done, the Deployment is gone, or time is up; then read again.
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), left);
      try {
        await api.watch<DeploymentObject>(
          RESOURCES.deployment,
          namespace,
          { fieldSelector: `metadata.name=${service}`, resourceVersion: current.metadata.resourceVersion, timeoutSeconds: Math.max(1, Math.ceil(left / 1000)) },
          (e) => {
            if (e.type === 'DELETED' || (e.type !== 'BOOKMARK' && done(e.object))) stop.abort();
          },
          stop.signal,
        );
      } catch (error) {
        // An aborted watch is how it ends here; a Gone (410) or a dropped connection reads again; a refusal (403) is the answer.
        if (!stop.signal.aborted) {
          if (error instanceof KubeApiError && error.status !== 410) throw error;
          this.log('warn', 'app: watching a restart was interrupted; reading again', { app, service, error: (error as Error).message });
        }
      } finally {
        clearTimeout(timer);
      }
    }
  }

  private notReadyReason(app: string, service: string): string {
    const live = this.app(app);
    if (!live) return 'the App resource is gone';
    const status = statusOf(live);
    if ((live.metadata.generation ?? 0) > status.observedGeneration) return `the controller has not seen generation ${live.metadata.generation} yet`;
    const s = status.services.find((x) => x.name === service);
    if (!s) return 'it has no status yet';
    return s.message ?? `${s.readyReplicas}/${s.replicas} ready, ${s.updatedReplicas ?? 0} updated`;
  }
}

function liveSpec(app: AppObject): unknown {
  return safeSpec(app) ?? app.spec;
}

/** The resource's spec with the schema's defaults, or null when it does not validate. */
function safeSpec(app: AppObject): AppSpec | null {
  try {
    return parseAppSpec(app.spec ?? {});
  } catch {
    return null;
  }
}

/** The App resource's status in the core shape (what the reconciler wrote), or an empty status. */
export function statusOf(app: AppObject): AppStatus {
  const s = app.status ?? {};
  const status: AppStatus = {
    ...(s as Partial<AppStatus>),
    observedGeneration: typeof s.observedGeneration === 'number' ? s.observedGeneration : 0,
    services: Array.isArray(s.services) ? s.services : [],
    databases: Array.isArray(s.databases) ? s.databases : [],
    conditions: Array.isArray(s.conditions) ? s.conditions : [],
  };
  // The spec is ahead of what the reconciler has seen: a service says what it is being rolled to (as locally).
  const spec = status.observedGeneration < (app.metadata.generation ?? 0) ? safeSpec(app) : null;
  if (spec) {
    status.services = status.services.map((svc) => {
      const desired = spec.services.find((x) => x.name === svc.name);
      return desired ? { ...svc, version: desired.version, replicas: desired.replicas } : svc;
    });
  }
  return status;
}

/**
 * The service's status when its rollout is done, as `kubectl rollout status` decides:
 * the reconciler has seen the App's generation and every replica runs the current
 * spec and is ready. Null otherwise.
 */
export function readyService(app: AppObject, service: string): ServiceStatus | null {
  const status = statusOf(app);
  if (status.observedGeneration < (app.metadata.generation ?? 0)) return null;
  const s = status.services.find((x) => x.name === service);
  if (!s) return null;
  const updated = s.updatedReplicas ?? s.readyReplicas;
  return s.readyReplicas >= s.replicas && updated >= s.replicas && !s.message ? s : null;
}
