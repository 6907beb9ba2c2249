/** Runs: start (one or a batch), list, read, cancel. Every write goes through the engine. */
import type { z as zod } from 'zod';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from '../../core/errors.js';
import type { RunRequest } from '../../engine/engine.js';
import { isTerminal } from '../../core/run-phase.js';
import { UUID } from '../../core/schemas/names.js';
import type { Run } from '../../core/run.js';
import { maskSecrets, toRunListItem } from '../../core/run-view.js';
import type { ServerDeps } from '../deps.js';
import { CreateRunSchema, ListRunsQuery, RunDetailSchema, RunIdParam, RunSchema, pageSchema, runFilterOf } from '../schemas.js';
import { badRequest, conflict, notFound } from './responses.js';
import { RunListItemSchema } from '../run-schemas.js';
import { access } from '../security/route-security.js';
import { callerOf } from '../security/context.js';
import { assertMayChangeStoredRun } from '../security/stored-env-reuse.js';
import { keepMaskedSecrets } from '../../core/secrets.js';
import { DEFAULT_GIT_REVISION } from '../../core/run.js';
import { sharedRead } from '../read-cache.js';

/** The run, or NotFoundError — also for ids that are not UUIDs (they cannot exist). */
export async function requireRun(deps: ServerDeps, id: string): Promise<Run> {
  const run = UUID.test(id) ? await deps.store.getRun(id.toLowerCase()) : null;
  if (!run) throw new NotFoundError('run', id);
  return run;
}

const createRun = createRoute(
  access('runner', {
    method: 'post',
    path: '/api/runs',
    tags: ['runs'],
    summary: 'Start a run',
    description:
      'Queues a run of an inline Lua `script`, of a stored definition (`definitionId`, id or name), or of a test in a git repository (`source.git`: `url`, `path`, `revision`, checked out when the run executes; a failed checkout ends the run `Error`/`SourceUnavailable`). Exactly one of the three. With `definitionId`, changing an env value or the App of a definition with stored env needs the `editor` role (stored values may be secrets).',
    request: { body: { required: true, content: { 'application/json': { schema: CreateRunSchema } } } },
    responses: {
      201: {
        description: 'The run, in phase Queued, or already Running when it could start at once. `Location` is its URL.',
        headers: { Location: { schema: { type: 'string' }, description: 'URL of the new run.' } },
        content: { 'application/json': { schema: RunSchema } },
      },
      400: badRequest,
      404: notFound,
    },
  }),
);

/** Most runs one `POST /api/runs:batch` takes. */
export const MAX_BATCH_RUNS = 1000;

const CreateRunBatchSchema = z
  .strictObject({
    runs: z
      .array(CreateRunSchema)
      .min(1, { error: 'must hold at least one run' })
      .max(MAX_BATCH_RUNS, { error: `must hold at most ${MAX_BATCH_RUNS} runs; split the batch` })
      .meta({ description: `The runs to start, each as the body of \`POST /api/runs\` (1 to ${MAX_BATCH_RUNS}).` }),
  })
  .meta({ id: 'CreateRunBatch', description: 'Several runs to start in one call (CI fan-out).' });

const RunBatchSchema = z
  .object({ runs: z.array(RunSchema).openapi({ description: 'The runs, in the order of the request.' }) })
  .openapi('RunBatch');

const createRunBatch = createRoute(
  access('runner', {
    method: 'post',
    path: '/api/runs:batch',
    tags: ['runs'],
    summary: 'Start several runs',
    description: `Starts up to ${MAX_BATCH_RUNS} runs in one call, each given as the body of \`POST /api/runs\` (same rules and roles). All or nothing: when one is invalid, none is started and the 400 names \`runs[i].field\`. The runs are stored together, in order; each is Queued, or already Running when it could start at once.`,
    request: { body: { required: true, content: { 'application/json': { schema: CreateRunBatchSchema } } } },
    responses: {
      201: { description: 'The runs, in the order of the request.', content: { 'application/json': { schema: RunBatchSchema } } },
      400: badRequest,
    },
  }),
);

const listRuns = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs',
    tags: ['runs'],
    summary: 'List runs',
    description:
      'Newest first, keyset-paginated: pass `nextCursor` as `cursor` to read the next page. Items leave out the script and the bundled files; read one run for those.',
    request: { query: ListRunsQuery },
    responses: {
      200: { description: 'A page of runs. `ETag` names this answer: send it as `If-None-Match` to get 304 while nothing changed.', content: { 'application/json': { schema: pageSchema(RunListItemSchema, 'RunPage') } } },
      304: { description: 'Not modified: the `If-None-Match` tag still names the current answer.' },
      400: badRequest,
    },
  }),
);

