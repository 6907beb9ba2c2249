/**
 * Who may do what. Every API call carries a token (or a dashboard session made
 * from one) with one role; each role can do everything the roles before it can.
 *
 * - `viewer`: read runs, logs, definitions, Apps, insights.
 * - `runner`: also start runs, rerun a run as-is, cancel.
 * - `editor`: also change definitions and Apps, run with changes (env, script, files)
 *   that would reuse stored secrets.
 * - `admin`: also manage tokens and settings.
 */
export const ROLES = ['viewer', 'runner', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `role` can do what `needed` can (roles are ordered, each includes the ones before). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is calling, as `GET /api/session` answers. */
export interface Identity {
  /** The token's name (`admin` for the token the first start creates). */
  name: string;
  role: Role;
  /** The token's id (not the secret). */
  tokenId: string;
  /** How the caller authenticated: a bearer token, or a dashboard session cookie. */
  via: 'bearer' | 'cookie';
  /** Set for a per-run token (`core/run-token.ts`): the one run whose runner routes it may call; nothing else. */
  runId?: string;
}
