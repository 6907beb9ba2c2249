/**
 * The ReplicaSet controller of the test cluster, as kube-controller-manager's
 * runs it for what topas uses. It watches ReplicaSets and Pods (in process,
 * from the API server's change stream) and, level-triggered, keeps each
 * ReplicaSet's count of active Pods (not being deleted, not Succeeded/Failed)
 * at `spec.replicas`:
 * - missing Pods are created from the template, named `<rs>-<random>` through
 *   `generateName`, with the template's labels and annotations and a controller
 *   owner reference to the ReplicaSet (so deleting the ReplicaSet deletes them,
 *   through the garbage collector); a deleted or Failed Pod is thereby replaced;
 * - excess Pods are deleted (gracefully), the least useful first: unscheduled,
 *   then Pending, then not ready, then the most recently ready, then the newest;
 * - the status is written as the real controller writes it: `replicas`,
 *   `fullyLabeledReplicas`, `readyReplicas`, `availableReplicas` (Ready for
 *   `minReadySeconds`; the ReplicaSet is synced again when a Pod becomes
 *   available), `observedGeneration`;
 * - Events `SuccessfulCreate` / `SuccessfulDelete` / `FailedCreate`.
 *
 * Pods with no controller whose labels match the selector are adopted (a
 * controller owner reference added), as the real controller claims them.
 *
 * It runs inside the API server's process and reads and writes through its
 * object service (the real one is an HTTP client with informers).
 *
 * It does NOT do: release of owned Pods that stop matching the selector; the
 * `ReplicaFailure` condition; expectations and slow-start batching (creations
 * happen at once, in one pass); `terminatingReplicas`.
 */
import { selectorMatches } from '../api-server/apps-kinds.js';
import type { JsonObject } from '../api-server/errors.js';
import type { ObjectService } from '../api-server/object-service.js';
import type { ResourceType } from '../api-server/resource-type.js';
import type { StoreEvent } from '../api-server/watch-hub.js';
import { claim, controllerRef, isActivePod, isPodReady, keyOf, msUntilAvailable, ownerRefTo, recordEvent, splitKey, SyncQueue, type ControllerLog } from './apps-controller-kit.js';

const component = 'replicaset-controller';

export class ReplicaSetController {
  private readonly replicaSets: ResourceType;
  private readonly pods: ResourceType;
  private readonly queue: SyncQueue;
  private unsubscribe?: () => void;

  constructor(
    private readonly service: ObjectService,
    private readonly log: ControllerLog = () => {},
  ) {
    this.replicaSets = service.registry.find('apps', 'v1', 'replicasets')!;
    this.pods = service.registry.find('', 'v1', 'pods')!;
    this.queue = new SyncQueue(
      (key) => this.sync(key),
      (key, error) => this.log('replicaset sync failed', { replicaSet: key, error: String(error) }),
    );
  }

  /** Starts watching and syncs every ReplicaSet once. */
  start(): void {
    this.unsubscribe = this.service.store.hub.subscribe((e) => this.observe(e));
    for (const rs of this.service.store.list(this.replicaSets.storageKey)) this.queue.add(keyOf(rs));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private observe(e: StoreEvent): void {
    if (e.storageKey === this.replicaSets.storageKey) return this.queue.add(keyOf(e.object));
    if (e.storageKey !== this.pods.storageKey) return;
    for (const pod of [e.object, e.previous]) {
      const ref = pod && controllerRef(pod);
      if (ref?.kind === 'ReplicaSet' && String(ref.apiVersion).startsWith('apps/')) this.queue.add(`${e.namespace}/${ref.name}`);
    }
    // An orphan Pod may be adopted by a ReplicaSet whose selector matches it.
    if (e.type !== 'DELETED' && !controllerRef(e.object)) {
      for (const rs of this.service.store.list(this.replicaSets.storageKey, e.namespace)) {
        if (selectorMatches(rs.spec?.selector, e.object.metadata.labels)) this.queue.add(keyOf(rs));
      }
    }
  }

  /** The Pods whose controller is `rs`, after adopting matching orphans. */
  private ownedPods(rs: JsonObject): JsonObject[] {
    return claim(this.service, this.pods, rs, this.service.store.list(this.pods.storageKey, rs.metadata.namespace), 'apps/v1', 'ReplicaSet');
  }

  private sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const rs = this.service.store.get(this.replicaSets.storageKey, namespace, name);
    if (!rs) return;
    const pods = this.ownedPods(rs);
    const active = pods.filter(isActivePod);
    if (!rs.metadata.deletionTimestamp) {
      const diff = active.length - (rs.spec?.replicas ?? 0);
      if (diff < 0) for (let i = 0; i < -diff; i++) this.createPod(rs);
      else if (diff > 0) for (const pod of rankForDeletion(active).slice(0, diff)) this.deletePod(rs, pod);
    }
    this.writeStatus(key, rs);
  }

