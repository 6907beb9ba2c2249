/**
 * The test cluster's StatefulSet controller, doing what kube-controller-manager's
 * does for a StatefulSet's users: Pods `<name>-<ordinal>` with labels
 * `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
 * `controller-revision-hash`, `hostname`/`subdomain` set (serviceName); a
 * PersistentVolumeClaim `<template>-<name>-<ordinal>` per `volumeClaimTemplates`
 * entry, created before the Pod and kept when the Pod goes (retention policy
 * `whenDeleted: Delete` makes the StatefulSet their owner); `OrderedReady` (the
 * next ordinal only once every lower one is Running and Ready, scale-down from
 * the highest ordinal, one at a time) or `Parallel`; a Pod that is deleted or
 * ends (Failed/Succeeded) is created again with the same name; `RollingUpdate`
 * of a changed template in reverse ordinal order down to `partition`, one Pod at
 * a time, each waiting for the others to be Ready (`OnDelete`: only Pods deleted
 * by someone else get the new template); status `observedGeneration`,
 * `replicas`, `readyReplicas`, `currentReplicas`, `updatedReplicas`,
 * `availableReplicas` (with `minReadySeconds`), `currentRevision`,
 * `updateRevision`, `collisionCount` — what `kubectl rollout status` reads;
 * Events SuccessfulCreate/SuccessfulDelete.
 *
 * It does NOT: keep ControllerRevision objects (not served; the revisions'
 * templates are remembered in memory, so `kubectl rollout history/undo` do not
 * work), adopt or release orphaned Pods, honour `ordinals.start`,
 * `maxUnavailable` or `whenScaled: Delete`, or use a scale
 * subresource (`kubectl scale` is not served).
 */
import type { JsonObject } from '../api-server/errors.js';
import type { StoreEvent } from '../api-server/watch-hub.js';
import { controllerOf, controllerRef, isRunningAndReady, isTerminated, keyOf, StoreController, type ReconcileResult } from './store-controller.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

/** 32-bit FNV-1a of a string. */
function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** apimachinery's `rand.SafeEncodeString`: no vowels, no look-alike characters. */
function safeEncode(text: string): string {
  const alphanums = 'bcdfghjklmnpqrstvwxz2456789';
  return [...Buffer.from(text)].map((b) => alphanums[b % alphanums.length]).join('');
}

/** The revision name of a StatefulSet's current template: `<name>-<hash>`, as its ControllerRevision would be named. */
export function revisionName(sts: JsonObject): string {
  return `${sts.metadata.name}-${safeEncode(String(fnv32a(JSON.stringify(sts.spec.template))))}`;
}

/** `<name>-<ordinal>` → ordinal, or undefined for another name. */
function ordinalOf(sts: JsonObject, pod: JsonObject): number | undefined {
  const prefix = `${sts.metadata.name}-`;
  const name: string = pod.metadata.name;
  if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) return undefined;
  return Number(name.slice(prefix.length));
}

export function claimName(template: JsonObject, sts: JsonObject, ordinal: number): string {
  return `${template.metadata?.name}-${sts.metadata.name}-${ordinal}`;
}

export class StatefulSetController extends StoreController {
  protected readonly storageKey = 'statefulsets.apps';
  /** Revision name → the Pod template it stands for (the real controller keeps ControllerRevisions). */
  private templates = new Map<string, JsonObject>();

  protected keysFor(e: StoreEvent): string[] {
    if (e.storageKey === this.storageKey) return [keyOf(e.object)];
    if (e.storageKey === 'pods') {
      const ref = controllerOf(e.object) ?? controllerOf(e.previous);
      if (ref?.kind === 'StatefulSet') return [`${e.namespace}/${ref.name}`];
    }
    return [];
  }

  private ownedPods(sts: JsonObject): Map<number, JsonObject> {
    const out = new Map<number, JsonObject>();
    for (const pod of this.service.store.list('pods', sts.metadata.namespace)) {
      if (controllerOf(pod)?.uid !== sts.metadata.uid) continue;
      const ordinal = ordinalOf(sts, pod);
      if (ordinal !== undefined) out.set(ordinal, pod);
    }
    return out;
  }

