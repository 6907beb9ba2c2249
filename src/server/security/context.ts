/** What the security middleware leaves on a request for the routes: the caller's identity. */
import type { Context } from 'hono';
import type { Identity } from '../../core/roles.js';
import { UnauthorizedError } from '../../core/errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `authenticate` on every request that needs a token. */
    identity: Identity;
  }
}

/** The dashboard's session cookie. */
export const SESSION_COOKIE = 'topas_session';

/** The authenticated caller; throws 401 on a route that was not behind `authenticate` (a wiring mistake). */
export function callerOf(c: Context): Identity {
  const identity = c.get('identity');
  if (!identity) throw new UnauthorizedError('this route needs a token');
  return identity;
}
