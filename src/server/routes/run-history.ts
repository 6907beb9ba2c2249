/** A run among the other runs of its test: run it again, compare it with an earlier one. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { compareRuns, type ComparedRun } from '../../core/compare.js';
import { ConflictError, TopasError } from '../../core/errors.js';
import type { Run } from '../../core/run.js';
import { maskSecrets } from '../../core/run-view.js';
import { keepMaskedSecrets } from '../../core/secrets.js';
import type { ServerDeps } from '../deps.js';
import { CompareQuery, RerunSchema, RunComparisonSchema } from '../run-schemas.js';
import { RunIdParam, RunSchema } from '../schemas.js';
import { badRequest, conflict, notFound } from './responses.js';
import { requireRun } from './runs.js';
import { access } from '../security/route-security.js';
import { callerOf } from '../security/context.js';
import { assertMayChangeStoredRun } from '../security/stored-env-reuse.js';

const rerun = createRoute(
  access('runner', {
    method: 'post',
    path: '/api/runs/{id}/rerun',
    tags: ['runs'],
    summary: 'Run a run again',
    description:
      'Queues a new run with the same script and files (as the original ran them, even if its definition changed since), definition id, file name, env (merged with `env`; a secret sent back as `***` keeps its value), timeout, labels, App and name. An imported run (origin `import`) has nothing to run: 409. A rerun that changes an env value of a run with stored env needs the `editor` role: a runner may only rerun as-is (stored values may be secrets).',
    request: { params: RunIdParam, body: { required: false, content: { 'application/json': { schema: RerunSchema } } } },
    responses: {
      201: {
        description: 'The new run, in phase Queued. `Location` is its URL.',
        headers: { Location: { schema: { type: 'string' }, description: 'URL of the new run.' } },
        content: { 'application/json': { schema: RunSchema } },
      },
      400: badRequest,
      404: notFound,
      409: conflict,
    },
  }),
);

const compare = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs/{id}/compare',
    tags: ['runs'],
    summary: 'Compare a run with an earlier one',
    description:
      'Steps and assertions that newly fail, were fixed, still fail, or exist in one run only, between the `with` run (base; default: the previous run of the same test) and this one (head). 404 when there is no previous run.',
    request: { params: RunIdParam, query: CompareQuery },
    responses: {
      200: { description: 'The comparison.', content: { 'application/json': { schema: RunComparisonSchema } } },
      400: badRequest,
      404: notFound,
    },
  }),
);

/** What "the same test" means for `previous`, in words for a 404. */
function sameTest(run: Run): string {
  return run.source.type === 'definition'
    ? `of definition ${run.source.definitionId}`
    : `named ${JSON.stringify(run.name)} without a definition`;
}

export function registerRunHistoryRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store, engine } = deps;

  app.openapi(rerun, async (c) => {
    const original = await requireRun(deps, c.req.valid('param').id);
    if (original.origin === 'import') {
      throw new ConflictError(`run ${original.id} was imported from a test report: topas has no script to run again; import the next report instead`, { origin: 'import' });
    }
    const body = c.req.valid('json') ?? {};
    assertMayChangeStoredRun(callerOf(c), `run ${original.id}`, original, { env: body.env });
    const run = await engine.submit({
      origin: body.origin ?? 'api',
      name: original.name,
      source: original.source,
      // values sent back as shown (`***`, `postgres://app:***@db`) keep the original's
      env: { ...original.env, ...keepMaskedSecrets(body.env ?? {}, original.env) },
      timeoutSeconds: original.timeoutSeconds,
      labels: original.labels,
      appName: original.appName,
      appReadOnly: original.appReadOnly,
    });
    c.header('Location', `/api/runs/${run.id}`);
    return c.json(maskSecrets(run), 201);
  });

  app.openapi(compare, async (c) => {
    const head = await requireRun(deps, c.req.valid('param').id);
    const against = c.req.valid('query').with ?? 'previous';
    let base: Run | null;
    if (against === 'previous') {
      base = await store.previousRun(head);
      if (!base) {
        throw new TopasError('NotFound', `run ${head.id} has no previous run (no earlier run ${sameTest(head)}); pass with=<run id> to compare with another run`, {
          kind: 'run',
          id: head.id,
        });
      }
    } else base = await requireRun(deps, against);
    const read = async (run: Run): Promise<ComparedRun> => {
      const [steps, assertions] = await Promise.all([store.getSteps(run.id), store.getAssertions(run.id)]);
      return { run, steps, assertions };
    };
    const [b, h] = await Promise.all([read(base), read(head)]);
    return c.json(compareRuns(b, h), 200);
  });
}
