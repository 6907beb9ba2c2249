/**
 * Who a request is from: the bearer token names a user, as kube-apiserver's
 * token authenticators do. Two kinds of token are accepted: the server's admin
 * token (user `kubernetes-admin` in `system:masters`, the superuser group) and
 * ServiceAccount tokens, JWTs this server signs (HS256 with a per-server key)
 * for `system:serviceaccount:<ns>:<name>`, valid until they expire and while
 * the ServiceAccount they were made for (same uid) exists.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { JsonObject } from './errors.js';
import type { ObjectStore } from './store.js';

/** An authenticated user, as `user.Info`: name, uid, groups. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The superuser group: kube-apiserver lets it do everything before asking RBAC. */
export const SUPERUSER_GROUP = 'system:masters';
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** The issuer and default audience of the tokens this server makes (as in a kubeadm cluster). */
export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The admin identity of the server's own token. */
export const ADMIN_USER: UserInfo = { username: 'kubernetes-admin', groups: [SUPERUSER_GROUP, AUTHENTICATED_GROUP] };

/** `system:serviceaccount:<ns>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The user a ServiceAccount token authenticates as. */
export function serviceAccountUser(namespace: string, name: string, uid: string): UserInfo {
  return {
    username: serviceAccountUsername(namespace, name),
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED_GROUP],
  };
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, as a TokenRequest's `status.expirationTimestamp`. */
  expirationTimestamp: string;
  /** The token's `aud` claim. */
  audiences: string[];
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class TokenAuthenticator {
  private readonly key = randomBytes(32);

  constructor(
    private readonly adminToken: string,
    private readonly store: ObjectStore,
  ) {}

  /** A signed token for the stored ServiceAccount `sa` (valid `expirationSeconds`, default one hour). */
  issue(sa: JsonObject, options: { expirationSeconds?: number; audiences?: string[] } = {}): IssuedToken {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (options.expirationSeconds ?? 3600);
    const { namespace, name, uid } = sa.metadata;
    const payload = {
      iss: TOKEN_ISSUER,
      aud: options.audiences?.length ? options.audiences : [TOKEN_ISSUER],
      sub: serviceAccountUsername(namespace, name),
      iat: now,
      nbf: now,
      exp,
      'kubernetes.io': { namespace, serviceaccount: { name, uid } },
    };
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    return {
      token: `${unsigned}.${this.sign(unsigned)}`,
      expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      audiences: payload.aud,
    };
  }

  /** The user of an `Authorization` header, or undefined (401) for a missing, unknown, expired or orphaned token. */
  authenticate(header: string | undefined): UserInfo | undefined {
    if (!header?.startsWith('Bearer ')) return undefined;
    const token = header.slice('Bearer '.length).trim();
    if (token === this.adminToken) return ADMIN_USER;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: JsonObject;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
    const k8s = claims['kubernetes.io'] ?? {};
    const sa = this.store.get('serviceaccounts', k8s.namespace, k8s.serviceaccount?.name);
    if (!sa || sa.metadata.uid !== k8s.serviceaccount.uid) return undefined;
    return serviceAccountUser(k8s.namespace, k8s.serviceaccount.name, sa.metadata.uid);
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}
