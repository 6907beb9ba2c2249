/**
 * What the Deployment and ReplicaSet controllers of the test cluster share: a
 * keyed work queue (level-triggered: a key is synced from the current stored
 * state, however many changes queued it), Events written as the real controllers
 * record them, and the Pod readiness/availability rules of `podutil`.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../api-server/errors.js';
import { selectorMatches } from '../api-server/apps-kinds.js';
import { timestamp, type ObjectService } from '../api-server/object-service.js';
import type { ResourceType } from '../api-server/resource-type.js';

/** A structured log line (the controllers report sync failures through it). */
export type ControllerLog = (message: string, fields: Record<string, unknown>) => void;

/**
 * Keys (`namespace/name`) waiting to be synced. Keys added while a pass runs are
 * synced in the next pass; a failed sync is retried after `retryMs`.
 */
export class SyncQueue {
  private pending = new Set<string>();
  /** Delayed syncs: one timer per key, the earliest asked for. */
  private timers = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly sync: (key: string) => void,
    private readonly onError: (key: string, error: unknown) => void,
    private readonly retryMs = 1000,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /** Syncs `key` again after `ms` (minReadySeconds, a progress deadline). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, ms);
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    timer.unref();
    this.timers.set(key, { timer, at });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      try {
        this.sync(key);
      } catch (error) {
        this.onError(key, error);
        this.addAfter(key, this.retryMs);
      }
    }
  }
}

export function keyOf(obj: JsonObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** The owner reference with `controller: true`, if any. */
export function controllerRef(obj: JsonObject): JsonObject | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r: JsonObject) => r.controller === true);
}

/** A controller owner reference to `owner`, as the controllers set it on what they create. */
export function ownerRefTo(owner: JsonObject, apiVersion: string, kind: string): JsonObject {
  return { apiVersion, kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * Adoption, as the real controllers' `ClaimReplicaSets`/`ClaimPods` do it: of
 * `candidates` (same namespace), the ones with no controller, not being
 * deleted, whose labels match the owner's selector get a controller reference
 * to `owner`. Returns the candidates the owner controls afterwards.
 */
export function claim(service: ObjectService, type: ResourceType, owner: JsonObject, candidates: JsonObject[], apiVersion: string, kind: string): JsonObject[] {
  const out: JsonObject[] = [];
  for (const obj of candidates) {
    const ref = controllerRef(obj);
    if (ref) {
      if (ref.uid === owner.metadata.uid) out.push(obj);
      continue;
    }
    if (owner.metadata.deletionTimestamp || obj.metadata.deletionTimestamp || !selectorMatches(owner.spec?.selector, obj.metadata.labels)) continue;
    const refs = [...(obj.metadata.ownerReferences ?? []), ownerRefTo(owner, apiVersion, kind)];
    out.push(service.update(type, obj.metadata.namespace, obj.metadata.name, { ...obj, metadata: { ...obj.metadata, ownerReferences: refs } }).object);
  }
  return out;
}

/** Writes a core/v1 Event about `obj` (best effort: a terminating namespace refuses it). */
export function recordEvent(service: ObjectService, obj: JsonObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
  const events = service.registry.find('', 'v1', 'events');
  if (!events) return;
  const now = timestamp();
  try {
    service.create(events, obj.metadata.namespace, {
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: obj.metadata.namespace },
      involvedObject: { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, apiVersion: obj.apiVersion, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
      reportingInstance: '',
    });
  } catch {
    // Events are informational.
  }
}

/** Whether a Pod counts toward its owner's replicas: not being deleted and not finished. */
export function isActivePod(pod: JsonObject): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

function readyCondition(pod: JsonObject): JsonObject | undefined {
  return (pod.status?.conditions ?? []).find((c: JsonObject) => c.type === 'Ready');
}

export function isPodReady(pod: JsonObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/**
 * How long until a ready Pod is available (Ready for `minReadySeconds`): 0 when it
 * is, Infinity when it is not ready at all.
 */
export function msUntilAvailable(pod: JsonObject, minReadySeconds: number, now: number): number {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return Infinity;
  if (!minReadySeconds) return 0;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  if (Number.isNaN(since)) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

/** JSON with object keys sorted, so equal content compares (and hashes) equal. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as JsonObject)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as JsonObject)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
