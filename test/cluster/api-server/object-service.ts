/**
 * The API's rules for writing objects, whatever the verb or the route: server-set
 * metadata (uid, creationTimestamp, resourceVersion, generation, generateName),
 * optimistic concurrency, the status subresource split, schema validation of
 * custom resources, built-in defaults, finalizers and `deletionTimestamp`, and
 * deletion with its propagation policy. Routes and the garbage collector both
 * write through here.
 */
import { randomUUID } from 'node:crypto';
import { builtinTypes } from './resource-type.js';
import { nameSuffix, prepareBuiltin, validateMetadata } from './builtin-kinds.js';
import { validateBuiltinSchema } from './builtin-schemas.js';
import { crdStatus, validateCrd } from './crd.js';
import { alreadyExists, ApiError, badRequest, conflict, forbidden, invalid, notFound, type FieldError, type JsonObject } from './errors.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import type { ResourceRegistry } from './registry.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';
import { validateCustomResource } from './schema-validation.js';
import type { ObjectStore } from './store.js';

/** RFC 3339 with seconds, as Kubernetes timestamps are. */
export function timestamp(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  fieldValidation?: FieldValidation;
  /** `dryRun=All`: validate and answer as if written, but store nothing. */
  dryRun?: boolean;
  /** `status` to write only the status, or undefined for the main resource. */
  subresource?: string;
  /** Checks the caller may write this object (after defaults and validation); throws to refuse (RBAC escalation). */
  admit?: (type: ResourceType, obj: JsonObject) => void;
}

export interface WriteResult {
  object: JsonObject;
  warnings: string[];
  /** Whether the write created the object (201 instead of 200). */
  created?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  /** `dryRun=All`: answer with what would happen, change nothing. */
  dryRun?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const namespaces = builtinTypes().find((t) => t.plural === 'namespaces')!;
const serviceAccounts = builtinTypes().find((t) => t.plural === 'serviceaccounts')!;
const crds = builtinTypes().find((t) => t.plural === 'customresourcedefinitions')!;

function isCrdType(type: ResourceType): boolean {
  return type.storageKey === crds.storageKey;
}

/** Object content that `generation` tracks: all but metadata (and status, when it is a subresource). */
function specOf(type: ResourceType, obj: JsonObject): JsonObject {
  const { metadata: _m, status, ...rest } = obj;
  return type.hasStatus ? rest : { ...rest, status };
}

/** Deep equality of two JSON values, ignoring key order. */
function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as JsonObject)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as JsonObject)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameContent((a as JsonObject)[k], (b as JsonObject)[k]));
}

export class ObjectService {
  private podTimers = new Set<NodeJS.Timeout>();

  constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
  ) {}

  /** Stops the timers of graceful pod deletions. */
  close(): void {
    for (const t of this.podTimers) clearTimeout(t);
  }

  /** An object as the requested version serves it (custom resources change only `apiVersion`). */
  present(type: ResourceType, obj: JsonObject): JsonObject {
    if (type.conversion) return type.conversion.fromStored(obj);
    return { ...obj, apiVersion: apiVersionOf(type), kind: type.kind };
  }

  /** The type an object is stored (and validated) as. */
  private stored(type: ResourceType): ResourceType {
    return type.conversion ? (this.registry.byStorageKey(type.storageKey) ?? type) : type;
  }

  /** A body of a converted kind in the stored form (others unchanged). */
  private toStored(type: ResourceType, body: unknown): unknown {
    if (!type.conversion || typeof body !== 'object' || body === null) return body;
    const b = body as JsonObject;
    if (b.kind !== undefined && b.kind !== type.kind) return body;
    return type.conversion.toStored(b);
  }

  get(type: ResourceType, namespace: string, name: string): JsonObject {
    const obj = this.store.get(type.storageKey, type.namespaced ? namespace : '', name);
    if (!obj) throw notFound(type.plural, type.group, name);
    return obj;
  }

  private requireNamespace(type: ResourceType, namespace: string, creating: boolean): void {
    if (!type.namespaced) return;
    const ns = this.store.get(namespaces.storageKey, '', namespace);
    if (!ns) throw notFound('namespaces', '', namespace);
    if (creating && ns.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${type.plural}${type.group ? `.${type.group}` : ''} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: type.plural,
        group: type.group || undefined,
      });
    }
  }

  /** Validates and defaults a custom resource or built-in (in place); throws 422/400. */
  private check(type: ResourceType, obj: JsonObject, old: JsonObject | undefined, options: WriteOptions, warnings: string[]): void {
    const errors: FieldError[] = validateMetadata(type, obj);
    const unknown = (fields: string[]) => {
      if (fields.length === 0) return;
      const mode = options.fieldValidation ?? 'Warn';
      if (mode === 'Strict') {
        throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`);
      }
      if (mode === 'Warn') warnings.push(...fields.map((f) => `unknown field "${f}"`));
    };
    if (!type.strategicMerge && !isCrdType(type)) {
      const result = validateCustomResource(type.schema, obj);
      unknown(result.unknownFields);
      errors.push(...result.errors);
    } else if (isCrdType(type)) {
      const result = validateCrd(obj);
      unknown(result.unknownFields);
      errors.push(...result.errors);
    } else {
      errors.push(...prepareBuiltin(type, obj, old, { clusterIpsInUse: () => new Set(this.store.list('services').map((svc) => svc.spec?.clusterIP).filter(Boolean)) }));
    }
    if (type.strategicMerge) {
      // A field both checks name (a required selector) is reported once, as the real server's single validation does.
      const named = new Set(errors.map((e) => `${e.type} ${e.field}`));
      errors.push(...validateBuiltinSchema(type, obj).filter((e) => !named.has(`${e.type} ${e.field}`)));
    }
    if (type.strategicMerge) errors.push(...validateBuiltinSchema(type, obj).filter((e) => !errors.some((x) => x.field === e.field)));
    if (errors.length > 0) throw invalid(type.kind, type.group, obj.metadata.name ?? '', errors);
    options.admit?.(type, obj);
  }

  private normalize(type: ResourceType, namespace: string, body: unknown): JsonObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
    const obj = structuredClone(body) as JsonObject;
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
    return obj;
  }

  create(requested: ResourceType, namespace: string, body: unknown, options: WriteOptions = {}): WriteResult {
    const type = this.stored(requested);
    const obj = this.normalize(type, namespace, this.toStored(requested, body));
    const warnings: string[] = [];
    const meta = obj.metadata;
    if (!meta.name) {
      if (!meta.generateName) throw invalid(type.kind, type.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'Required value: name or generateName is required' }]);
      do meta.name = `${meta.generateName}${nameSuffix()}`;
      while (this.store.get(type.storageKey, meta.namespace ?? '', meta.name));
    }
    this.requireNamespace(type, namespace, true);
    if (this.store.get(type.storageKey, meta.namespace ?? '', meta.name)) throw alreadyExists(type.plural, type.group, meta.name);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (type.hasStatus && !type.strategicMerge) delete obj.status;
    this.check(type, obj, undefined, options, warnings);
    if (isCrdType(type)) obj.status = crdStatus(obj, meta.creationTimestamp);
    if (options.dryRun) return { object: obj, warnings, created: true };
    if (isCrdType(type)) this.registry.defineCrd(obj);
    this.store.put(type.storageKey, obj, 'ADDED');
    if (type.storageKey === namespaces.storageKey) this.ensureDefaultServiceAccount(meta.name);
    return { object: obj, warnings, created: true };
  }

  /** Every namespace gets a `default` ServiceAccount, as the service account controller makes. */
  ensureDefaultServiceAccount(namespace: string): void {
    if (this.store.get(serviceAccounts.storageKey, namespace, 'default')) return;
    this.create(serviceAccounts, namespace, { metadata: { name: 'default' } });
  }

  /** PUT: a full replacement, checked against the stored resourceVersion when the body carries one. */
  update(requested: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions = {}): WriteResult {
    const type = this.stored(requested);
    const obj = this.normalize(type, namespace, this.toStored(requested, body));
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const old = this.get(type, namespace, name);
    return this.replace(type, old, obj, options);
  }

  private replace(type: ResourceType, old: JsonObject, obj: JsonObject, options: WriteOptions): WriteResult {
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(type.plural, type.group, old.metadata.name);
    if (obj.metadata.uid && obj.metadata.uid !== old.metadata.uid) {
      throw conflict(type.plural, type.group, old.metadata.name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    let next: JsonObject;
    if (options.subresource === 'status') {
      next = { ...structuredClone(old), status: obj.status };
      if (obj.status === undefined) delete next.status;
    } else {
      next = obj;
      if (type.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      const m = next.metadata;
      const o = old.metadata;
      m.uid = o.uid;
      m.creationTimestamp = o.creationTimestamp;
      if (o.deletionTimestamp) {
        m.deletionTimestamp = o.deletionTimestamp;
        m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
        const added = (m.finalizers ?? []).filter((f: string) => !(o.finalizers ?? []).includes(f));
        if (added.length > 0) throw invalid(type.kind, type.group, o.name, [forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)]);
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      delete m.managedFields;
      if (o.generation !== undefined) m.generation = o.generation;
      else delete m.generation;
    }
    const warnings: string[] = [];
    this.check(type, next, old, options, warnings);
    if (type.tracksGeneration && !sameContent(specOf(type, next), specOf(type, old))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    if (isCrdType(type)) next.status = crdStatus(next, old.metadata.creationTimestamp);
    // A write that changes nothing keeps the resourceVersion, as on the real server.
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (sameContent(next, old)) return { object: old, warnings };
    if (options.dryRun) return { object: next, warnings };
    if (isCrdType(type)) this.registry.defineCrd(next);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return { object: this.removeNow(type, next), warnings };
    }
    return { object: this.store.put(type.storageKey, next, 'MODIFIED'), warnings };
  }

  /** PATCH: the patch applied to the stored object, then written as an update. Server-side apply is treated as a merge patch that may create. */
  patch(requested: ResourceType, namespace: string, name: string, patchType: PatchType, body: unknown, options: WriteOptions = {}): WriteResult {
    const type = this.stored(requested);
    if (patchType === 'strategic' && !type.strategicMerge) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    const old = this.store.get(type.storageKey, type.namespaced ? namespace : '', name);
    if (!old) {
      if (patchType === 'apply') return this.create(requested, namespace, { ...(body as JsonObject), metadata: { ...((body as JsonObject).metadata ?? {}), name } }, options);
      throw notFound(type.plural, type.group, name);
    }
    const base = this.present(requested, structuredClone(old));
    let patched: unknown;
    if (patchType === 'json') patched = jsonPatch(base, body);
    else if (patchType === 'strategic') patched = strategicMergePatch(base, body);
    else patched = mergePatch(base, body);
    const obj = this.normalize(type, namespace, this.toStored(requested, patched));
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    // A patch's resourceVersion is a precondition only when the patch sets it.
    const patchRv = (body as JsonObject)?.metadata?.resourceVersion;
    if (patchType === 'json' || patchRv === undefined) obj.metadata.resourceVersion = obj.metadata.resourceVersion ?? old.metadata.resourceVersion;
    if (patchType === 'apply') obj.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.replace(type, old, obj, options);
  }

  /** DELETE: marks the object (finalizers, graceful pods, foreground) or removes it now. */
  delete(type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}): JsonObject {
    const old = this.get(type, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw conflict(type.plural, type.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(type.plural, type.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (options.dryRun) return old;
    const next = structuredClone(old);
    const finalizers: string[] = next.metadata.finalizers ?? [];
    const policy = options.propagationPolicy ?? 'Background';
    if (policy === 'Orphan') this.orphanDependents(old.metadata.uid);
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion') && this.hasDependents(old.metadata.uid)) finalizers.push('foregroundDeletion');
    if (type.storageKey === namespaces.storageKey) {
      next.metadata.deletionTimestamp ??= timestamp();
      next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      for (const { storageKey, object } of [...this.store.entries()]) {
        const t = this.registry.byStorageKey(storageKey);
        if (t?.namespaced && object.metadata.namespace === name && !object.metadata.deletionTimestamp) this.delete(t, name, object.metadata.name);
      }
      return this.store.put(type.storageKey, next, 'MODIFIED');
    }
    if (finalizers.length > 0) {
      if (old.metadata.deletionTimestamp && JSON.stringify(finalizers) === JSON.stringify(old.metadata.finalizers)) return old;
      next.metadata.finalizers = finalizers;
      next.metadata.deletionTimestamp ??= timestamp();
      next.metadata.deletionGracePeriodSeconds ??= 0;
      if (type.tracksGeneration) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
      return this.store.put(type.storageKey, next, 'MODIFIED');
    }
    const grace = options.gracePeriodSeconds ?? old.spec?.terminationGracePeriodSeconds ?? 30;
    if (type.storageKey === 'pods' && old.spec?.nodeName && grace > 0 && !['Succeeded', 'Failed'].includes(old.status?.phase)) {
      // A bound pod is deleted gracefully: its kubelet stops it and deletes it with grace 0; the server finishes it after the grace period.
      if (old.metadata.deletionTimestamp) return old;
      next.metadata.deletionTimestamp = timestamp(Date.now() + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      const stored = this.store.put(type.storageKey, next, 'MODIFIED');
      const timer = setTimeout(() => {
        this.podTimers.delete(timer);
        const cur = this.store.get('pods', namespace, name);
        if (cur && cur.metadata.uid === stored.metadata.uid) this.removeNow(type, cur);
      }, grace * 1000);
      timer.unref();
      this.podTimers.add(timer);
      return stored;
    }
    return this.removeNow(type, old);
  }

  private removeNow(type: ResourceType, obj: JsonObject): JsonObject {
    if (isCrdType(type)) {
      const crdName = obj.metadata.name;
      for (const { object } of [...this.store.entries()].filter((e) => e.storageKey === crdName)) this.store.remove(crdName, object);
      this.registry.forgetCrd(crdName);
    }
    return this.present(type, this.store.remove(type.storageKey, obj));
  }

  private hasDependents(uid: string): boolean {
    for (const { object } of this.store.entries()) if ((object.metadata.ownerReferences ?? []).some((r: JsonObject) => r.uid === uid)) return true;
    return false;
  }

  /** Removes owner references to `uid` from every dependent (propagationPolicy=Orphan). */
  orphanDependents(uid: string): void {
    for (const { storageKey, object } of [...this.store.entries()]) {
      const refs: JsonObject[] = object.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      const next = structuredClone(object);
      next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
      if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
      this.store.put(storageKey, next, 'MODIFIED');
    }
  }

  /** Drops one finalizer from a stored object (the garbage collector's step); removing the last one deletes it. */
  removeFinalizer(storageKey: string, object: JsonObject, finalizer: string): void {
    const type = this.registry.byStorageKey(storageKey);
    if (!type) return;
    const next = structuredClone(object);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f: string) => f !== finalizer);
    if (next.metadata.finalizers.length === 0) {
      delete next.metadata.finalizers;
      if (next.metadata.deletionTimestamp) return void this.removeNow(type, next);
    }
    this.store.put(storageKey, next, 'MODIFIED');
  }

  /** Removes a terminating namespace once nothing is left in it. */
  finishNamespace(ns: JsonObject): void {
    this.store.remove(namespaces.storageKey, ns);
  }
}
