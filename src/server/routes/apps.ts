/**
 * Apps — the systems under test — as `kubectl apply` would take them: PUT a manifest
 * (apiVersion topas.dev/v1alpha1, kind App), read its status, delete it. Responses
 * show the App's secrets as `***` (`core/app-view.ts`); a PUT of what was shown keeps them.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { APP_API_VERSION, APP_KIND, AppApplySchema, AppSchema } from '../../core/app.js';
import { keepMaskedAppSecrets, maskAppSecrets } from '../../core/app-view.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { AppNameSchema } from '../../core/schemas/names.js';
import type { ServerDeps } from '../deps.js';
import { badRequest, notFound } from './responses.js';
import { access } from '../security/route-security.js';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

/** The App name in the path, checked by the App's own name rule before anything touches the App's folder. */
const NameParam = z.object({
  name: AppNameSchema.meta({ param: { name: 'name', in: 'path' }, description: 'The App name (a DNS label).', example: 'demo' }),
});

const ManifestBody = AppApplySchema.meta({
  id: 'AppManifest',
  description:
    'An App manifest as `kubectl apply` takes it: `{ apiVersion: "topas.dev/v1alpha1", kind: "App", metadata: { name }, spec: { services, databases } }`. `apiVersion`, `kind` and `metadata.name` may be left out (taken from the path). Unknown fields are refused; validation errors name them (`spec.services[1].port: must be an integer from 1 to 65535, got 0`).',
  example: {
    apiVersion: APP_API_VERSION,
    kind: APP_KIND,
    metadata: { name: 'demo' },
    spec: {
      services: [{ name: 'users', version: 'v1', replicas: 2, port: 8080, local: { command: ['node', 'server.js', '--port', '${port}'], readinessProbe: { httpGet: { path: '/healthz' } } } }],
      databases: [{ name: 'users-db', image: 'postgres:16-alpine', port: 5432, credentials: { user: 'admin', password: 'secret', dbname: 'users' }, initSQL: 'CREATE TABLE users (id serial primary key)' }],
    },
  },
});

// The core schema (plain zod, created before zod-openapi extends it) is documented inline.
const AppResponse = AppSchema;

const put = createRoute(
  access('editor', {
    method: 'put',
    path: '/api/apps/{name}',
    tags: ['apps'],
    summary: 'Create or replace an App',
    description: 'Stores the spec (generation goes up when it changed) and converges the running App to it; answers once the changes have started (databases created, processes starting). Follow readiness with GET.',
    request: { params: NameParam, body: { required: true, content: json(ManifestBody) } },
    responses: {
      200: { description: 'The App was replaced.', content: json(AppResponse) },
      201: { description: 'The App was created.', content: json(AppResponse) },
      400: badRequest,
    },
  }),
);

const list = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/apps',
    tags: ['apps'],
    summary: 'List Apps with their status',
    responses: { 200: { description: 'Every App, by name.', content: json(z.object({ items: z.array(AppResponse) }).openapi('AppList')) } },
  }),
);

const read = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/apps/{name}',
    tags: ['apps'],
    summary: 'Read an App and its live status',
    request: { params: NameParam },
    responses: { 200: { description: 'The App.', content: json(AppResponse) }, 404: notFound },
  }),
);

const remove = createRoute(
  access('editor', {
    method: 'delete',
    path: '/api/apps/{name}',
    tags: ['apps'],
    summary: 'Delete an App',
    description: 'Stops its processes and removes its databases (with their data).',
    request: { params: NameParam },
    responses: { 204: { description: 'Deleted.' }, 404: notFound },
  }),
);

export function registerAppRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const apps = () => {
    if (!deps.apps) throw new NotFoundError('App controller', 'this server runs none');
    return deps.apps;
  };

  app.openapi(put, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    const metadata = body.metadata ?? {};
    if (metadata.name !== undefined && metadata.name !== name) {
      throw new ValidationError([{ field: 'metadata.name', message: `must match the name in the path ("${name}"), got ${JSON.stringify(metadata.name)}` }]);
    }
    // An App read from this API (secrets shown as ***) and sent back keeps its stored secrets.
    const stored = body.spec ? await apps().get(name) : null;
    const spec = body.spec && stored ? keepMaskedAppSecrets(body.spec, stored.spec) : body.spec;
    const manifest = { apiVersion: APP_API_VERSION, kind: APP_KIND, ...body, ...(spec ? { spec } : {}), metadata: { ...metadata, name } };
    const result = await apps().apply(manifest);
    return c.json(maskAppSecrets(result.app) as z.infer<typeof AppResponse>, result.created ? 201 : 200);
  });

  app.openapi(list, async (c) => c.json({ items: (await apps().list()).map(maskAppSecrets) as z.infer<typeof AppResponse>[] }, 200));

  app.openapi(read, async (c) => {
    const { name } = c.req.valid('param');
    const found = await apps().get(name);
    if (!found) throw new NotFoundError('App', name);
    return c.json(maskAppSecrets(found) as z.infer<typeof AppResponse>, 200);
  });

  app.openapi(remove, async (c) => {
    const { name } = c.req.valid('param');
    if (!(await apps().delete(name))) throw new NotFoundError('App', name);
    return c.body(null, 204);
  });
}
