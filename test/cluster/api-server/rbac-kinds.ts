/**
 * The `rbac.authorization.k8s.io/v1` kinds' defaults and validation (the
 * part of kube-apiserver's RBAC registry strategy clients notice): rule
 * shapes (verbs required; resource rules need apiGroups and resources;
 * nonResourceURLs only in ClusterRoles, never mixed with resources), binding
 * roleRefs (defaulted apiGroup; Role or ClusterRole; immutable) and subjects
 * (kind, defaulted apiGroup, ServiceAccount namespace), and the cluster's
 * bootstrap roles and bindings (`cluster-admin`, `system:discovery`,
 * `system:basic-user`, `system:public-info-viewer`). Aggregated ClusterRoles
 * (`admin`, `edit`, `view`) are not made.
 */
import { invalidValue, notSupported, required, type FieldError, type JsonObject } from './errors.js';
import type { ResourceType } from './resource-type.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Whether `type` is one of the four RBAC kinds. */
export function isRbacType(type: Pick<ResourceType, 'group'>): boolean {
  return type.group === RBAC_GROUP;
}

/** RBAC names are path segments (`system:discovery` is valid), not DNS subdomains: `ValidateRBACName`. */
export function rbacNameErrors(name: string): FieldError[] {
  if (name === '.' || name === '..') return [invalidValue('metadata.name', name, `may not be '${name}'`)];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [invalidValue('metadata.name', name, `may not contain '${bad}'`)];
  return [];
}

function goStrings(list: unknown[]): string {
  return `[]string{${list.map((v) => JSON.stringify(v)).join(', ')}}`;
}

function ruleErrors(rules: unknown, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  (Array.isArray(rules) ? rules : []).forEach((rule: JsonObject, i: number) => {
    const at = `rules[${i}]`;
    if (Array.isArray(rule?.verbs) && rule.verbs.length === 0) errors.push(required(`${at}.verbs`, 'verbs must contain at least one value'));
    const urls: string[] = rule?.nonResourceURLs ?? [];
    if (urls.length > 0) {
      if (namespaced) errors.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, detail: `Invalid value: ${goStrings(urls)}: namespaced rules cannot apply to non-resource URLs` });
      if ((rule.apiGroups ?? []).length || (rule.resources ?? []).length || (rule.resourceNames ?? []).length) {
        errors.push({ type: 'FieldValueInvalid', field: `${at}.nonResourceURLs`, detail: `Invalid value: ${goStrings(urls)}: rules cannot apply to both regular resources and non-resource URLs` });
      }
      return;
    }
    if (!(rule?.apiGroups ?? []).length) errors.push(required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!(rule?.resources ?? []).length) errors.push(required(`${at}.resources`, 'resource rules must supply at least one resource'));
  });
  return errors;
}

function goRoleRef(r: JsonObject | undefined): string {
  return `rbac.RoleRef{APIGroup:${JSON.stringify(r?.apiGroup ?? '')}, Kind:${JSON.stringify(r?.kind ?? '')}, Name:${JSON.stringify(r?.name ?? '')}}`;
}

function bindingErrors(obj: JsonObject, old: JsonObject | undefined, cluster: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const ref = obj.roleRef;
  if (ref && typeof ref === 'object') {
    ref.apiGroup ||= RBAC_GROUP;
    if (ref.apiGroup !== RBAC_GROUP) errors.push(notSupported('roleRef.apiGroup', ref.apiGroup, [RBAC_GROUP]));
    const kinds = cluster ? ['ClusterRole'] : ['Role', 'ClusterRole'];
    if (!kinds.includes(ref.kind)) errors.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
    if (!ref.name) errors.push(required('roleRef.name'));
  }
  (Array.isArray(obj.subjects) ? obj.subjects : []).forEach((s: JsonObject, i: number) => {
    const at = `subjects[${i}]`;
    if (!s || typeof s !== 'object') return;
    if (s.apiGroup === undefined || s.apiGroup === '') s.apiGroup = s.kind === 'ServiceAccount' ? '' : RBAC_GROUP;
    if (!s.name) errors.push(required(`${at}.name`));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup !== '') errors.push(notSupported(`${at}.apiGroup`, s.apiGroup, ['']));
        if (cluster && !s.namespace) errors.push(required(`${at}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errors.push(notSupported(`${at}.apiGroup`, s.apiGroup, [RBAC_GROUP]));
        break;
      default:
        errors.push(notSupported(`${at}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(obj.roleRef)) {
    errors.push({ type: 'FieldValueInvalid', field: 'roleRef', detail: `Invalid value: ${goRoleRef(obj.roleRef)}: cannot change roleRef` });
  }
  return errors;
}

/** Defaults an RBAC object (in place) and returns its field errors; `old` is the stored object on an update. */
export function prepareRbac(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  switch (type.plural) {
    case 'roles':
      return ruleErrors(obj.rules, true);
    case 'clusterroles':
      return ruleErrors(obj.rules, false);
    case 'rolebindings':
      return bindingErrors(obj, old, false);
    case 'clusterrolebindings':
      return bindingErrors(obj, old, true);
  }
  return [];
}

const bootstrapMeta = (name: string) => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});

function clusterRole(name: string, rules: JsonObject[]): JsonObject {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: bootstrapMeta(name), rules };
}

function clusterRoleBinding(name: string, groups: string[]): JsonObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: bootstrapMeta(name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
    subjects: groups.map((g) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name: g })),
  };
}

const publicInfo = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

/** The bootstrap policy kube-apiserver makes at start (the part of it this server needs). */
export function bootstrapPolicy(): { clusterRoles: JsonObject[]; clusterRoleBindings: JsonObject[] } {
  return {
    clusterRoles: [
      clusterRole('cluster-admin', [
        { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
        { nonResourceURLs: ['*'], verbs: ['*'] },
      ]),
      clusterRole('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
      clusterRole('system:public-info-viewer', [{ nonResourceURLs: publicInfo, verbs: ['get'] }]),
      clusterRole('system:basic-user', [
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
      ]),
    ],
    clusterRoleBindings: [
      clusterRoleBinding('cluster-admin', ['system:masters']),
      clusterRoleBinding('system:discovery', ['system:authenticated']),
      clusterRoleBinding('system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
      clusterRoleBinding('system:basic-user', ['system:authenticated']),
    ],
  };
}
