/**
 * The App reconciler (run by the leader): keeps each `App` resource's children —
 * per service a Deployment and a Service, per database a StatefulSet, a Service, a
 * credentials Secret and a one-time init Job — as the spec says
 * (`kubernetes/app/app-children.ts`), and writes the App's status from them.
 *
 * Level-triggered and idempotent: a reconcile reads the App and its children from
 * informer caches, creates what is missing, patches what drifted (a hand-edited image,
 * replicas or env is put back), deletes children the spec no longer has (prune), and
 * writes the status only when it changed — a reconcile with nothing to do makes no
 * write. It also keeps the store's copy of the App (runs and the REST API read Apps
 * from the store) at the resource's spec and generation, and records Events on the
 * App for what it did. A denied request (403) shows as `Degraded` with reason
 * `Forbidden` and a Warning Event naming what was refused.
 */
import type { V1Deployment, V1Job, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { APP_API_VERSION, APP_KIND, parseAppSpec, setCondition, type AppSpec, type AppStatus } from '../core/app.js';
import { ValidationError } from '../core/errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import { Informer } from '../kube/informer.js';
import { isAlreadyExists, isNotFound, KubeApiError, RESOURCES, type KubeApi, type KubeObject, type ResourceType } from '../kube/kube-api.js';
import { APP_COMPONENT_LABEL, APP_LABEL, childKey, credentialsSecretName, type AppObject } from '../kubernetes/app/app-child-meta.js';
import { appChildren, appliedInitSql, type AppChild } from '../kubernetes/app/app-children.js';
import { appStatusFromChildren, type ChildProblem } from '../kubernetes/app/app-status.js';
import { diffChild, isOwnedBy } from '../kubernetes/app/child-diff.js';
import type { Store } from '../store/store.js';
import { Controller, TerminalError, type ReconcileResult } from './controller.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { EVENT_COMPONENT } from './testrun-event.js';

export interface AppReconcilerOptions {
  api: KubeApi;
  /** Topas's namespace: Apps and their children live here. */
  namespace: string;
  /** The App resources of `namespace` (shared with the runtime; started by the caller). */
  apps: Informer<KubeObject>;
  /** Pods managed by topas (shared; started by the caller); App Pods carry `topas.dev/app`. */
  pods: Informer<KubeObject>;
  /** The store's copy of each App. */
  store: Pick<Store, 'getApp' | 'putApp' | 'listApps' | 'deleteApp'>;
  metrics?: ControllerMetrics;
  log?: Logger;
  /** Named in Events as the reporting instance. */
  instanceId?: string;
  /** Every App is reconciled again this often even when nothing was seen to change. Default 60 s. */
  resyncMs?: number;
  /** Apps reconciled at once. Default 2. */
  workers?: number;
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  now?: () => Date;
}

export interface RunningAppReconciler {
  /** Resolves once every cache is listed and the workers run. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** The kinds of an App's children, and where they are found. */
const CHILD_KINDS = {
  Deployment: RESOURCES.deployment,
  StatefulSet: RESOURCES.statefulSet,
  Service: RESOURCES.service,
  Job: RESOURCES.job,
  Secret: RESOURCES.secret,
  ConfigMap: RESOURCES.configMap,
} as const satisfies Record<string, ResourceType>;
type ChildKind = keyof typeof CHILD_KINDS;
/**
 * Kinds watched (label `topas.dev/app`). Secrets and ConfigMaps are not: listing or
 * watching them would need `list`/`watch` on every Secret the controller can see, so
 * they are read by name (the spec says which) — a steady-state reconcile reads them,
 * and still writes nothing.
 */
type WatchedKind = 'Deployment' | 'StatefulSet' | 'Service' | 'Job';
const isWatched = (kind: ChildKind): kind is WatchedKind => kind !== 'Secret' && kind !== 'ConfigMap';

export function startAppReconciler(options: AppReconcilerOptions): RunningAppReconciler {
  const r = new AppReconciler(options);
  r.start();
  return r;
}


/** What this reconciler wrote last of an object, so a reconcile before the informer caught up reads its own write. */
interface OwnWrite {
  /** resourceVersions (or '' for "did not exist") the write superseded. */
  superseded: Set<string>;
  object: KubeObject | null;
}

class AppReconciler implements RunningAppReconciler {
  readonly ready: Promise<void>;
  private readonly controller: Controller;
  private readonly children: Record<WatchedKind, Informer<KubeObject>>;
  private readonly writes = new Map<string, OwnWrite>();
  private readonly log: Logger;
  private readonly now: () => Date;
  private offs: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly o: AppReconcilerOptions) {
    this.log = o.log ?? silentLogger;
    this.now = o.now ?? (() => new Date());
    const informer = (type: ResourceType) => new Informer<KubeObject>(o.api, type, { namespace: o.namespace, labelSelector: APP_LABEL, log: this.log });
    this.children = {
      Deployment: informer(CHILD_KINDS.Deployment),
      StatefulSet: informer(CHILD_KINDS.StatefulSet),
      Service: informer(CHILD_KINDS.Service),
      Job: informer(CHILD_KINDS.Job),
    };
    this.controller = new Controller({
      name: 'app',
      reconcile: (k) => this.reconcile(k),
      workers: o.workers ?? 2,
      ...(o.retry ? { queue: o.retry } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
      log: this.log,
    });
    this.ready = Promise.all([o.apps.synced, o.pods.synced, ...Object.values(this.children).map((i) => i.synced)]).then(() => {});
  }

  start(): void {
    const enqueueApp = (_t: string, app: KubeObject) => {
      if (app.metadata.namespace === this.o.namespace) this.controller.queue.add(app.metadata.name);
    };
    const enqueueOwner = (_t: string, child: KubeObject) => {
      const app = child.metadata.labels?.[APP_LABEL];
      if (app && child.metadata.namespace === this.o.namespace) this.controller.queue.add(app);
    };
    this.offs.push(this.o.apps.on(enqueueApp), this.o.pods.on(enqueueOwner));
    for (const i of Object.values(this.children)) {
      this.offs.push(i.on(enqueueOwner));
      i.start();
    }
    void this.ready.then(async () => {
      if (this.stopped) return;
      await this.forgetVanished().catch((error: unknown) => this.log('warn', 'app reconciler: pruning stored Apps failed', { error: errorField(error) }));
      for (const app of this.o.apps.list()) enqueueApp('add', app);
      this.controller.start();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.offs) off();
    await this.controller.stop();
    await Promise.all(Object.values(this.children).map((i) => i.stop()));
  }

  // --- reading: caches overlaid with our own recent writes ------------------------

  private cached(kind: WatchedKind, name: string): KubeObject | null {
    const key = `${kind}/${name}`;
    const cached = this.children[kind].get(this.o.namespace, name) ?? null;
    const own = this.writes.get(key);
    if (own && own.superseded.has(cached?.metadata.resourceVersion ?? '')) return own.object;
    this.writes.delete(key);
    return cached;
  }

  private remember(kind: ChildKind, name: string, before: KubeObject | null, after: KubeObject | null): void {
    const key = `${kind}/${name}`;
    const own = this.writes.get(key);
    const superseded = own && (own.object?.metadata.resourceVersion ?? '') === (before?.metadata.resourceVersion ?? '') ? own.superseded : new Set<string>();
    superseded.add(before?.metadata.resourceVersion ?? '');
    this.writes.set(key, { superseded, object: after });
  }

  /** The App's children of one kind (label `topas.dev/app`), our own writes included. */
  private childrenOf<T>(kind: WatchedKind, app: string): T[] {
    const names = new Set(this.children[kind].list().filter((o) => o.metadata.labels?.[APP_LABEL] === app).map((o) => o.metadata.name));
    for (const key of this.writes.keys()) if (key.startsWith(`${kind}/`)) names.add(key.slice(kind.length + 1));
    return [...names]
      .map((n) => this.cached(kind, n))
      .filter((o): o is KubeObject => o !== null && o.metadata.labels?.[APP_LABEL] === app) as T[];
  }

  // --- the reconcile ----------------------------------------------------------------

  private async reconcile(name: string): Promise<ReconcileResult | void> {
    const { api, namespace } = this.o;
    const resource = this.o.apps.get(namespace, name) as (KubeObject & { spec?: unknown; status?: AppStatus }) | undefined;
    if (!resource) {
      // Gone: the garbage collector deletes its children (owner references); the store forgets it.
      if (await this.o.store.deleteApp(name)) this.log('info', 'app deleted', { app: name });
      return;
    }
    if (resource.metadata.deletionTimestamp) return;
    const uid = resource.metadata.uid!;
    const generation = resource.metadata.generation ?? 1;
    let spec: AppSpec;
    try {
      spec = parseAppSpec(resource.spec ?? {});
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      await this.writeStatus(resource, invalidSpecStatus(resource.status, generation, error.message, this.now()));
      throw new TerminalError(`App ${name}: ${error.message}`);
    }
    await this.mirror(resource, spec, generation);

    const app: AppObject = { name, namespace, uid, generation, spec, status: resource.status ?? null };
    const jobs = this.childrenOf<V1Job>('Job', name);
    const desired = appChildren(app, { appliedInitSql: appliedInitSql(resource.status, jobs) });
    const problems: ChildProblem[] = [];
    const desiredKeys = new Set<string>();
    for (const child of desired) {
      desiredKeys.add(childKey(child));
      await this.converge(resource, child, problems);
    }
    await this.prune(resource, spec, desiredKeys, problems);

    const status = appStatusFromChildren({
      app,
      deployments: this.childrenOf<V1Deployment>('Deployment', name),
      statefulSets: this.childrenOf<V1StatefulSet>('StatefulSet', name),
      jobs: this.childrenOf<V1Job>('Job', name),
      services: this.childrenOf<V1Service>('Service', name),
      pods: this.o.pods.list().filter((p) => p.metadata.namespace === namespace && p.metadata.labels?.[APP_LABEL] === name) as unknown as V1Pod[],
      now: this.now(),
      problems,
    });
    await this.writeStatus(resource, status);
    if (problems.some((p) => p.reason === 'Forbidden')) return { requeueAfterMs: 10_000 };
    return { requeueAfterMs: this.o.resyncMs ?? 60_000 };
  }

  /** Creates or patches one desired child; a conflict or a 403 becomes a problem the status shows. */
  private async converge(app: KubeObject, child: AppChild, problems: ChildProblem[]): Promise<void> {
    const kind = child.kind as ChildKind;
    const name = child.metadata.name;
    let live = isWatched(kind) ? this.cached(kind, name) : await this.o.api.find(CHILD_KINDS[kind], this.o.namespace, name);
    let diff = diffChild(child, live, { name: app.metadata.name, uid: app.metadata.uid! });
    if (diff.action === 'conflict' && isWatched(kind)) {
      // Before reporting a conflict, ask the API server: the cache may still hold what the
      // garbage collector has just deleted (the children of an earlier App of this name).
      live = await this.o.api.find(CHILD_KINDS[kind], this.o.namespace, name);
      diff = diffChild(child, live, { name: app.metadata.name, uid: app.metadata.uid! });
    }
    const component = child.metadata.labels?.[APP_COMPONENT_LABEL];
    try {
      switch (diff.action) {
        case 'none':
          return;
        case 'conflict':
          problems.push({ ...(component ? { component } : {}), reason: 'ChildConflict', message: diff.message });
          return;
        case 'create': {
          let created: KubeObject;
          try {
            created = await this.o.api.create(CHILD_KINDS[kind], this.o.namespace, child as unknown as KubeObject);
          } catch (error) {
            if (isAlreadyExists(error)) return; // the cache is behind; the watch brings it
            throw error;
          }
          if (isWatched(kind)) this.remember(kind, name, live, created);
          await this.event(app, 'Created', `Created ${kind} ${name}`);
          return;
        }
        case 'update': {
          let updated: KubeObject;
          try {
            updated = await this.o.api.patch(CHILD_KINDS[kind], this.o.namespace, name, child);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            // Deleted since the cache saw it: made again.
            updated = await this.o.api.create(CHILD_KINDS[kind], this.o.namespace, child as unknown as KubeObject);
          }
          if (isWatched(kind)) this.remember(kind, name, live, updated);
          const what = diff.reason === 'Drifted' ? `Put back ${kind} ${name} (changed by hand: ${diff.fields.slice(0, 5).join(', ')})` : `Updated ${kind} ${name}`;
          await this.event(app, diff.reason === 'Drifted' ? 'Reverted' : 'Updated', what, diff.reason === 'Drifted' ? 'Warning' : 'Normal');
          return;
        }
      }
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 403) {
        problems.push({ ...(component ? { component } : {}), reason: 'Forbidden', message: error.message });
        await this.event(app, 'Forbidden', error.message, 'Warning');
        return;
      }
      throw error;
    }
  }

  /**
   * Deletes the App's children the spec no longer has (its own only). An init Job (and
   * its ConfigMap) of a database still there is history, kept. Secrets and ConfigMaps
   * are not watched: a removed database's credentials Secret and init ConfigMaps are
   * named from its StatefulSet and Jobs.
   */
  private async prune(app: KubeObject, spec: AppSpec, desired: Set<string>, problems: ChildProblem[]): Promise<void> {
    const databases = new Set(spec.databases.map((d) => d.name));
    const doomed: { kind: ChildKind; object: KubeObject; component?: string }[] = [];
    for (const kind of ['Deployment', 'StatefulSet', 'Service', 'Job'] as const) {
      for (const live of this.childrenOf<KubeObject>(kind, app.metadata.name)) {
        if (desired.has(childKey(live, kind)) || !isOwnedBy(live, app.metadata.uid!)) continue;
        const component = live.metadata.labels?.[APP_COMPONENT_LABEL];
        if (kind === 'Job' && component && databases.has(component)) continue;
        doomed.push({ kind, object: live, ...(component ? { component } : {}) });
        if (component && !databases.has(component) && kind === 'StatefulSet') {
          doomed.push({ kind: 'Secret', object: { metadata: { name: credentialsSecretName(app.metadata.name, component) } }, component });
        }
        if (kind === 'Job') doomed.push({ kind: 'ConfigMap', object: { metadata: { name: live.metadata.name } }, ...(component ? { component } : {}) });
      }
    }
    for (const { kind, object, component } of doomed) {
      try {
        const gone = await this.o.api.delete(CHILD_KINDS[kind], this.o.namespace, object.metadata.name, { propagationPolicy: 'Background' });
        if (isWatched(kind)) this.remember(kind, object.metadata.name, object, null);
        if (gone) await this.event(app, 'Deleted', `Deleted ${kind} ${object.metadata.name} (no longer in the spec)`);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 403) {
          problems.push({ ...(component ? { component } : {}), reason: 'Forbidden', message: error.message });
          continue;
        }
        throw error;
      }
    }
  }

  /** Writes `status` (merge patch of the status subresource) unless the App already has it. */
  private async writeStatus(app: KubeObject & { status?: unknown }, status: AppStatus): Promise<void> {
    const old = (app.status ?? {}) as Record<string, unknown>;
    if (canonicalJson(old) === canonicalJson(status)) return;
    const patch: Record<string, unknown> = { ...status };
    for (const field of Object.keys(old)) if (!(field in patch)) patch[field] = null;
    try {
      await this.o.api.patch(RESOURCES.app, this.o.namespace, app.metadata.name, { status: patch }, 'status');
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return; // deleted meanwhile
      throw error;
    }
  }

  /** Keeps the store's copy of the App at the resource's spec and generation. */
  private async mirror(resource: KubeObject, spec: AppSpec, generation: number): Promise<void> {
    const stored = await this.o.store.getApp(resource.metadata.name);
    const labels = resource.metadata.labels ?? {};
    const annotations = resource.metadata.annotations ?? {};
    if (
      stored &&
      stored.generation === generation &&
      canonicalJson(stored.spec) === canonicalJson(spec) &&
      canonicalJson(stored.labels) === canonicalJson(labels) &&
      canonicalJson(stored.annotations) === canonicalJson(annotations)
    ) {
      return;
    }
    await this.o.store.putApp({ name: resource.metadata.name, spec, generation, labels, annotations, baseDir: null });
  }

  /** Stored Apps without an App resource (deleted while no leader ran) are forgotten. */
  private async forgetVanished(): Promise<void> {
    const live = new Set(this.o.apps.list().filter((a) => a.metadata.namespace === this.o.namespace).map((a) => a.metadata.name));
    for (const record of await this.o.store.listApps()) {
      if (!live.has(record.name) && (await this.o.store.deleteApp(record.name))) this.log('info', 'app deleted (its resource is gone)', { app: record.name });
    }
  }

  private async event(app: KubeObject, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    const now = this.now();
    const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await this.o.api.create(RESOURCES.event, this.o.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${app.metadata.name}.${(now.getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`, namespace: this.o.namespace },
        involvedObject: { apiVersion: APP_API_VERSION, kind: APP_KIND, name: app.metadata.name, namespace: this.o.namespace, uid: app.metadata.uid },
        reason,
        message: message.length > 1024 ? `${message.slice(0, 1023)}…` : message,
        type,
        source: { component: EVENT_COMPONENT },
        reportingComponent: EVENT_COMPONENT,
        reportingInstance: this.o.instanceId ?? 'topas',
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    } catch (error) {
      this.log('warn', 'recording an App event failed', { app: app.metadata.name, reason, error: errorField(error) });
    }
  }
}

/** The status of an App whose spec does not validate (the CRD's schema let through what zod refuses). */
function invalidSpecStatus(previous: AppStatus | undefined, generation: number, message: string, now: Date): AppStatus {
  let conditions = previous?.conditions ?? [];
  for (const [type, status] of [
    ['Ready', 'False'],
    ['Progressing', 'False'],
    ['Degraded', 'True'],
  ] as const) {
    conditions = setCondition(conditions, { type, status, reason: 'InvalidSpec', message, observedGeneration: generation }, now.toISOString());
  }
  return { observedGeneration: generation, services: previous?.services ?? [], databases: previous?.databases ?? [], conditions };
}