const getRun = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs/{id}',
    tags: ['runs'],
    summary: 'Read a run',
    description: 'The run with its steps and assertions.',
    request: { params: RunIdParam },
    responses: {
      200: { description: 'The run. `ETag` names this answer: send it as `If-None-Match` to get 304 while nothing changed.', content: { 'application/json': { schema: RunDetailSchema } } },
      304: { description: 'Not modified: the `If-None-Match` tag still names the current answer.' },
      404: notFound,
    },
  }),
);

const cancelRun = createRoute(
  access('runner', {
    method: 'post',
    path: '/api/runs/{id}/cancel',
    tags: ['runs'],
    summary: 'Cancel a run',
    description: 'A Queued run is Cancelled at once; a Running run is stopped, then Cancelled. 409 when it already finished.',
    request: { params: RunIdParam },
    responses: {
      200: { description: 'The run after the cancel request.', content: { 'application/json': { schema: RunSchema } } },
      404: notFound,
      409: conflict,
    },
  }),
);

type CreateRun = zod.output<typeof CreateRunSchema>;

export function registerRunRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store, engine } = deps;

  /** A request body as the engine's run request; a definition's stored env stays the caller's to change only as an editor. */
  const toRunRequest = async (caller: ReturnType<typeof callerOf>, body: CreateRun): Promise<RunRequest> => {
    let env = body.env;
    if (body.definitionId !== undefined) {
      // A definition's stored env may hold secrets: changing where such a run goes takes editor.
      const definition = await store.getDefinition(body.definitionId);
      if (!definition) throw new NotFoundError('test definition', body.definitionId);
      assertMayChangeStoredRun(caller, `definition ${JSON.stringify(definition.name)}`, definition, { env: body.env, appName: body.appName });
      if (env !== undefined) env = keepMaskedSecrets(env, definition.env);
    }
    const { source, ...rest } = body;
    return {
      ...rest,
      ...(env ? { env } : {}),
      ...(source ? { source: { type: 'git', url: source.git.url, path: source.git.path, revision: source.git.revision ?? DEFAULT_GIT_REVISION } } : {}),
      origin: body.origin ?? 'api',
    };
  };

  app.openapi(createRun, async (c) => {
    const run = await engine.submit(await toRunRequest(callerOf(c), c.req.valid('json')));
    c.header('Location', `/api/runs/${run.id}`);
    return c.json(maskSecrets(run), 201);
  });

  app.openapi(createRunBatch, async (c) => {
    const caller = callerOf(c);
    const requests: RunRequest[] = [];
    const issues: FieldIssue[] = [];
    for (const [i, body] of c.req.valid('json').runs.entries()) {
      try {
        requests.push(await toRunRequest(caller, body));
      } catch (error) {
        // All or nothing: every unknown definition is named, nothing is started.
        if (!(error instanceof NotFoundError)) throw error;
        issues.push({ field: `runs[${i}].definitionId`, message: error.message });
      }
    }
    if (issues.length) throw new ValidationError(issues);
    const runs = await engine.submitMany(requests);
    return c.json({ runs: runs.map(maskSecrets) }, 201);
  });

  // Reads are shared between identical concurrent requests and carry an ETag (`read-cache.ts`).
  app.openapi(listRuns, (c) => {
    const q = c.req.valid('query');
    return sharedRead(c, deps.reads, async () => {
      const page = await store.listRuns(runFilterOf(q), { limit: q.limit, cursor: q.cursor ?? null });
      return { items: page.items.map(toRunListItem), nextCursor: page.nextCursor };
    });
  });

  app.openapi(getRun, (c) => {
    const id = c.req.valid('param').id;
    return sharedRead(c, deps.reads, async () => {
      const detail = UUID.test(id) ? await store.getRunDetail(id.toLowerCase()) : null;
      if (!detail) throw new NotFoundError('run', id);
      return { ...maskSecrets(detail.run), steps: detail.steps, assertions: detail.assertions };
    });
  });

  app.openapi(cancelRun, async (c) => {
    const run = await requireRun(deps, c.req.valid('param').id);
    if (isTerminal(run.phase)) {
      throw new ConflictError(`run ${run.id} already finished (${run.phase}); only Queued or Running runs can be cancelled`, {
        phase: run.phase,
      });
    }
    return c.json(maskSecrets(await engine.cancel(run.id)), 200);
  });
}
