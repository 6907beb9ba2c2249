/**
 * Garbage collection, run after every burst of writes on what those writes
 * touched: a dependent whose owners (by uid) are all gone is deleted; the
 * dependents of an owner deleted in the foreground are deleted, and the owner's
 * `foregroundDeletion` finalizer is dropped once none remain; a terminating
 * namespace goes once it is empty. An index owner uid → dependent uids, kept
 * from the change stream, finds the dependents (the real collector keeps a
 * graph built from informers).
 */
import type { JsonObject } from './errors.js';
import type { ObjectService } from './object-service.js';
import type { StoreEvent } from './watch-hub.js';

function ownerUids(obj: JsonObject | undefined): string[] {
  return (obj?.metadata.ownerReferences ?? []).map((r: JsonObject) => r.uid);
}

function foregroundDeleting(obj: JsonObject | undefined): boolean {
  return !!obj?.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes('foregroundDeletion');
}

export class GarbageCollector {
  private dependents = new Map<string, Set<string>>();
  /** Uids of objects to look at in the next pass. */
  private pending = new Set<string>();
  /** Terminating namespaces to look at in the next pass. */
  private namespaces = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private unsubscribe: () => void;

  constructor(private readonly service: ObjectService) {
    this.unsubscribe = service.store.hub.subscribe((e) => this.observe(e));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  private observe(e: StoreEvent): void {
    const uid: string = e.object.metadata.uid;
    const before = ownerUids(e.previous);
    const after = e.type === 'DELETED' ? [] : ownerUids(e.object);
    for (const o of before) if (!after.includes(o)) this.dependents.get(o)?.delete(uid);
    for (const o of after) {
      let set = this.dependents.get(o);
      if (!set) this.dependents.set(o, (set = new Set()));
      set.add(uid);
    }
    if (e.type === 'DELETED') {
      for (const dep of this.dependents.get(uid) ?? []) this.pending.add(dep);
      this.dependents.delete(uid);
      // An owner waiting in the foreground may now be free to go.
      for (const o of ownerUids(e.object)) this.pending.add(o);
      if (e.namespace) this.namespaces.add(e.namespace);
    } else {
      if (after.length > 0) this.pending.add(uid);
      if (foregroundDeleting(e.object)) {
        this.pending.add(uid);
        for (const dep of this.dependents.get(uid) ?? []) this.pending.add(dep);
      }
      if (e.storageKey === 'namespaces' && e.object.metadata.deletionTimestamp) this.namespaces.add(e.object.metadata.name);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.sweep();
    });
  }

  /**
   * The owner a reference points at, as the real collector resolves it: by uid,
   * with the same name, and — for a namespaced owner — in the dependent's
   * namespace (a reference across namespaces points at nothing).
   */
  private owner(dependent: JsonObject, ref: JsonObject): JsonObject | undefined {
    const owner = this.service.store.byUid(ref.uid);
    if (!owner || owner.metadata.name !== ref.name) return undefined;
    if (owner.metadata.namespace && owner.metadata.namespace !== dependent.metadata.namespace) return undefined;
    return owner;
  }

  /** One pass over what changed; its own writes schedule the next pass. */
  private sweep(): void {
    const { store, registry } = this.service;
    const pending = [...this.pending];
    this.pending.clear();
    for (const uid of pending) {
      const entry = store.entryByUid(uid);
      if (!entry) continue;
      const { storageKey, object } = entry;
      if (foregroundDeleting(object) && ![...(this.dependents.get(uid) ?? [])].some((d) => store.byUid(d))) {
        this.service.removeFinalizer(storageKey, object, 'foregroundDeletion');
        continue;
      }
      const refs = ownerUids(object);
      if (refs.length === 0 || object.metadata.deletionTimestamp) continue;
      const owners = (object.metadata.ownerReferences as JsonObject[]).map((r) => this.owner(object, r));
      if (owners.every((o) => o === undefined) || owners.some(foregroundDeleting)) {
        const type = registry.byStorageKey(storageKey);
        if (type) this.service.delete(type, object.metadata.namespace ?? '', object.metadata.name, { propagationPolicy: 'Background', gracePeriodSeconds: 0 });
      }
    }
    const namespaces = [...this.namespaces];
    this.namespaces.clear();
    for (const name of namespaces) {
      const ns = store.get('namespaces', '', name);
      if (!ns?.metadata.deletionTimestamp) continue;
      let empty = true;
      for (const { object } of store.entries()) {
        if (object.metadata.namespace === name) {
          empty = false;
          break;
        }
      }
      if (empty) this.service.finishNamespace(ns);
    }
  }
}
