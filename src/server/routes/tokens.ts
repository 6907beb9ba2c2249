/** API tokens (admin only): list, create (the secret is shown once), revoke. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { CreateTokenSchema, CreatedTokenSchema, TokenRefParam, TokenSchema } from '../auth-schemas.js';
import type { ServerDeps } from '../deps.js';
import { access } from '../security/route-security.js';
import { badRequest, conflict, notFound } from './responses.js';
import { z } from '@hono/zod-openapi';

const json = <T>(schema: T) => ({ 'application/json': { schema } });

const list = createRoute(
  access('admin', {
    method: 'get',
    path: '/api/tokens',
    tags: ['tokens'],
    summary: 'List API tokens',
    description: 'Every token, revoked ones included, oldest first; never their secrets.',
    responses: { 200: { description: 'The tokens.', content: json(z.object({ items: z.array(TokenSchema) }).openapi('TokenList')) } },
  }),
);

const create = createRoute(
  access('admin', {
    method: 'post',
    path: '/api/tokens',
    tags: ['tokens'],
    summary: 'Create an API token',
    description: 'The answer carries the secret (`token`) this once; topas stores only its SHA-256 hash.',
    request: { body: { required: true, content: json(CreateTokenSchema) } },
    responses: {
      201: { description: 'The new token with its secret.', content: json(CreatedTokenSchema) },
      400: badRequest,
      409: conflict,
    },
  }),
);

const revoke = createRoute(
  access('admin', {
    method: 'delete',
    path: '/api/tokens/{idOrName}',
    tags: ['tokens'],
    summary: 'Revoke an API token',
    description: 'The token stops working at once, and so do the dashboard sessions made from it.',
    request: { params: TokenRefParam },
    responses: { 204: { description: 'Revoked.' }, 404: notFound, 409: conflict },
  }),
);

export function registerTokenRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { auth } = deps;

  app.openapi(list, async (c) => c.json({ items: await auth.listTokens() }, 200));

  app.openapi(create, async (c) => {
    const { name, role } = c.req.valid('json');
    const { token, secret } = await auth.createToken(name, role);
    c.header('Location', `/api/tokens/${token.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ id: token.id, name: token.name, role: token.role, createdAt: token.createdAt, token: secret }, 201);
  });

  app.openapi(revoke, async (c) => {
    await auth.revokeToken(c.req.valid('param').idOrName);
    return c.body(null, 204);
  });
}
