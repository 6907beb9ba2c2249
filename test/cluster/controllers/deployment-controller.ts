/**
 * The Deployment controller of the test cluster, as kube-controller-manager's
 * runs it for what topas uses. It watches Deployments, ReplicaSets and Pods (in
 * process, from the API server's change stream) and, level-triggered:
 * - keeps one ReplicaSet per Pod template: `<deployment>-<pod-template-hash>`,
 *   labelled (and selecting, and templating) `pod-template-hash`, annotated
 *   `deployment.kubernetes.io/revision` (also set on the Deployment),
 *   `desired-replicas` and `max-replicas`, with a controller owner reference to
 *   the Deployment; a template that matches an old ReplicaSet (a rollback)
 *   reuses it under a new revision;
 * - RollingUpdate: scales the new ReplicaSet up within `maxSurge` and the old
 *   ones down within `maxUnavailable`, counting available Pods (Ready for
 *   `minReadySeconds`), unhealthy old Pods first — the real `rolloutRolling`;
 *   Recreate: scales the old ReplicaSets to 0, waits until their Pods are gone,
 *   then creates/scales the new one; a change of `spec.replicas` (`kubectl
 *   scale`, the scale subresource) scales the active ReplicaSet;
 * - adopts ReplicaSets with no controller that its selector matches (after
 *   `kubectl delete deploy --cascade=orphan` and a new Deployment); a
 *   ReplicaSet name taken by another template raises `status.collisionCount`,
 *   which changes the hash;
 * - keeps `revisionHistoryLimit` old (scaled-to-0) ReplicaSets once a rollout is
 *   complete and deletes older ones;
 * - writes the status as the real controller does: `observedGeneration`,
 *   `replicas`, `updatedReplicas`, `readyReplicas`, `availableReplicas`,
 *   `unavailableReplicas` (zeros left out), and the conditions `Available`
 *   (MinimumReplicasAvailable / MinimumReplicasUnavailable) and `Progressing`
 *   (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated,
 *   NewReplicaSetAvailable, ProgressDeadlineExceeded after
 *   `progressDeadlineSeconds` without progress), so `kubectl rollout status`
 *   works; Events `ScalingReplicaSet`.
 *
 * A change of `spec.replicas` in the middle of a rollout is shared out among
 * the active ReplicaSets in proportion to their size (the real `scale`); a
 * paused Deployment (`kubectl rollout pause`) is only scaled, with Progressing
 * Unknown/DeploymentPaused (DeploymentResumed on resume).
 *
 * It runs inside the API server's process and reads and writes through its
 * object service (the real one is an HTTP client with informers): it sees
 * every change, with no resync period and no rate limiting.
 *
 * It does NOT do: `rollbackTo` (the removed extensions API); release of owned
 * ReplicaSets that stop matching the selector; the real FNV hash (the hash is
 * of the same shape, but differs from a real cluster's for the same template);
 * the `ReplicaFailure` condition copied from ReplicaSets; Event aggregation.
 */
import { createHash } from 'node:crypto';
import { resolveIntOrPercent, selectorMatches } from '../api-server/apps-kinds.js';
import type { JsonObject } from '../api-server/errors.js';
import { timestamp, type ObjectService } from '../api-server/object-service.js';
import type { ResourceType } from '../api-server/resource-type.js';
import type { StoreEvent } from '../api-server/watch-hub.js';
import { claim, controllerRef, keyOf, ownerRefTo, recordEvent, splitKey, stableJson, SyncQueue, type ControllerLog } from './apps-controller-kit.js';

const component = 'deployment-controller';
const hashLabel = 'pod-template-hash';
const revisionAnnotation = 'deployment.kubernetes.io/revision';
const desiredAnnotation = 'deployment.kubernetes.io/desired-replicas';
const maxAnnotation = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations not copied to its ReplicaSets (`skipCopyAnnotation`). */
const notCopied = new Set(['kubectl.kubernetes.io/last-applied-configuration', revisionAnnotation, 'deployment.kubernetes.io/revision-history', desiredAnnotation, maxAnnotation, 'deprecated.deployment.rollback.to']);