  protected reconcile(namespace: string, name: string): ReconcileResult {
    const sts = this.service.store.get(this.storageKey, namespace, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const spec = sts.spec;
    const updateRevision = revisionName(sts);
    this.templates.set(updateRevision, spec.template);
    let currentRevision: string = sts.status?.currentRevision || updateRevision;
    if (!this.templates.has(currentRevision)) currentRevision = updateRevision;
    const replicas: number = spec.replicas ?? 1;
    const ordered = spec.podManagementPolicy !== 'Parallel';
    const rolling = spec.updateStrategy?.type !== 'OnDelete';
    const partition: number = rolling ? (spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const pods = this.ownedPods(sts);
    const podType = this.type('', 'pods');

    // Create what is missing, replace what ended, in ordinal order.
    let blocked = false;
    for (let i = 0; i < replicas && !blocked; i++) {
      const pod = pods.get(i);
      if (!pod) {
        this.ensureClaims(sts, i);
        const revision = rolling && i < partition ? currentRevision : updateRevision;
        const created = this.service.create(podType, namespace, this.newPod(sts, i, revision, this.templates.get(revision) ?? spec.template)).object;
        this.event(sts, 'statefulset-controller', 'Normal', 'SuccessfulCreate', `create Pod ${created.metadata.name} in StatefulSet ${name} successful`);
        pods.set(i, created);
        blocked = ordered;
      } else if (pod.metadata.deletionTimestamp) {
        blocked = ordered;
      } else if (isTerminated(pod)) {
        this.service.delete(podType, namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
        blocked = ordered;
      } else if (ordered && !isRunningAndReady(pod)) {
        blocked = true;
      }
    }
    const healthy = () => [...pods.values()].every((p) => !p.metadata.deletionTimestamp && isRunningAndReady(p));
    // Scale down from the highest ordinal.
    const condemned = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
    if (!blocked && condemned.length > 0) {
      for (const i of condemned) {
        const pod = pods.get(i)!;
        if (ordered && !healthy()) break;
        if (!pod.metadata.deletionTimestamp) {
          this.service.delete(podType, namespace, pod.metadata.name);
          this.event(sts, 'statefulset-controller', 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
        }
        if (ordered) break;
      }
      blocked = ordered;
    }
    // Rolling update: newest ordinal first, one at a time, while all others are Ready.
    if (!blocked && rolling && healthy()) {
      for (let i = replicas - 1; i >= partition; i--) {
        const pod = pods.get(i);
        if (pod && pod.metadata.labels?.[REVISION_LABEL] !== updateRevision) {
          this.service.delete(podType, namespace, pod.metadata.name);
          this.event(sts, 'statefulset-controller', 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
          break;
        }
      }
    }
    return this.writeStatus(sts, currentRevision, updateRevision);
  }

  private newPod(sts: JsonObject, ordinal: number, revision: string, template: JsonObject): JsonObject {
    const name = `${sts.metadata.name}-${ordinal}`;
    const podSpec = structuredClone(template.spec ?? {});
    const claims: JsonObject[] = sts.spec.volumeClaimTemplates ?? [];
    const claimVolumes = claims.map((c) => ({ name: c.metadata?.name, persistentVolumeClaim: { claimName: claimName(c, sts, ordinal) } }));
    podSpec.volumes = [...(podSpec.volumes ?? []).filter((v: JsonObject) => !claimVolumes.some((c) => c.name === v.name)), ...claimVolumes];
    if (podSpec.volumes.length === 0) delete podSpec.volumes;
    podSpec.hostname = name;
    if (sts.spec.serviceName) podSpec.subdomain = sts.spec.serviceName;
    return {
      metadata: {
        name,
        labels: { ...(template.metadata?.labels ?? {}), [REVISION_LABEL]: revision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(sts)],
      },
      spec: podSpec,
    };
  }

  /** The ordinal's claims, created from the templates when missing (never deleted here). */
  private ensureClaims(sts: JsonObject, ordinal: number): void {
    const pvcType = this.type('', 'persistentvolumeclaims');
    const namespace = sts.metadata.namespace;
    for (const template of (sts.spec.volumeClaimTemplates ?? []) as JsonObject[]) {
      const name = claimName(template, sts, ordinal);
      if (this.service.store.get(pvcType.storageKey, namespace, name)) continue;
      const owned = sts.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
      this.service.create(pvcType, namespace, {
        metadata: {
          name,
          labels: { ...(template.metadata?.labels ?? {}), ...(sts.spec.selector?.matchLabels ?? {}) },
          ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
          ...(owned ? { ownerReferences: [{ ...controllerRef(sts) }] } : {}),
        },
        spec: structuredClone(template.spec ?? {}),
      });
      this.event(sts, 'statefulset-controller', 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} success`);
    }
  }

  private writeStatus(sts: JsonObject, currentRevision: string, updateRevision: string): ReconcileResult {
    const minReadyMs = (sts.spec.minReadySeconds ?? 0) * 1000;
    const now = Date.now();
    let replicas = 0;
    let ready = 0;
    let available = 0;
    let current = 0;
    let updated = 0;
    let recheckMs: number | undefined;
    for (const pod of this.ownedPods(sts).values()) {
      if (pod.metadata.deletionTimestamp) continue;
      replicas++;
      if (isRunningAndReady(pod)) {
        ready++;
        const since = Date.parse((pod.status.conditions as JsonObject[]).find((c) => c.type === 'Ready')?.lastTransitionTime ?? '') || now;
        if (now - since >= minReadyMs) available++;
        else recheckMs = Math.min(recheckMs ?? Infinity, since + minReadyMs - now);
      }
      const revision = pod.metadata.labels?.[REVISION_LABEL];
      if (revision === currentRevision) current++;
      if (revision === updateRevision) updated++;
    }
    let currentRevisionOut = currentRevision;
    let currentOut = current;
    if (sts.spec.updateStrategy?.type !== 'OnDelete' && updated === replicas && ready === replicas) {
      currentRevisionOut = updateRevision;
      currentOut = updated;
    }
    const status: JsonObject = {
      observedGeneration: sts.metadata.generation,
      replicas,
      readyReplicas: ready,
      currentReplicas: currentOut,
      updatedReplicas: updated,
      availableReplicas: available,
      currentRevision: currentRevisionOut,
      updateRevision,
      collisionCount: 0,
    };
    for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas'] as const) if (status[k] === 0) delete status[k];
    const type = this.type('apps', 'statefulsets');
    this.service.update(type, sts.metadata.namespace, sts.metadata.name, { ...sts, status }, { subresource: 'status' });
    return recheckMs === undefined ? undefined : { requeueAfterMs: recheckMs };
  }
}
