/**
 * Every API call and `/metrics` needs a credential: `Authorization: Bearer <token>`
 * (the CLI, scripts, SSE from code) or the dashboard's `topas_session` cookie.
 * Public: `/healthz`, `/readyz`, `/openapi.json`, the dashboard's files, and logging in and
 * out (`POST`/`DELETE /api/session`). A missing, unknown or revoked credential is a
 * 401 that says how to get one. Which role a route needs is declared with the route
 * (`route-security.ts`) and checked by `requireRole`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.js';
import { isRunToken, runnerPathOf } from '../../core/run-token.js';
import { ANONYMOUS_ADMIN, identityOf, type AuthService } from './auth-service.js';
import { SESSION_COOKIE } from './context.js';

/** Requests that need no credential. The dashboard's files are outside `/api` and pass anyway. */
export function isPublicRequest(method: string, path: string): boolean {
  if (path === '/api/session') return method === 'POST' || method === 'DELETE';
  return !(path === '/api' || path.startsWith('/api/') || path === '/metrics');
}

/** What a 401 tells the caller to do. */
export const HOW_TO_GET_A_TOKEN =
  'send "Authorization: Bearer <token>": the admin token is in the data folder (.topas/admin-token) of the machine running topas, other tokens come from "npx topas token create --role viewer --name NAME"; in a browser, open the login URL "topas up" printed (or "npx topas token url")';

function bearerOf(c: Context): string | null | undefined {
  const header = c.req.header('authorization');
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export function authenticate(auth: AuthService): MiddlewareHandler {
  return async (c, next) => {
    if (isPublicRequest(c.req.method, c.req.path)) return next();
    if (!auth.enabled) {
      c.set('identity', { ...ANONYMOUS_ADMIN, via: getCookie(c, SESSION_COOKIE) ? 'cookie' : 'bearer' });
      return next();
    }
    const bearer = bearerOf(c);
    if (bearer === null) throw new UnauthorizedError(`the Authorization header must be "Bearer <token>"; ${HOW_TO_GET_A_TOKEN}`);
    if (bearer !== undefined && isRunToken(bearer)) {
      // A per-run token: its run's runner routes and nothing else (no reading runs either).
      const runId = await auth.verifyRunToken(bearer);
      if (!runId) throw new UnauthorizedError('the run token is not valid: unknown, expired, or its run has ended');
      if (!c.req.path.startsWith(runnerPathOf(runId))) {
        throw new ForbiddenError(`a run token allows only ${runnerPathOf(runId)}…; this needs an API token`, { runId });
      }
      c.set('identity', { name: `run-${runId}`, role: 'viewer', tokenId: '', via: 'bearer', runId });
      return next();
    }
    if (bearer !== undefined) {
      const token = await auth.verifyToken(bearer);
      if (!token) throw new UnauthorizedError(`the token is not valid (unknown or revoked); ${HOW_TO_GET_A_TOKEN}`);
      c.set('identity', identityOf(token, 'bearer'));
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) {
      const token = await auth.verifySession(cookie);
      if (!token) throw new UnauthorizedError(`the session has ended (expired, logged out, or its token was revoked); log in again: ${HOW_TO_GET_A_TOKEN}`);
      c.set('identity', identityOf(token, 'cookie'));
      return next();
    }
    throw new UnauthorizedError(`this needs a token; ${HOW_TO_GET_A_TOKEN}`);
  };
}
