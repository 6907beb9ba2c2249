/**
 * Background garbage collection, run after every burst of writes: a dependent
 * whose owners (by uid) are all gone is deleted; dependents of an owner being
 * deleted in the foreground are deleted, and the owner's `foregroundDeletion`
 * finalizer is dropped once none remain; a terminating namespace goes once empty.
 * (The real collector builds a graph from informers; this one rescans the store,
 * which is fine at test sizes.)
 */
import type { JsonObject } from './errors.js';
import type { ObjectService } from './object-service.js';

export class GarbageCollector {
  private scheduled = false;
  private stopped = false;
  private unsubscribe: () => void;

  constructor(private readonly service: ObjectService) {
    this.unsubscribe = service.store.hub.subscribe(() => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.sweep();
    });
  }

  /** One pass over the store; its own writes schedule the next pass. */
  sweep(): void {
    const { store, registry } = this.service;
    const entries = [...store.entries()];
    const referenced = new Set<string>();
    for (const { storageKey, object } of entries) {
      const refs: JsonObject[] = object.metadata.ownerReferences ?? [];
      if (refs.length === 0) continue;
      for (const r of refs) referenced.add(r.uid);
      const owners = refs.map((r) => store.byUid(r.uid));
      const allGone = owners.every((o) => o === undefined);
      const foreground = owners.some((o) => o?.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes('foregroundDeletion'));
      if ((allGone || foreground) && !object.metadata.deletionTimestamp) {
        const type = registry.byStorageKey(storageKey);
        const current = store.get(storageKey, object.metadata.namespace ?? '', object.metadata.name);
        if (type && current?.metadata.uid === object.metadata.uid) {
          this.service.delete(type, object.metadata.namespace ?? '', object.metadata.name, { propagationPolicy: 'Background', gracePeriodSeconds: 0 });
        }
      }
    }
    for (const { storageKey, object } of entries) {
      if (!object.metadata.deletionTimestamp) continue;
      if ((object.metadata.finalizers ?? []).includes('foregroundDeletion') && !referenced.has(object.metadata.uid)) {
        this.service.removeFinalizer(storageKey, object, 'foregroundDeletion');
      }
      if (storageKey === 'namespaces' && !entries.some((e) => e.object.metadata.namespace === object.metadata.name)) {
        this.service.finishNamespace(object);
      }
    }
  }
}
