/**
 * Authorization as kube-apiserver's RBAC authorizer decides it, read from the
 * stored `rbac.authorization.k8s.io/v1` objects on every request: a request is
 * allowed when a ClusterRoleBinding, or a RoleBinding in the request's
 * namespace, names the user (User by name, Group, ServiceAccount) and the
 * Role/ClusterRole it refers to has a rule covering the request (verbs,
 * apiGroups, resources — `*`, `<resource>`, `<resource>/<subresource>`, and
 * `*` slash `<subresource>` for that subresource of every resource —, resourceNames, and — ClusterRoles bound cluster-wide only — nonResourceURLs
 * with a trailing `*`). Members of `system:masters` are allowed everything
 * before RBAC is asked, as kube-apiserver's privileged-group authorizer does.
 * A binding that names a missing role contributes an `RBAC: …` reason to the
 * denial, as the real one does.
 */
import { SUPERUSER_GROUP, type UserInfo } from './authentication.js';
import { ApiError, type JsonObject } from './errors.js';
import { RBAC_GROUP } from './rbac-kinds.js';
import type { RequestAttributes } from './request-attributes.js';
import type { ObjectStore } from './store.js';

const keys = { roles: `roles.${RBAC_GROUP}`, clusterRoles: `clusterroles.${RBAC_GROUP}`, roleBindings: `rolebindings.${RBAC_GROUP}`, clusterRoleBindings: `clusterrolebindings.${RBAC_GROUP}` };

export interface Decision {
  allowed: boolean;
  /** Why: `RBAC: allowed by …` when allowed; the binding errors (missing roles) when denied, else empty. */
  reason: string;
}

function has(list: unknown, value: string): boolean {
  return Array.isArray(list) && list.includes(value);
}

/** `VerbMatches`, `APIGroupMatches`, `ResourceMatches`, `ResourceNameMatches` and `NonResourceURLMatches` of rbac/v1. */
export function ruleAllows(rule: JsonObject, a: RequestAttributes): boolean {
  if (!has(rule.verbs, '*') && !has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u: string) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, '*') && !has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources: string[] = rule.resources ?? [];
  const resourceOk = resources.some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`));
  if (!resourceOk) return false;
  const names: string[] = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

function subjectDescription(s: JsonObject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

/** `appliesToUser` of the RBAC authorizer: the binding subject that names `user`, if any. */
function matchingSubject(user: UserInfo, subjects: JsonObject[] | undefined, bindingNamespace: string): JsonObject | undefined {
  return (subjects ?? []).find((s) => {
    switch (s.kind) {
      case 'User':
        return s.name === user.username;
      case 'Group':
        return user.groups.includes(s.name);
      case 'ServiceAccount':
        return user.username === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    }
    return false;
  });
}

export class RbacAuthorizer {
  constructor(private readonly store: ObjectStore) {}

  /** Each binding that names `user` (cluster-wide, then in `namespace`), with its role, or the error of a missing role. */
  private *grants(user: UserInfo, namespace: string): Generator<{ source: string; rules: JsonObject[] } | { error: string }> {
    const bindings: { binding: JsonObject; namespace: string }[] = [
      ...this.store.list(keys.clusterRoleBindings).map((binding) => ({ binding, namespace: '' })),
      ...(namespace ? this.store.list(keys.roleBindings, namespace).map((binding) => ({ binding, namespace })) : []),
    ];
    for (const { binding, namespace: ns } of bindings) {
      const subject = matchingSubject(user, binding.subjects, ns);
      if (!subject) continue;
      const ref = binding.roleRef ?? {};
      const role = ref.kind === 'ClusterRole' ? this.store.get(keys.clusterRoles, '', ref.name) : ref.kind === 'Role' && ns ? this.store.get(keys.roles, ns, ref.name) : undefined;
      if (!role) {
        yield { error: `${ref.kind === 'ClusterRole' ? 'clusterrole' : 'role'}.rbac.authorization.k8s.io "${ref.name}" not found` };
        continue;
      }
      const bindingName = ns ? `RoleBinding "${binding.metadata.name}/${ns}"` : `ClusterRoleBinding "${binding.metadata.name}"`;
      yield { source: `${bindingName} of ${ref.kind} "${ref.name}" to ${subjectDescription(subject, ns)}`, rules: role.rules ?? [] };
    }
  }

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    if (user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: '' };
    const errors: string[] = [];
    for (const grant of this.grants(user, a.namespace)) {
      if ('error' in grant) errors.push(grant.error);
      else if (grant.rules.some((rule) => ruleAllows(rule, a))) return { allowed: true, reason: `RBAC: allowed by ${grant.source}` };
    }
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '' };
  }

  /** What `user` may do in `namespace` (a SelfSubjectRulesReview's status, without `incomplete`). */
  rulesFor(user: UserInfo, namespace: string): { resourceRules: JsonObject[]; nonResourceRules: JsonObject[]; evaluationError?: string } {
    if (user.groups.includes(SUPERUSER_GROUP)) {
      return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };
    }
    const resourceRules: JsonObject[] = [];
    const nonResourceRules: JsonObject[] = [];
    const errors: string[] = [];
    for (const grant of this.grants(user, namespace)) {
      if ('error' in grant) errors.push(grant.error);
      else
        for (const r of grant.rules) {
          if ((r.nonResourceURLs ?? []).length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
          else resourceRules.push({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) });
        }
    }
    return { resourceRules, nonResourceRules, ...(errors.length ? { evaluationError: errors.join(', ') } : {}) };
  }
}

/** kube-apiserver's 403 for a denied request (`responsewriters.Forbidden`): the message names the user, verb, resource and scope. */
export function forbiddenError(user: UserInfo, a: RequestAttributes, reason: string): ApiError {
  let message: string;
  if (!a.resourceRequest) {
    message = `User "${user.username}" cannot ${a.verb} path "${a.path}"`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    message = `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
  }
  if (reason) message = `${message}: ${reason}`;
  if (!a.resourceRequest || !a.resource) return new ApiError(403, 'Forbidden', `forbidden: ${message}`, {});
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  return new ApiError(403, 'Forbidden', a.name ? `${qualified} "${a.name}" is forbidden: ${message}` : `${qualified} is forbidden: ${message}`, {
    ...(a.name ? { name: a.name } : {}),
    ...(a.apiGroup ? { group: a.apiGroup } : {}),
    kind: a.resource,
  });
}
