/**
 * The requests about the caller itself that are answered, not stored:
 * `authorization.k8s.io/v1` SelfSubjectAccessReview (`kubectl auth can-i`) and
 * SelfSubjectRulesReview (`kubectl auth can-i --list`),
 * `authentication.k8s.io/v1` SelfSubjectReview (`kubectl auth whoami`), and
 * the ServiceAccount `token` subresource, a TokenRequest (`kubectl create
 * token`). The caller's permission to make the request itself was checked
 * before it got here, like any other create.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenAuthenticator, UserInfo } from './authentication.js';
import { ApiError, invalid, invalidValue, notFound, type JsonObject } from './errors.js';
import { readBody, sendJson } from './http-io.js';
import type { RbacAuthorizer } from './rbac-authorizer.js';
import type { RequestAttributes } from './request-attributes.js';
import type { ObjectStore } from './store.js';

/** Who is asking and how to answer: set per request by the server. */
export interface AuthContext {
  user: UserInfo;
  authorizer: RbacAuthorizer;
  tokens: TokenAuthenticator;
}

/** The kinds served by this module (no storage; create only). */
export const reviewKinds = ['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview'];

function reviewAttributes(spec: JsonObject | undefined): RequestAttributes | undefined {
  const r = spec?.resourceAttributes;
  const n = spec?.nonResourceAttributes;
  if (!!r === !!n) return undefined;
  if (r) {
    return {
      resourceRequest: true,
      path: '',
      verb: r.verb ?? '',
      apiGroup: r.group ?? '',
      apiVersion: r.version ?? '',
      namespace: r.namespace ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      name: r.name ?? '',
    };
  }
  return { resourceRequest: false, path: n.path ?? '', verb: n.verb ?? '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
}

/** POST of a review kind: the answer, 201 as kube-apiserver sends it. */
export async function serveReview(auth: AuthContext, kind: string, apiVersion: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = ((await readBody(req)) ?? {}) as JsonObject;
  const base = { kind, apiVersion, metadata: { creationTimestamp: null } };
  switch (kind) {
    case 'SelfSubjectAccessReview': {
      const attributes = reviewAttributes(body.spec);
      if (!attributes) {
        throw invalid(kind, 'authorization.k8s.io', '', [
          invalidValue('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
        ]);
      }
      const decision = auth.authorizer.authorize(auth.user, attributes);
      const status: JsonObject = { allowed: decision.allowed };
      if (decision.reason) status.reason = decision.reason;
      return sendJson(res, 201, { ...base, spec: body.spec, status });
    }
    case 'SelfSubjectRulesReview': {
      const namespace: string = body.spec?.namespace ?? '';
      return sendJson(res, 201, { ...base, spec: body.spec ?? {}, status: { ...auth.authorizer.rulesFor(auth.user, namespace), incomplete: false } });
    }
    case 'SelfSubjectReview': {
      const userInfo: JsonObject = { username: auth.user.username, groups: auth.user.groups };
      if (auth.user.uid) userInfo.uid = auth.user.uid;
      return sendJson(res, 201, { ...base, status: { userInfo } });
    }
  }
  throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** POST `serviceaccounts/<name>/token`: a TokenRequest answered with a new token for that ServiceAccount. */
export async function serveTokenRequest(auth: AuthContext, store: ObjectStore, namespace: string, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = ((await readBody(req)) ?? {}) as JsonObject;
  const sa = store.get('serviceaccounts', namespace, name);
  if (!sa) throw notFound('serviceaccounts', '', name);
  const spec: JsonObject = { audiences: body.spec?.audiences ?? [], expirationSeconds: body.spec?.expirationSeconds ?? 3600, boundObjectRef: body.spec?.boundObjectRef ?? null };
  if (!Number.isInteger(spec.expirationSeconds) || spec.expirationSeconds < 600) {
    throw invalid('TokenRequest', 'authentication.k8s.io', name, [invalidValue('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes')]);
  }
  const issued = auth.tokens.issue(sa, { expirationSeconds: spec.expirationSeconds, audiences: spec.audiences });
  if (spec.audiences.length === 0) spec.audiences = [issued.audiences[0]];
  sendJson(res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec,
    status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
  });
}