/** The alphabet of `rand.SafeEncodeString` (no vowels, no look-alikes). */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A `pod-template-hash` for a template: a 32-bit hash of its content, its decimal digits safe-encoded (the real one is FNV-32a of the Go struct). */
export function podTemplateHash(template: JsonObject, collisionCount?: number): string {
  const digest = createHash('sha256').update(stableJson(template)).update(collisionCount === undefined ? '' : String(collisionCount)).digest();
  return [...String(digest.readUInt32BE(0))].map((ch) => safeAlphabet[ch.charCodeAt(0) % safeAlphabet.length]).join('');
}

/** A template without the `pod-template-hash` label (`EqualIgnoreHash`). */
function withoutHash(template: JsonObject | undefined): JsonObject {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[hashLabel];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return t;
}

function revisionOf(rs: JsonObject): number {
  return Number.parseInt(rs.metadata.annotations?.[revisionAnnotation] ?? '0', 10) || 0;
}

function specReplicas(rs: JsonObject | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

function sum(list: JsonObject[], f: (rs: JsonObject) => number): number {
  return list.reduce((n, rs) => n + f(rs), 0);
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

function condition(type: string, status: Condition['status'], reason: string, message: string): Condition {
  const now = timestamp();
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

function getCondition(status: JsonObject | undefined, type: string): Condition | undefined {
  return (status?.conditions ?? []).find((c: Condition) => c.type === type);
}

/** `SetDeploymentCondition`: same status and reason → unchanged; same status → the transition time kept; the condition moves to the end. */
function setCondition(status: JsonObject, c: Condition): void {
  const current = getCondition(status, c.type);
  if (current && current.status === c.status && current.reason === c.reason) return;
  if (current && current.status === c.status) c.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x: Condition) => x.type !== c.type), c];
}

function removeCondition(status: JsonObject, type: string): void {
  status.conditions = (status.conditions ?? []).filter((x: Condition) => x.type !== type);
}

/** `MaxUnavailable`: 0 for Recreate; at most `replicas`. */
function maxUnavailable(d: JsonObject): number {
  const replicas = specReplicas(d);
  if (d.spec.strategy?.type !== 'RollingUpdate' || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas);
}

