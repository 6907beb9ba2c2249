/**
 * The in-memory object store: objects by storage key (`plural.group`), namespace
 * and name, one global resourceVersion counter (as etcd's revision), and a uid
 * index (for owner references). It only stores: the rules of the API (defaults,
 * validation, generation, finalizers) live in `object-service.ts`.
 */
import type { JsonObject } from './errors.js';
import { WatchHub, type WatchEventType } from './watch-hub.js';

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class ObjectStore {
  private rv = 1;
  private objects = new Map<string, Map<string, JsonObject>>();
  private uids = new Map<string, { storageKey: string; namespace: string; name: string }>();
  readonly hub: WatchHub;

  constructor(watchWindow: number) {
    this.hub = new WatchHub(watchWindow);
  }

  /** The current resourceVersion (what a list reports). */
  currentRv(): number {
    return this.rv;
  }

  get(storageKey: string, namespace: string, name: string): JsonObject | undefined {
    return this.objects.get(storageKey)?.get(keyOf(namespace, name));
  }

  /** Objects of a kind, in one namespace or all (`namespace` undefined), sorted by namespace then name. */
  list(storageKey: string, namespace?: string): JsonObject[] {
    const all = [...(this.objects.get(storageKey)?.values() ?? [])];
    const picked = namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
    return picked.sort((a, b) =>
      keyOf(a.metadata.namespace ?? '', a.metadata.name).localeCompare(keyOf(b.metadata.namespace ?? '', b.metadata.name)),
    );
  }

  /** Every stored object with its storage key (the garbage collector's scan). */
  *entries(): Generator<{ storageKey: string; object: JsonObject }> {
    for (const [storageKey, map] of this.objects) for (const object of map.values()) yield { storageKey, object };
  }

  byUid(uid: string): JsonObject | undefined {
    return this.entryByUid(uid)?.object;
  }

  /** The stored object with this uid and its storage key. */
  entryByUid(uid: string): { storageKey: string; object: JsonObject } | undefined {
    const ref = this.uids.get(uid);
    const object = ref && this.get(ref.storageKey, ref.namespace, ref.name);
    return object && { storageKey: ref.storageKey, object };
  }

  /** Stores `object` (a new version), stamping the next resourceVersion, and publishes the change. */
  put(storageKey: string, object: JsonObject, type: Exclude<WatchEventType, 'DELETED'>): JsonObject {
    const namespace = object.metadata.namespace ?? '';
    object.metadata.resourceVersion = String(++this.rv);
    let map = this.objects.get(storageKey);
    if (!map) this.objects.set(storageKey, (map = new Map()));
    const previous = map.get(keyOf(namespace, object.metadata.name));
    map.set(keyOf(namespace, object.metadata.name), object);
    this.uids.set(object.metadata.uid, { storageKey, namespace, name: object.metadata.name });
    this.hub.publish({ type, storageKey, namespace, object, previous, rv: this.rv });
    return object;
  }

  /** Removes an object for good; the DELETED event carries a new resourceVersion. */
  remove(storageKey: string, object: JsonObject): JsonObject {
    const namespace = object.metadata.namespace ?? '';
    this.objects.get(storageKey)?.delete(keyOf(namespace, object.metadata.name));
    this.uids.delete(object.metadata.uid);
    const gone = structuredClone(object);
    gone.metadata.resourceVersion = String(++this.rv);
    this.hub.publish({ type: 'DELETED', storageKey, namespace, object: gone, rv: this.rv });
    return gone;
  }
}
