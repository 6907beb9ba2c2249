/**
 * Logging in to the dashboard: a token (or a login URL's one-time code) becomes a
 * session cookie; who am I; log out; fresh one-time login URLs (admin).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteCookie, getCookie } from 'hono/cookie';
import { UnauthorizedError } from '../../core/errors.js';
import { IdentitySchema, LoginLinkSchema, LoginSchema } from '../auth-schemas.js';
import type { ServerDeps } from '../deps.js';
import { ANONYMOUS_ADMIN, identityOf } from '../security/auth-service.js';
import { HOW_TO_GET_A_TOKEN } from '../security/authenticate.js';
import { callerOf, SESSION_COOKIE } from '../security/context.js';
import { setSessionCookie } from '../security/login-link.js';
import { access, unauthorized } from '../security/route-security.js';
import { badRequest } from './responses.js';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const whoAmI = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/session',
    tags: ['session'],
    summary: 'Who am I',
    description: 'The identity of the token or session cookie the request carries.',
    responses: { 200: { description: 'The caller.', content: json(IdentitySchema) } },
  }),
);

const login = createRoute(
  access('public', {
    method: 'post',
    path: '/api/session',
    tags: ['session'],
    summary: 'Log in (start a dashboard session)',
    description:
      'Exchanges an API token, or the one-time code of a login URL, for a `topas_session` cookie (HttpOnly, SameSite=Strict, 30 days; Secure over https).',
    request: { body: { required: true, content: json(LoginSchema) } },
    responses: {
      200: { description: 'Logged in; `Set-Cookie` carries the session.', content: json(IdentitySchema) },
      400: badRequest,
      401: unauthorized,
    },
  }),
);

const logout = createRoute(
  access('public', {
    method: 'delete',
    path: '/api/session',
    tags: ['session'],
    summary: 'Log out',
    description: 'Deletes the session of the `topas_session` cookie the request carries (if any) and clears the cookie.',
    responses: { 204: { description: 'Logged out.' } },
  }),
);

const loginLink = createRoute(
  access('admin', {
    method: 'post',
    path: '/api/session/login-links',
    tags: ['session'],
    summary: 'Make a one-time login URL',
    description: 'A dashboard URL with a one-time code (15 minutes, single use, kept in the memory of the instance that answered) that logs its opener in as the caller.',
    responses: { 201: { description: 'The URL.', content: json(LoginLinkSchema) } },
  }),
);

export function registerSessionRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { auth } = deps;

  app.openapi(whoAmI, (c) => c.json(callerOf(c), 200));

  app.openapi(login, async (c) => {
    const { token: secret } = c.req.valid('json');
    if (!auth.enabled) return c.json({ ...ANONYMOUS_ADMIN, via: 'cookie' as const }, 200);
    const token = await auth.redeem(secret);
    if (!token) throw new UnauthorizedError(`that token or login code is not valid (unknown, revoked, expired or already used); ${HOW_TO_GET_A_TOKEN}`);
    setSessionCookie(c, await auth.createSession(token.id));
    return c.json(identityOf(token, 'cookie'), 200);
  });

  app.openapi(logout, async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) await auth.deleteSession(cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: new URL(c.req.url).protocol === 'https:' });
    return c.body(null, 204);
  });

  app.openapi(loginLink, (c) => {
    const caller = callerOf(c);
    const origin = new URL(c.req.url).origin;
    c.header('Cache-Control', 'no-store');
    const url = auth.enabled ? `${origin}/?token=${auth.createLoginCode(caller.tokenId)}` : `${origin}/`;
    return c.json({ url }, 201);
  });
}