  private createPod(rs: JsonObject): void {
    const template = rs.spec.template ?? {};
    const pod = {
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [ownerRefTo(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: structuredClone(template.spec),
    };
    try {
      const created = this.service.create(this.pods, rs.metadata.namespace, pod).object;
      recordEvent(this.service, { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' }, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, component);
    } catch (error) {
      recordEvent(this.service, { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' }, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`, component);
      throw error;
    }
  }

  private deletePod(rs: JsonObject, pod: JsonObject): void {
    this.service.delete(this.pods, pod.metadata.namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
    recordEvent(this.service, { ...rs, kind: 'ReplicaSet', apiVersion: 'apps/v1' }, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, component);
  }

  /** Counts the (re-read) owned Pods into the status; syncs again when a ready Pod is about to become available. */
  private writeStatus(key: string, stale: JsonObject): void {
    const rs = this.service.store.get(this.replicaSets.storageKey, stale.metadata.namespace, stale.metadata.name);
    if (!rs) return;
    const active = this.ownedPods(rs).filter(isActivePod);
    const now = Date.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
    let ready = 0;
    let available = 0;
    let nextAvailable = Infinity;
    for (const pod of active) {
      if (!isPodReady(pod)) continue;
      ready++;
      const wait = msUntilAvailable(pod, minReady, now);
      if (wait === 0) available++;
      else nextAvailable = Math.min(nextAvailable, wait);
    }
    const fullyLabeled = active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
    // Zero counts are left out, as Go's `omitempty` leaves them out (`replicas` is always there).
    const status: JsonObject = { replicas: active.length };
    if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
    if (ready) status.readyReplicas = ready;
    if (available) status.availableReplicas = available;
    status.observedGeneration = rs.metadata.generation;
    if (rs.status?.conditions) status.conditions = rs.status.conditions;
    this.service.update(this.replicaSets, rs.metadata.namespace, rs.metadata.name, { ...rs, status }, { subresource: 'status' });
    if (nextAvailable !== Infinity) this.queue.addAfter(key, nextAvailable + 50);
  }
}

/** Pods in the order the real controller deletes them (`controller.ActivePods`' ranking, least useful first). */
function rankForDeletion(pods: JsonObject[]): JsonObject[] {
  const phaseRank = (p: JsonObject) => (p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Unknown' ? 1 : 2);
  const readySince = (p: JsonObject) => Date.parse((p.status?.conditions ?? []).find((c: JsonObject) => c.type === 'Ready')?.lastTransitionTime ?? '') || 0;
  return [...pods].sort((a, b) => {
    const scheduled = Number(!!a.spec?.nodeName) - Number(!!b.spec?.nodeName);
    if (scheduled) return scheduled;
    const phase = phaseRank(a) - phaseRank(b);
    if (phase) return phase;
    const ready = Number(isPodReady(a)) - Number(isPodReady(b));
    if (ready) return ready;
    // Ready for less time first, then the newer Pod first.
    if (isPodReady(a) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    return Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp);
  });
}
