/**
 * User impersonation (`Impersonate-User` / `Impersonate-Group` headers,
 * `kubectl --as=… --as-group=…`), as kube-apiserver's impersonation filter
 * does it: the caller needs the `impersonate` verb on `users` (or on the
 * `serviceaccounts` object for `system:serviceaccount:<ns>:<name>`) and on
 * each `groups` entry; the request then runs as that user, with
 * `system:authenticated` added (and a ServiceAccount's own groups). `Impersonate-Uid`
 * and `Impersonate-Extra-*` are not supported (ignored).
 */
import type { IncomingMessage } from 'node:http';
import { AUTHENTICATED_GROUP, type UserInfo } from './authentication.js';
import { badRequest, type ApiError } from './errors.js';
import { forbiddenError, type RbacAuthorizer } from './rbac-authorizer.js';
import type { RequestAttributes } from './request-attributes.js';

function headerValues(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const impersonateAttributes = (resource: string, name: string, namespace = ''): RequestAttributes => ({
  resourceRequest: true,
  path: '',
  verb: 'impersonate',
  apiGroup: '',
  apiVersion: 'v1',
  namespace,
  resource,
  subresource: '',
  name,
});

/** The user the request runs as: `user` itself without impersonation headers, else the impersonated one, or the error to answer. */
export function impersonatedUser(req: IncomingMessage, user: UserInfo, authorizer: RbacAuthorizer): UserInfo | ApiError {
  const name = headerValues(req.headers['impersonate-user'])[0];
  const groups = headerValues(req.headers['impersonate-group']);
  if (name === undefined) {
    if (groups.length) return badRequest(`requested impersonation of groups ${groups.join(', ')} without impersonating a user`);
    return user;
  }
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const checks = [sa ? impersonateAttributes('serviceaccounts', sa[2], sa[1]) : impersonateAttributes('users', name), ...groups.map((g) => impersonateAttributes('groups', g))];
  for (const attributes of checks) {
    const decision = authorizer.authorize(user, attributes);
    if (!decision.allowed) return forbiddenError(user, attributes, decision.reason);
  }
  const all = [...(sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : []), ...groups];
  if (name !== 'system:anonymous' && !all.includes(AUTHENTICATED_GROUP)) all.push(AUTHENTICATED_GROUP);
  return { username: name, groups: all };
}
