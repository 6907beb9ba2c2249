/**
 * The official schemas of the built-in kinds (from `kubernetes-models`), checked
 * on every write after defaults are applied: a wrong type or a missing required
 * field of the spec is a 422 naming the field. (The real server rejects type
 * errors while decoding, as a 400; unknown fields of built-in kinds are not
 * detected here; `status` is not checked, as the real server barely checks it.
 * CRDs are checked by `crd.ts` instead: the models' schema is stricter than the server.)
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Event as EventV1 } from 'kubernetes-models/events.k8s.io/v1/Event';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Endpoints } from 'kubernetes-models/v1/Endpoints';
import { Event } from 'kubernetes-models/v1/Event';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Node } from 'kubernetes-models/v1/Node';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { invalidValue, required, type FieldError, type JsonObject } from './errors.js';
import type { ResourceType } from './resource-type.js';

type Model = new (data: any) => { validate(): void };

const models: Record<string, Model> = {
  '/pods': Pod,
  '/configmaps': ConfigMap,
  '/secrets': Secret,
  '/services': Service,
  '/serviceaccounts': ServiceAccount,
  '/endpoints': Endpoints,
  'discovery.k8s.io/endpointslices': EndpointSlice,
  '/events': Event,
  '/namespaces': Namespace,
  '/nodes': Node,
  'events.k8s.io/events': EventV1,
  'coordination.k8s.io/leases': Lease,
  'apps/deployments': Deployment,
  'apps/replicasets': ReplicaSet,
  '/persistentvolumeclaims': PersistentVolumeClaim,
  'apps/statefulsets': StatefulSet,
  'batch/jobs': Job,
  'rbac.authorization.k8s.io/roles': Role,
  'rbac.authorization.k8s.io/clusterroles': ClusterRole,
  'rbac.authorization.k8s.io/rolebindings': RoleBinding,
  'rbac.authorization.k8s.io/clusterrolebindings': ClusterRoleBinding,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: { missingProperty?: string };
}

function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`))
    .join('');
}

function valueAt(obj: JsonObject, pointer: string): unknown {
  let cur: any = obj;
  for (const p of pointer.split('/').filter(Boolean)) cur = cur?.[p];
  return cur;
}

export function validateBuiltinSchema(type: ResourceType, obj: JsonObject): FieldError[] {
  const Model = models[`${type.group}/${type.plural}`];
  if (!Model) return [];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const errors: AjvError[] = (e as { errors?: AjvError[] }).errors ?? [];
    const seen = new Set<string>();
    const out: FieldError[] = [];
    for (const err of errors) {
      if (['anyOf', 'oneOf', 'if'].includes(err.keyword)) continue;
      // The real server is lenient with status (Go zero values stand in for "required" fields).
      if (err.instancePath.startsWith('/status') || (err.instancePath === '' && err.params.missingProperty === 'status')) continue;
      const base = fieldPath(err.instancePath);
      const error =
        err.keyword === 'required' && err.params.missingProperty
          ? required(base ? `${base}.${err.params.missingProperty}` : err.params.missingProperty)
          : invalidValue(base, valueAt(obj, err.instancePath), err.message ?? err.keyword);
      if (seen.has(error.field)) continue;
      seen.add(error.field);
      out.push(error);
    }
    return out;
  }
}
