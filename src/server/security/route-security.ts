/**
 * Who may call a route, declared once, with the route: `access('runner', {...})`
 * wraps a `createRoute` config so that the role check runs before the request is
 * validated, and `/openapi.json` shows it — `security` (bearer or session cookie),
 * an `x-topas-role` extension, a line in the description, and the 401/403 answers.
 * Public routes say `access('public', …)`: `security: []`.
 */
import type { MiddlewareHandler } from 'hono';
import type { RouteConfig } from '@hono/zod-openapi';
import type { Role } from '../../core/roles.js';
import { ErrorSchema } from '../schemas.js';
import { requireRole, requireRunToken } from './require-role.js';

/**
 * A role; `public`: no credential needed; `run`: the run's own per-run token (the
 * runner routes `/api/runs/{id}/runner/…`), or an admin token.
 */
export type Access = Role | 'public' | 'run';

/** The security schemes of `/openapi.json`. */
export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API token (`topas_…`): the admin token is written to `<data folder>/admin-token` at the first start; others come from `topas token create` or `POST /api/tokens`.',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'topas_session',
    description: 'The dashboard session, made by `POST /api/session` or by opening a login URL (`/?token=…`).',
  },
} as const;

const error = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

export const unauthorized = error('No token, or an unknown or revoked one (`Unauthorized`); the message says how to get one.');
export const forbidden = error('The token\'s role is too low (`Forbidden`); the message names the role needed and the role held.');

type WithAccess<R> = R & { middleware: MiddlewareHandler[]; security: Record<string, string[]>[] };

export function access<R extends RouteConfig>(who: Access, route: R): WithAccess<R> {
  if (who === 'public') {
    const description = [route.description, 'Public: no token needed.'].filter(Boolean).join('\n\n');
    return { ...route, description, middleware: [], security: [] };
  }
  if (who === 'run') {
    const description = [route.description, 'Needs the run\'s per-run token (`topas_run_…`, minted when the run is dispatched to a remote runner), or an `admin` token.'].filter(Boolean).join('\n\n');
    return {
      ...route,
      description,
      middleware: [requireRunToken()],
      security: [{ bearerAuth: [] }],
      'x-topas-role': 'run',
      responses: { ...route.responses, 401: unauthorized, 403: forbidden },
    };
  }
  const description = [route.description, `Needs the \`${who}\` role (or higher).`].filter(Boolean).join('\n\n');
  return {
    ...route,
    description,
    middleware: [requireRole(who)],
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    'x-topas-role': who,
    responses: { ...route.responses, 401: unauthorized, 403: forbidden },
  };
}
