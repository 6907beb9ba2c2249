/**
 * The `scale` subresource of Deployments and ReplicaSets (`kubectl scale`): an
 * `autoscaling/v1` Scale whose `spec.replicas` is the object's, and whose status
 * carries the observed replicas and the selector in its string form. Writing it
 * (PUT, or a patch of the Scale) changes only the object's `spec.replicas`.
 */
import { selectorString } from './apps-kinds.js';
import { conflict, invalid, invalidValue, type JsonObject } from './errors.js';
import type { ObjectService, PatchType } from './object-service.js';
import { jsonPatch, mergePatch } from './patch.js';
import type { ResourceType } from './resource-type.js';

/** The Scale of a stored Deployment or ReplicaSet. */
export function scaleOf(obj: JsonObject): JsonObject {
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorString(obj.spec?.selector) },
  };
}

/** PUT (no `patchType`) or PATCH of the Scale; returns the new Scale. */
export function writeScale(service: ObjectService, type: ResourceType, namespace: string, name: string, body: unknown, patchType: PatchType | undefined, dryRun: boolean): JsonObject {
  const current = service.get(type, namespace, name);
  const scale = scaleOf(current);
  const next = (patchType === 'json' ? jsonPatch(scale, body) : patchType ? mergePatch(scale, body) : body) as JsonObject;
  const rv = next?.metadata?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) throw conflict(type.plural, type.group, name);
  const replicas = next?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', 'autoscaling', name, [invalidValue('spec.replicas', replicas ?? 0, 'must be greater than or equal to 0')]);
  }
  const result = service.patch(type, namespace, name, 'merge', { spec: { replicas } }, { dryRun });
  return scaleOf(result.object);
}
