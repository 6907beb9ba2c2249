/**
 * Whether a live child of an App needs a write, so that a reconcile with nothing changed
 * writes nothing, and a hand edit (image, replicas, env, ports, probe) is put back.
 *
 * Only fields topas sets are compared, and only as far as topas sets them: a desired
 * object is compared as a *subset* of the live one (maps: every desired key equal;
 * lists: same length, element by element), so what the API server defaults
 * (`protocol`, `scheme`, `clusterIP`, `terminationMessagePath`…) and annotations others
 * add (`kubectl rollout restart`'s `restartedAt`) never count as drift. Secrets and
 * ConfigMaps compare their `data` exactly. Jobs are never updated: their template is
 * immutable and their name carries the SQL's hash. A StatefulSet's
 * `volumeClaimTemplates` are immutable and only apply when it is created: not compared.
 *
 * To apply an `update`, send the desired object as a JSON merge patch
 * (`application/merge-patch+json`): its lists replace the live ones, its maps merge.
 */
import type { AppChild } from './app-children.js';
import { SPEC_HASH_ANNOTATION } from './app-child-meta.js';

interface OwnedObject {
  metadata?: { name?: string; ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[] };
}

/** What the reconciler should do with one desired child. */
export type ChildDiff =
  /** No live object: create it. */
  | { action: 'create' }
  /** The live object is as desired: write nothing. */
  | { action: 'none' }
  /**
   * Patch it. `SpecChanged`: the App's spec changed since it was built (its
   * `topas.dev/spec-hash` differs); `Drifted`: someone edited it. `fields`: the paths
   * that differ, e.g. `spec.template.spec.containers[0].image`.
   */
  | { action: 'update'; reason: 'SpecChanged' | 'Drifted'; fields: string[] }
  /** An object of that name exists but its controller is not this App: leave it alone and report it. */
  | { action: 'conflict'; message: string };

/** True when `obj`'s controller owner reference points at the object with this uid. */
export function isOwnedBy(obj: OwnedObject, uid: string): boolean {
  return Boolean(obj.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid));
}

/** Why a live object of a child's name is not the App's, or null when it is. */
export function ownershipConflict(live: OwnedObject, app: { name: string; uid: string }, kind: string): string | null {
  if (isOwnedBy(live, app.uid)) return null;
  const controller = live.metadata?.ownerReferences?.find((r) => r.controller);
  const by = controller
    ? controller.kind === 'App' && controller.name === app.name
      ? 'an earlier App of the same name (still being deleted)'
      : `${controller.kind} ${controller.name}`
    : 'no owner (made by someone else)';
  return `${kind} ${live.metadata?.name} already exists and is not managed by App ${app.name}: its controller is ${by}; delete or rename it`;
}

/** Compares a desired child with the live object of its kind and name (null: none). */
export function diffChild(desired: AppChild, live: unknown, app: { name: string; uid: string }): ChildDiff {
  if (live === null || live === undefined) return { action: 'create' };
  const conflict = ownershipConflict(live as OwnedObject, app, desired.kind);
  if (conflict) return { action: 'conflict', message: conflict };
  if (desired.kind === 'Job') return { action: 'none' };

  const l = live as Record<string, Record<string, unknown> | undefined>;
  const d = desired as unknown as Record<string, Record<string, unknown> | undefined>;
  const fields: string[] = [];
  subsetDiff(desired.metadata.labels, l.metadata?.labels, 'metadata.labels', fields);
  subsetDiff(desired.metadata.annotations, l.metadata?.annotations, 'metadata.annotations', fields);
  switch (desired.kind) {
    case 'Secret':
    case 'ConfigMap':
      exactDiff(d.data, l.data ?? {}, 'data', fields);
      if (desired.kind === 'Secret') subsetDiff(d.type, l.type, 'type', fields);
      break;
    case 'StatefulSet': {
      const { volumeClaimTemplates: _immutable, ...spec } = d.spec ?? {};
      subsetDiff(spec, l.spec, 'spec', fields);
      break;
    }
    default:
      subsetDiff(d.spec, l.spec, 'spec', fields);
  }
  if (!fields.length) return { action: 'none' };
  const hash = (l.metadata?.annotations as Record<string, string> | undefined)?.[SPEC_HASH_ANNOTATION];
  const specChanged = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION] !== undefined && hash !== desired.metadata.annotations[SPEC_HASH_ANNOTATION];
  return { action: 'update', reason: specChanged ? 'SpecChanged' : 'Drifted', fields };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Appends to `out` the paths where `desired` is not a subset of `live`. */
function subsetDiff(desired: unknown, live: unknown, path: string, out: string[]): void {
  if (desired === undefined) return;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return void out.push(path);
    desired.forEach((item, i) => subsetDiff(item, live[i], `${path}[${i}]`, out));
    return;
  }
  if (isObject(desired)) {
    if (!isObject(live)) return void out.push(path);
    for (const [k, v] of Object.entries(desired)) subsetDiff(v, live[k], `${path}.${k}`, out);
    return;
  }
  if (desired !== live) out.push(path);
}

/** Maps of strings that must be equal, key for key. */
function exactDiff(desired: unknown, live: unknown, path: string, out: string[]): void {
  const a = (desired ?? {}) as Record<string, unknown>;
  const b = (live ?? {}) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) out.push(`${path}.${k}`);
}