/** `ResolveFenceposts`: maxSurge rounded up, maxUnavailable down; both 0 → maxUnavailable 1. */
function resolveFenceposts(d: JsonObject): { surge: number; unavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const replicas = specReplicas(d);
  const surge = resolveIntOrPercent(ru.maxSurge ?? '25%', replicas, true);
  let unavailable = resolveIntOrPercent(ru.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** `DeploymentComplete`: every replica updated and available, the newest generation observed. */
function isComplete(d: JsonObject, status: JsonObject): boolean {
  const replicas = specReplicas(d);
  return (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas && (status.availableReplicas ?? 0) === replicas && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones, than the stored status says. */
function isProgressing(d: JsonObject, next: JsonObject): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** Milliseconds until the Progressing condition's deadline passes (≤ 0: timed out); undefined when no deadline applies. */
function msUntilDeadline(d: JsonObject, now: number): number | undefined {
  const seconds = d.spec.progressDeadlineSeconds;
  const c = getCondition(d.status, 'Progressing');
  if (seconds === undefined || !c || c.reason === 'NewReplicaSetAvailable') return undefined;
  if (c.reason === 'ProgressDeadlineExceeded') return 0;
  return Date.parse(c.lastUpdateTime) + seconds * 1000 - now;
}

export class DeploymentController {
  private readonly deployments: ResourceType;
  private readonly replicaSets: ResourceType;
  private readonly pods: ResourceType;
  private readonly queue: SyncQueue;
  private unsubscribe?: () => void;

  constructor(
    private readonly service: ObjectService,
    private readonly log: ControllerLog = () => {},
  ) {
    this.deployments = service.registry.find('apps', 'v1', 'deployments')!;
    this.replicaSets = service.registry.find('apps', 'v1', 'replicasets')!;
    this.pods = service.registry.find('', 'v1', 'pods')!;
    this.queue = new SyncQueue(
      (key) => this.sync(key),
      (key, error) => this.log('deployment sync failed', { deployment: key, error: String(error) }),
    );
  }

  /** Starts watching and syncs every Deployment once. */
  start(): void {
    this.unsubscribe = this.service.store.hub.subscribe((e) => this.observe(e));
    for (const d of this.service.store.list(this.deployments.storageKey)) this.queue.add(keyOf(d));
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private observe(e: StoreEvent): void {
    if (e.storageKey === this.deployments.storageKey) return this.queue.add(keyOf(e.object));
    if (e.storageKey === this.replicaSets.storageKey) {
      for (const rs of [e.object, e.previous]) this.enqueueOwner(rs);
      // An orphan ReplicaSet may be adopted by a Deployment whose selector matches it.
      if (e.type !== 'DELETED' && !controllerRef(e.object)) {
        for (const d of this.service.store.list(this.deployments.storageKey, e.namespace)) {
          if (selectorMatches(d.spec?.selector, e.object.metadata.labels)) this.queue.add(keyOf(d));
        }
      }
      return;
    }
    // Pods matter while a Recreate rollout waits for the old ones to go.
    if (e.storageKey === this.pods.storageKey && e.type === 'DELETED') {
      const ref = controllerRef(e.object);
      if (ref?.kind === 'ReplicaSet') this.enqueueOwner(this.service.store.get(this.replicaSets.storageKey, e.namespace, ref.name));
    }
  }

  private enqueueOwner(rs: JsonObject | undefined): void {
    const ref = rs && controllerRef(rs);
    if (ref?.kind === 'Deployment') this.queue.add(`${rs!.metadata.namespace}/${ref.name}`);
  }

  private get(namespace: string, name: string): JsonObject | undefined {
    return this.service.store.get(this.deployments.storageKey, namespace, name);
  }

  private sync(key: string): void {
    const [namespace, name] = splitKey(key);
    const d = this.get(namespace, name);
    if (!d) return;
    const owned = claim(this.service, this.replicaSets, d, this.service.store.list(this.replicaSets.storageKey, namespace), 'apps/v1', 'Deployment');
    if (d.metadata.deletionTimestamp) return this.syncStatus(d, owned);
    const current = this.checkPaused(d);
    if (current.spec.paused || this.isScalingEvent(current, owned)) return this.scaleOnly(current, owned);
    if (current.spec.strategy?.type === 'Recreate') this.rolloutRecreate(current, owned);
    else this.rolloutRolling(current, owned);
  }

  /** `checkPausedConditions`: Progressing Unknown DeploymentPaused / DeploymentResumed when `spec.paused` changes. */
  private checkPaused(d: JsonObject): JsonObject {
    if (d.spec.progressDeadlineSeconds === undefined) return d;
    const c = getCondition(d.status, 'Progressing');
    const pausedCond = c?.reason === 'DeploymentPaused';
    if (!!d.spec.paused === pausedCond) return d;
    const status = structuredClone(d.status ?? {});
    setCondition(status, d.spec.paused ? condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused') : condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    return this.writeStatus(d, status);
  }

  /** `isScalingEvent`: an active ReplicaSet was scaled for another `spec.replicas` than the Deployment's now. */
  private isScalingEvent(d: JsonObject, owned: JsonObject[]): boolean {
    return owned.some((rs) => specReplicas(rs) > 0 && rs.metadata.annotations?.[desiredAnnotation] !== undefined && Number(rs.metadata.annotations[desiredAnnotation]) !== specReplicas(d));
  }

  /** `sync`: a scaling event or a paused Deployment — scale (proportionally) without rolling out, then count. */
  private scaleOnly(d0: JsonObject, owned: JsonObject[]): void {
    const { d, newRS, oldRSs } = this.newReplicaSet(d0, owned, false);
    this.proportionalScale(d, newRS, oldRSs);
    if (d.spec.paused) this.cleanup(d, oldRSs);
    this.syncStatus(d, this.ownedFresh(d), false);
  }

  /**
   * `scale`: one active ReplicaSet (or none: the newest) takes all replicas; a
   * saturated new one leaves the old ones at 0; otherwise, in a rolling update,
   * the change is shared out in proportion to each ReplicaSet's size, the
   * leftover going to the largest.
   */
  private proportionalScale(d: JsonObject, newRS: JsonObject | undefined, oldRSs: JsonObject[]): void {
    const newestFirst = [...oldRSs].sort((a, b) => Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp));
    const all = newRS ? [...newestFirst, newRS] : newestFirst;
    const active = all.filter((rs) => specReplicas(rs) > 0);
    const replicas = specReplicas(d);
    const only = active.length === 1 ? active[0] : active.length === 0 ? (newRS ?? newestFirst[0]) : undefined;
    if (active.length <= 1) {
      if (only && specReplicas(only) !== replicas) this.scale(d, only, replicas);
      return;
    }
    const saturated = newRS && specReplicas(newRS) === replicas && Number(newRS.metadata.annotations?.[desiredAnnotation]) === replicas && (newRS.status?.availableReplicas ?? 0) === replicas;
    if (saturated) {
      for (const rs of oldRSs) if (specReplicas(rs) > 0) this.scale(d, rs, 0);
      return;
    }
    if (d.spec.strategy?.type !== 'RollingUpdate') return;
    const surge = resolveFenceposts(d).surge;
    const allowed = replicas > 0 ? replicas + surge : 0;
    const toAdd = allowed - sum(active, specReplicas);
    const created = (rs: JsonObject) => Date.parse(rs.metadata.creationTimestamp);
    // Larger first; ties: newer first when scaling up, older first when scaling down.
    const sorted = [...active].sort((a, b) => specReplicas(b) - specReplicas(a) || (toAdd > 0 ? created(b) - created(a) : created(a) - created(b)));
    let added = 0;
    const sizes = new Map<JsonObject, number>();
    for (const rs of sorted) {
      let proportion = 0;
      if (toAdd !== 0 && toAdd !== added) {
        let before = Number(rs.metadata.annotations?.[maxAnnotation] ?? 0);
        if (!before) before = d.status?.replicas || replicas;
        const fraction = replicas === 0 ? -specReplicas(rs) : Math.round((specReplicas(rs) * (replicas + surge)) / before) - specReplicas(rs);
        proportion = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
      }
      sizes.set(rs, specReplicas(rs) + proportion);
      added += proportion;
    }
    sorted.forEach((rs, i) => {
      let size = sizes.get(rs)!;
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      this.scale(d, rs, size);
    });
  }

  /** Splits the owned ReplicaSets into the one whose template is the Deployment's (the oldest such) and the rest. */
  private split(d: JsonObject, owned: JsonObject[]): { newRS?: JsonObject; oldRSs: JsonObject[] } {
    const wanted = stableJson(withoutHash(d.spec.template));
    const byAge = [...owned].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
    const newRS = byAge.find((rs) => stableJson(withoutHash(rs.spec?.template)) === wanted);
    return { newRS, oldRSs: owned.filter((rs) => rs !== newRS) };
  }

  /**
   * The new ReplicaSet, its revision and `minReadySeconds` brought up to date, or
   * (with `create`) created; `Progressing` set to FoundNewReplicaSet /
   * NewReplicaSetCreated. Returns the fresh Deployment too.
   */
  private newReplicaSet(d: JsonObject, owned: JsonObject[], create: boolean): { d: JsonObject; newRS?: JsonObject; oldRSs: JsonObject[] } {
    const { newRS: existing, oldRSs } = this.split(d, owned);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const revision = maxOld + 1;
    let newRS = existing;
    if (existing) {
      const annotations = { ...(existing.metadata.annotations ?? {}) };
      let changed = false;
      if (revisionOf(existing) < revision) {
        annotations[revisionAnnotation] = String(revision);
        changed = true;
      }
      const minReady = d.spec.minReadySeconds ?? 0;
      if (changed || (existing.spec.minReadySeconds ?? 0) !== minReady) {
        newRS = this.service.update(this.replicaSets, existing.metadata.namespace, existing.metadata.name, {
          ...existing,
          metadata: { ...existing.metadata, annotations },
          spec: { ...existing.spec, minReadySeconds: minReady || undefined },
        }).object;
      }
      d = this.setRevision(d, newRS!.metadata.annotations?.[revisionAnnotation]);
      if (!getCondition(d.status, 'Progressing') && d.spec.progressDeadlineSeconds !== undefined) {
        const status = structuredClone(d.status ?? {});
        setCondition(status, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${newRS!.metadata.name}"`));
        d = this.writeStatus(d, status);
      }
      return { d, newRS, oldRSs };
    }
    if (!create || d.spec.paused) return { d, oldRSs };
    const template = structuredClone(d.spec.template);
    const hash = podTemplateHash(withoutHash(template), d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [hashLabel]: hash } };
    const replicas = d.spec.strategy?.type === 'Recreate' ? specReplicas(d) : this.newReplicas(d, oldRSs, undefined);
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(d.metadata.annotations ?? {})) if (!notCopied.has(k)) annotations[k] = v;
    annotations[desiredAnnotation] = String(specReplicas(d));
    annotations[maxAnnotation] = String(specReplicas(d) + (d.spec.strategy?.type === 'RollingUpdate' ? resolveFenceposts(d).surge : 0));
    annotations[revisionAnnotation] = String(revision);
    if (this.service.store.get(this.replicaSets.storageKey, d.metadata.namespace, `${d.metadata.name}-${hash}`)) {
      // The name is taken by another template (or another owner): a new hash next time.
      const status = structuredClone(d.status ?? {});
      status.collisionCount = (status.collisionCount ?? 0) + 1;
      return { d: this.writeStatus(d, status), oldRSs };
    }
    newRS = this.service.create(this.replicaSets, d.metadata.namespace, {
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: template.metadata.labels,
        annotations,
        ownerReferences: [ownerRefTo(d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas,
        ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
        selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [hashLabel]: hash } },
        template,
      },
    }).object;
    if (replicas > 0) this.event(d, `Scaled up replica set ${newRS.metadata.name} from 0 to ${replicas}`);
    d = this.setRevision(d, String(revision));
    if (d.spec.progressDeadlineSeconds !== undefined) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${newRS.metadata.name}"`));
      d = this.writeStatus(d, status);
    }
    return { d, newRS, oldRSs };
  }

  /** Sets the Deployment's revision annotation (a metadata change: no new generation). */
  private setRevision(d: JsonObject, revision: string | undefined): JsonObject {
    if (!revision || d.metadata.annotations?.[revisionAnnotation] === revision) return d;
    const fresh = this.get(d.metadata.namespace, d.metadata.name) ?? d;
    return this.service.update(this.deployments, d.metadata.namespace, d.metadata.name, {
      ...fresh,
      metadata: { ...fresh.metadata, annotations: { ...(fresh.metadata.annotations ?? {}), [revisionAnnotation]: revision } },
    }).object;
  }

  /** `NewRSNewReplicas` for RollingUpdate: as many as `maxSurge` allows, up to `replicas`. */
  private newReplicas(d: JsonObject, oldRSs: JsonObject[], newRS: JsonObject | undefined): number {
    const replicas = specReplicas(d);
    const current = sum(oldRSs, specReplicas) + specReplicas(newRS);
    const maxTotal = replicas + resolveFenceposts(d).surge;
    if (current >= maxTotal) return specReplicas(newRS);
    return specReplicas(newRS) + Math.max(0, Math.min(maxTotal - current, replicas - specReplicas(newRS)));
  }

  private rolloutRolling(d0: JsonObject, owned: JsonObject[]): void {
    const { d, newRS, oldRSs } = this.newReplicaSet(d0, owned, true);
    if (!newRS) return this.syncStatus(d, owned);
    // Scale the new ReplicaSet up (or down to `replicas`).
    const target = specReplicas(newRS) > specReplicas(d) ? specReplicas(d) : this.newReplicas(d, oldRSs, newRS);
    if (target !== specReplicas(newRS)) {
      this.scale(d, newRS, target);
      return this.syncStatus(d, this.ownedFresh(d));
    }
    if (this.scaleDownOld(d, newRS, oldRSs)) return this.syncStatus(d, this.ownedFresh(d));
    if (isComplete(d, d.status ?? {})) this.cleanup(d, oldRSs);
    this.syncStatus(d, this.ownedFresh(d));
  }

  /** `reconcileOldReplicaSets`: unhealthy old Pods first, then as many as `maxUnavailable` allows; whether anything was scaled. */
  private scaleDownOld(d: JsonObject, newRS: JsonObject, oldRSs: JsonObject[]): boolean {
    const active = oldRSs.filter((rs) => specReplicas(rs) > 0);
    if (active.length === 0) return false;
    const all = [newRS, ...oldRSs];
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let maxScaledDown = sum(all, specReplicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const oldestFirst = [...active].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
    let scaled = false;
    // Unhealthy replicas go first: they do not count toward availability.
    const remaining = new Map<JsonObject, number>();
    for (const rs of oldestFirst) {
      let replicas = specReplicas(rs);
      if (maxScaledDown > 0) {
        const unhealthy = replicas - (rs.status?.availableReplicas ?? 0);
        const down = Math.min(maxScaledDown, Math.max(0, unhealthy));
        if (down > 0) {
          replicas -= down;
          maxScaledDown -= down;
          this.scale(d, rs, replicas);
          scaled = true;
        }
      }
      remaining.set(rs, replicas);
    }
    // Then available ones, keeping at least minAvailable available in total.
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    let toScaleDown = available - minAvailable;
    for (const rs of oldestFirst) {
      if (toScaleDown <= 0) break;
      const replicas = remaining.get(rs)!;
      if (replicas === 0) continue;
      const down = Math.min(replicas, toScaleDown);
      this.scale(d, rs, replicas - down);
      toScaleDown -= down;
      scaled = true;
    }
    return scaled;
  }

  private rolloutRecreate(d0: JsonObject, owned: JsonObject[]): void {
    let { d, newRS, oldRSs } = this.newReplicaSet(d0, owned, false);
    let scaled = false;
    for (const rs of oldRSs) {
      if (specReplicas(rs) > 0) {
        this.scale(d, rs, 0);
        scaled = true;
      }
    }
    if (scaled || this.oldPodsRunning(oldRSs)) return this.syncStatus(d, this.ownedFresh(d));
    if (!newRS) {
      ({ d, newRS } = this.newReplicaSet(d, this.ownedFresh(d), true));
      if (!newRS) return this.syncStatus(d, this.ownedFresh(d));
    }
    if (specReplicas(newRS) !== specReplicas(d)) this.scale(d, newRS, specReplicas(d));
    else if (isComplete(d, d.status ?? {})) this.cleanup(d, oldRSs);
    this.syncStatus(d, this.ownedFresh(d));
  }

  /** Whether any Pod of an old ReplicaSet is still there and not finished (Recreate waits for none). */
  private oldPodsRunning(oldRSs: JsonObject[]): boolean {
    if (sum(oldRSs, (rs) => rs.status?.replicas ?? 0) > 0) return true;
    const uids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    if (uids.size === 0) return false;
    return this.service.store
      .list(this.pods.storageKey, oldRSs[0]!.metadata.namespace)
      .some((p) => uids.has(controllerRef(p)?.uid) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  }

  private ownedFresh(d: JsonObject): JsonObject[] {
    return this.service.store.list(this.replicaSets.storageKey, d.metadata.namespace).filter((rs) => controllerRef(rs)?.uid === d.metadata.uid);
  }

  /** Sets a ReplicaSet's replicas (and its desired/max annotations), with a ScalingReplicaSet Event. */
  private scale(d: JsonObject, rs: JsonObject, replicas: number): void {
    const fresh = this.service.store.get(this.replicaSets.storageKey, rs.metadata.namespace, rs.metadata.name) ?? rs;
    const from = specReplicas(fresh);
    const annotations = {
      ...(fresh.metadata.annotations ?? {}),
      [desiredAnnotation]: String(specReplicas(d)),
      [maxAnnotation]: String(specReplicas(d) + (d.spec.strategy?.type === 'RollingUpdate' ? resolveFenceposts(d).surge : 0)),
    };
    this.service.update(this.replicaSets, fresh.metadata.namespace, fresh.metadata.name, {
      ...fresh,
      metadata: { ...fresh.metadata, annotations },
      spec: { ...fresh.spec, replicas },
    });
    if (from !== replicas) this.event(d, `Scaled ${replicas > from ? 'up' : 'down'} replica set ${fresh.metadata.name} from ${from} to ${replicas}`);
  }

  /** `cleanupDeployment`: old, scaled-down ReplicaSets beyond `revisionHistoryLimit` are deleted, lowest revision first. */
  private cleanup(d: JsonObject, oldRSs: JsonObject[]): void {
    const limit = d.spec.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of alive.slice(0, Math.max(0, alive.length - limit))) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      this.service.delete(this.replicaSets, rs.metadata.namespace, rs.metadata.name, { preconditions: { uid: rs.metadata.uid } });
    }
  }

  /** `calculateStatus` + `syncRolloutStatus`: counts from the ReplicaSets, then Available and Progressing; requeues for the deadline. */
  private syncStatus(stale: JsonObject, owned: JsonObject[], estimateProgress = true): void {
    const d = this.get(stale.metadata.namespace, stale.metadata.name);
    if (!d) return;
    const { newRS } = this.split(d, owned);
    const available = sum(owned, (rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(owned, specReplicas);
    const counts: JsonObject = {
      observedGeneration: d.metadata.generation,
      replicas: sum(owned, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum(owned, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    const status: JsonObject = { observedGeneration: counts.observedGeneration };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (counts[k]) status[k] = counts[k];
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    status.conditions = structuredClone(d.status?.conditions ?? []);
    if (available >= specReplicas(d) - maxUnavailable(d)) setCondition(status, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
    else setCondition(status, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));

    const hasDeadline = d.spec.progressDeadlineSeconds !== undefined;
    if (!hasDeadline) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const settled = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === 'NewReplicaSetAvailable';
    const what = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (hasDeadline && !settled && estimateProgress) {
      const now = Date.now();
      if (isComplete(d, status)) {
        setCondition(status, condition('Progressing', 'True', 'NewReplicaSetAvailable', `${what} has successfully progressed.`));
      } else if (isProgressing(d, status)) {
        const c = condition('Progressing', 'True', 'ReplicaSetUpdated', `${what} is progressing.`);
        if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, c);
      } else {
        const left = msUntilDeadline(d, now);
        if (left !== undefined && left <= 0) setCondition(status, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `${what} has timed out progressing.`));
      }
    }
    const written = this.writeStatus(d, status);
    // A rollout still under way is looked at again when its deadline would pass.
    const left = msUntilDeadline(written, Date.now());
    if (left !== undefined && left > 0 && !isComplete(written, written.status ?? {})) this.queue.addAfter(keyOf(written), left + 50);
  }

  private writeStatus(d: JsonObject, status: JsonObject): JsonObject {
    const fresh = this.get(d.metadata.namespace, d.metadata.name) ?? d;
    return this.service.update(this.deployments, fresh.metadata.namespace, fresh.metadata.name, { ...fresh, status }, { subresource: 'status' }).object;
  }

  private event(d: JsonObject, message: string): void {
    recordEvent(this.service, { ...d, kind: 'Deployment', apiVersion: 'apps/v1' }, 'Normal', 'ScalingReplicaSet', message, component);
  }
}
