/**
 * RBAC's escalation and bind checks, as kube-apiserver's RBAC registry does
 * them: a user may write a Role or ClusterRole only with rules it holds itself
 * (in that namespace) unless it may `escalate` roles, and may write a binding
 * only to a role whose rules it holds unless it may `bind` that role.
 * `system:masters` is exempt. Rules are compared one (group, resource, verb,
 * name) at a time; the refusal lists what is missing, as the real one does.
 */
import { SUPERUSER_GROUP, type UserInfo } from './authentication.js';
import { ApiError, type JsonObject } from './errors.js';
import type { RbacAuthorizer } from './rbac-authorizer.js';
import { RBAC_GROUP } from './rbac-kinds.js';
import type { RequestAttributes } from './request-attributes.js';
import type { ResourceType } from './resource-type.js';
import type { ObjectStore } from './store.js';

const attrs = (verb: string, resource: string, namespace: string, name: string, apiGroup = RBAC_GROUP): RequestAttributes => {
  const [res, sub = ''] = resource.split('/');
  return { resourceRequest: true, path: '', verb, apiGroup, apiVersion: '', namespace, resource: res, subresource: sub, name };
};

/** Go's `%q` of a string slice: `["a" "b"]`. */
const goQ = (list: string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/** rbac/v1 `CompactString` of a rule. */
function compactString(r: JsonObject): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQ(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQ(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQ(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQ(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${goQ(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** The rules of `rules` that `user` does not hold in `namespace`, each verb-merged per group/resource/name. */
function missingRules(authorizer: RbacAuthorizer, user: UserInfo, namespace: string, rules: JsonObject[]): JsonObject[] {
  const missing = new Map<string, JsonObject>();
  const add = (key: string, rule: JsonObject, verb: string) => {
    const m = missing.get(key) ?? { ...rule, verbs: [] };
    if (!m.verbs.includes(verb)) m.verbs.push(verb);
    missing.set(key, m);
  };
  for (const rule of rules) {
    for (const verb of rule.verbs ?? []) {
      for (const url of rule.nonResourceURLs ?? []) {
        const a: RequestAttributes = { ...attrs(verb, '', '', ''), resourceRequest: false, path: url };
        if (!authorizer.authorize(user, a).allowed) add(`url ${url}`, { nonResourceURLs: [url] }, verb);
      }
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const names: string[] = rule.resourceNames?.length ? rule.resourceNames : [''];
          for (const name of names) {
            if (authorizer.authorize(user, attrs(verb, resource, namespace, name, group)).allowed) continue;
            add(`${group} ${resource} ${name}`, { apiGroups: [group], resources: [resource], ...(name ? { resourceNames: [name] } : {}) }, verb);
          }
        }
      }
    }
  }
  return [...missing.values()];
}

/** The admission check of a write of an RBAC object by `user`: throws 403 Forbidden on escalation. */
export function checkRbacEscalation(authorizer: RbacAuthorizer, store: ObjectStore, user: UserInfo, type: ResourceType, obj: JsonObject): void {
  if (type.group !== RBAC_GROUP || user.groups.includes(SUPERUSER_GROUP)) return;
  const namespace: string = type.namespaced ? (obj.metadata.namespace ?? '') : '';
  const name: string = obj.metadata.name ?? '';
  let rules: JsonObject[];
  if (type.plural === 'roles' || type.plural === 'clusterroles') {
    if (authorizer.authorize(user, attrs('escalate', type.plural, namespace, name)).allowed) return;
    rules = obj.rules ?? [];
  } else {
    const ref = obj.roleRef ?? {};
    const roleType = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    if (authorizer.authorize(user, attrs('bind', roleType, namespace, ref.name ?? '')).allowed) return;
    const role = store.get(`${roleType}.${RBAC_GROUP}`, roleType === 'roles' ? namespace : '', ref.name ?? '');
    rules = role?.rules ?? [];
  }
  const missing = missingRules(authorizer, user, namespace, rules);
  if (missing.length === 0) return;
  throw new ApiError(
    403,
    'Forbidden',
    `${type.plural}.${RBAC_GROUP} "${name}" is forbidden: user "${user.username}" (groups=${goQ(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactString).join('\n')}`,
    { name, group: RBAC_GROUP, kind: type.plural },
  );
}
