/**
 * The login URL `topas up` prints (`http://127.0.0.1:4000/?token=<code>`), as
 * Jupyter's server does it: a dashboard GET with `?token=` (a one-time code or a
 * real token) becomes a session cookie and a 302 to the same path without the token,
 * so the secret leaves the address bar and the history. A code that is used up,
 * expired or unknown changes nothing: the dashboard loads and shows its login page.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { setCookie } from 'hono/cookie';
import type { AuthService, NewSessionCookie } from './auth-service.js';
import { SESSION_COOKIE } from './context.js';
import { isApiPath } from '../web-assets.js';

/** Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure when served over https. */
export function setSessionCookie(c: Context, session: NewSessionCookie): void {
  setCookie(c, SESSION_COOKIE, session.value, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: new URL(c.req.url).protocol === 'https:',
    expires: session.expiresAt,
    maxAge: Math.max(0, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
  });
}

export function loginLink(auth: AuthService): MiddlewareHandler {
  return async (c, next) => {
    if (!auth.enabled || (c.req.method !== 'GET' && c.req.method !== 'HEAD') || isApiPath(c.req.path)) return next();
    const url = new URL(c.req.url);
    const code = url.searchParams.get('token');
    if (code === null) return next();
    const token = await auth.redeem(code);
    if (!token) return next();
    setSessionCookie(c, await auth.createSession(token.id));
    url.searchParams.delete('token');
    const rest = url.searchParams.toString();
    c.header('Cache-Control', 'no-store');
    return c.redirect(`${url.pathname}${rest ? `?${rest}` : ''}`, 302);
  };
}
