/**
 * The frame of the test cluster's StatefulSet, Job and PersistentVolumeClaim
 * controllers: each follows the API server's change stream (in process — the
 * watch hub that serves `?watch=true`, so it sees every write as a watch would),
 * maps each change to the keys (`namespace/name`) of the objects it owns, and
 * reconciles those from the current stored state. Level-triggered as the real
 * controllers are: a reconcile never looks at the event, only at what is stored
 * now, so merged or repeated events do no harm. Reconciles run one at a time
 * after the write that triggered them (never inside it); one that throws (a 409
 * Conflict, a 422) is retried after `retryMs`; one may ask to run again after a
 * delay (back-offs, deadlines, TTLs). Writes go through the server's
 * `ObjectService`, so they are validated, defaulted and watched like any client's;
 * they record Events as the real controllers do (`kubectl describe` shows them).
 */
import type { JsonObject } from '../api-server/errors.js';
import { timestamp, type ObjectService } from '../api-server/object-service.js';
import type { ResourceType } from '../api-server/resource-type.js';
import type { StoreEvent } from '../api-server/watch-hub.js';

/** What a reconcile asks for: nothing, or another run after `requeueAfterMs`. */
export type ReconcileResult = void | { requeueAfterMs: number };

export interface ControllerLog {
  (message: string, fields: Record<string, unknown>): void;
}

export abstract class StoreController {
  private queue = new Set<string>();
  private timers = new Map<string, NodeJS.Timeout>();
  private scheduled = false;
  private stopped = true;
  private unsubscribe: () => void = () => {};

  constructor(
    protected readonly service: ObjectService,
    private readonly retryMs = 1000,
    protected readonly log: ControllerLog = () => {},
  ) {}

  /** The storage key of the kind this controller reconciles (`statefulsets.apps`). */
  protected abstract readonly storageKey: string;

  /** The keys (`namespace/name` of the reconciled kind) a change concerns. */
  protected abstract keysFor(event: StoreEvent): string[];

  /** Brings the object `namespace/name` (maybe gone) to its desired state. */
  protected abstract reconcile(namespace: string, name: string): ReconcileResult;

  /** Starts following changes, and reconciles every object already stored. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.service.store.hub.subscribe((e) => {
      for (const key of this.keysFor(e)) this.enqueue(key);
    });
    for (const o of this.service.store.list(this.storageKey)) this.enqueue(keyOf(o));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
  }

  protected enqueue(key: string): void {
    if (this.stopped) return;
    this.queue.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, Math.max(0, ms));
    timer.unref();
    this.timers.set(key, timer);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const keys = [...this.queue];
    this.queue.clear();
    for (const key of keys) {
      const slash = key.indexOf('/');
      try {
        const result = this.reconcile(key.slice(0, slash), key.slice(slash + 1));
        if (result) this.enqueueAfter(key, result.requeueAfterMs);
      } catch (error) {
        this.log('reconcile failed; retrying', { controller: this.constructor.name, key, error: String((error as Error).message ?? error) });
        this.enqueueAfter(key, this.retryMs);
      }
    }
  }

  /**
   * Records a core/v1 Event about `obj` from `component` (what `kubectl describe` lists,
   * e.g. SuccessfulCreate); one per occurrence, no aggregation. Never fails the reconcile.
   */
  protected event(obj: JsonObject, component: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = timestamp();
    const namespace = obj.metadata.namespace ?? 'default';
    try {
      this.service.create(this.type('', 'events'), namespace, {
        metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}` },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        type,
        reason,
        message,
        source: { component },
        reportingComponent: component,
        reportingInstance: '',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (error) {
      this.log('event not recorded', { reason, error: String((error as Error).message ?? error) });
    }
  }

  /** The registered type of a built-in kind. */
  protected type(group: string, plural: string): ResourceType {
    const t = this.service.registry.find(group, 'v1', plural);
    if (!t) throw new Error(`${plural}.${group} is not served`);
    return t;
  }
}

export function keyOf(o: JsonObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The controller reference of an object (`ownerReferences[controller=true]`). */
export function controllerOf(o: JsonObject | undefined): JsonObject | undefined {
  return (o?.metadata.ownerReferences ?? []).find((r: JsonObject) => r.controller === true);
}

/** The owner reference a controller puts on what it creates. */
export function controllerRef(owner: JsonObject): JsonObject {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** A Pod that is Running with condition Ready=True (`podutil.IsPodReady` plus the phase check). */
export function isRunningAndReady(pod: JsonObject): boolean {
  return pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c: JsonObject) => c.type === 'Ready' && c.status === 'True');
}

export function isTerminated(pod: JsonObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
