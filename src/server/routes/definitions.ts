/** Test definitions: named, stored tests that runs can be started from. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { TestDefinition } from '../../core/definition.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { ServerDeps } from '../deps.js';
import {
  CreateDefinitionSchema,
  DefinitionRefParam,
  DefinitionListItemSchema,
  DefinitionSchema,
  ListDefinitionsQuery,
  PatchDefinitionSchema,
  RunFromDefinitionSchema,
  RunSchema,
  pageSchema,
} from '../schemas.js';
import { badRequest, conflict, notFound } from './responses.js';
import { maskSecrets } from '../../core/run-view.js';
import { keepMaskedSecrets } from '../../core/secrets.js';
import { access } from '../security/route-security.js';
import { callerOf } from '../security/context.js';
import { assertMayChangeStoredRun } from '../security/stored-env-reuse.js';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const definitionBody = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: json(schema) } });

const create = createRoute(
  access('editor', {
    method: 'post',
    path: '/api/definitions',
    tags: ['definitions'],
    summary: 'Create a test definition',
    request: definitionBody(CreateDefinitionSchema),
    responses: {
      201: { description: 'The stored definition.', content: json(DefinitionSchema) },
      400: badRequest,
      409: conflict,
    },
  }),
);

const list = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/definitions',
    tags: ['definitions'],
    summary: 'List test definitions',
    description: 'Keyset-paginated; pass `nextCursor` as `cursor` to read the next page. Each item carries `lastRun`, its last result.',
    request: { query: ListDefinitionsQuery },
    responses: {
      200: { description: 'A page of definitions.', content: json(pageSchema(DefinitionListItemSchema, 'DefinitionPage')) },
      400: badRequest,
    },
  }),
);

const read = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/definitions/{idOrName}',
    tags: ['definitions'],
    summary: 'Read a test definition',
    request: { params: DefinitionRefParam },
    responses: { 200: { description: 'The definition.', content: json(DefinitionSchema) }, 404: notFound },
  }),
);

const replace = createRoute(
  access('editor', {
    method: 'put',
    path: '/api/definitions/{idOrName}',
    tags: ['definitions'],
    summary: 'Replace a test definition',
    description: 'Every field is replaced; omitted optional fields return to their defaults.',
    request: { params: DefinitionRefParam, ...definitionBody(CreateDefinitionSchema) },
    responses: {
      200: { description: 'The updated definition.', content: json(DefinitionSchema) },
      400: badRequest,
      404: notFound,
      409: conflict,
    },
  }),
);

const patch = createRoute(
  access('editor', {
    method: 'patch',
    path: '/api/definitions/{idOrName}',
    tags: ['definitions'],
    summary: 'Change fields of a test definition',
    request: { params: DefinitionRefParam, ...definitionBody(PatchDefinitionSchema) },
    responses: {
      200: { description: 'The updated definition.', content: json(DefinitionSchema) },
      400: badRequest,
      404: notFound,
      409: conflict,
    },
  }),
);

const remove = createRoute(
  access('editor', {
    method: 'delete',
    path: '/api/definitions/{idOrName}',
    tags: ['definitions'],
    summary: 'Delete a test definition',
    description: 'Runs started from it keep their snapshot of the script.',
    request: { params: DefinitionRefParam },
    responses: { 204: { description: 'Deleted.' }, 404: notFound },
  }),
);

const runDefinition = createRoute(
  access('runner', {
    method: 'post',
    path: '/api/definitions/{idOrName}/runs',
    tags: ['definitions', 'runs'],
    summary: 'Start a run of a test definition',
    description:
      'The definition script is snapshotted onto the run; `env` is merged over the definition env (a secret sent back as `***` keeps its value). Changing an env value of a definition with stored env needs the `editor` role: a runner may only run it as-is (stored values may be secrets).',
    request: { params: DefinitionRefParam, body: { required: false, content: json(RunFromDefinitionSchema) } },
    responses: {
      201: {
        description: 'The run, in phase Queued.',
        headers: { Location: { schema: { type: 'string' }, description: 'URL of the new run.' } },
        content: json(RunSchema),
      },
      400: badRequest,
      404: notFound,
    },
  }),
);

export function registerDefinitionRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store, engine, config } = deps;

  async function requireDefinition(idOrName: string): Promise<TestDefinition> {
    const definition = await store.getDefinition(idOrName);
    if (!definition) throw new NotFoundError('definition', idOrName);
    return definition;
  }

  /** Names are unique; say so before the store does, with a fix. */
  async function assertNameFree(name: string, exceptId?: string): Promise<void> {
    const existing = await store.getDefinition(name);
    if (existing && existing.name === name && existing.id !== exceptId) {
      throw new ConflictError(`a definition named ${JSON.stringify(name)} already exists (id ${existing.id}); choose another name or update it with PUT/PATCH`, {
        field: 'name',
        id: existing.id,
      });
    }
  }

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    await assertNameFree(body.name);
    const definition = await store.createDefinition({ timeoutSeconds: config.defaultTimeoutSeconds, ...body });
    c.header('Location', `/api/definitions/${definition.id}`);
    return c.json(maskSecrets(definition), 201);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await store.listDefinitions({ text: q.q, limit: q.limit, cursor: q.cursor ?? null });
    const last = await store.lastRunsOfDefinitions(page.items.map((d) => d.id));
    return c.json({ ...page, items: page.items.map((d) => ({ ...maskSecrets(d), lastRun: last.get(d.id) ?? null })) }, 200);
  });

  app.openapi(read, async (c) => c.json(maskSecrets(await requireDefinition(c.req.valid('param').idOrName)), 200));

  app.openapi(replace, async (c) => {
    const current = await requireDefinition(c.req.valid('param').idOrName);
    const body = c.req.valid('json');
    await assertNameFree(body.name, current.id);
    const updated = await store.updateDefinition(current.id, {
      name: body.name,
      description: body.description ?? '',
      script: body.script,
      // secrets sent back as *** (as GET shows them) keep their stored values
      env: keepMaskedSecrets(body.env ?? {}, current.env),
      timeoutSeconds: body.timeoutSeconds ?? config.defaultTimeoutSeconds,
      labels: body.labels ?? {},
      appName: body.appName ?? null,
      files: body.files ?? {},
    });
    if (!updated) throw new NotFoundError('definition', current.id);
    return c.json(maskSecrets(updated), 200);
  });

  app.openapi(patch, async (c) => {
    const current = await requireDefinition(c.req.valid('param').idOrName);
    const body = c.req.valid('json');
    if (body.name !== undefined) await assertNameFree(body.name, current.id);
    const updated = await store.updateDefinition(current.id, body.env ? { ...body, env: keepMaskedSecrets(body.env, current.env) } : body);
    if (!updated) throw new NotFoundError('definition', current.id);
    return c.json(maskSecrets(updated), 200);
  });

  app.openapi(remove, async (c) => {
    const current = await requireDefinition(c.req.valid('param').idOrName);
    if (!(await store.deleteDefinition(current.id))) throw new NotFoundError('definition', current.id);
    return c.body(null, 204);
  });

  app.openapi(runDefinition, async (c) => {
    const definition = await requireDefinition(c.req.valid('param').idOrName);
    const body = c.req.valid('json') ?? {};
    assertMayChangeStoredRun(callerOf(c), `definition ${JSON.stringify(definition.name)}`, definition, { env: body.env });
    // env values sent back as shown (`***`, `postgres://app:***@db`) keep the definition's
    const env = body.env === undefined ? undefined : keepMaskedSecrets(body.env, definition.env);
    const run = await engine.submit({ ...body, ...(env ? { env } : {}), origin: body.origin ?? 'api', definitionId: definition.id });
    c.header('Location', `/api/runs/${run.id}`);
    return c.json(maskSecrets(run), 201);
  });
}
