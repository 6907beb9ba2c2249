/** Tests: test cases across runs (issue 12) — list, one test with its flaky evidence, its history, quarantine. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { NotFoundError } from '../../core/errors.js';
import type { ServerDeps } from '../deps.js';
import { HistoryQuery, ListTestsQuery, QuarantineBody, TestDetailSchema, TestHistoryPageSchema, TestIdParam, TestPageSchema, TestSummarySchema } from '../test-schemas.js';
import { badRequest, notFound } from './responses.js';
import { access } from '../security/route-security.js';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const list = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/tests',
    tags: ['tests'],
    summary: 'List test cases',
    description: 'Every test case seen in finished runs, newest last run first, keyset-paginated (pass `nextCursor` as `cursor`).',
    request: { query: ListTestsQuery },
    responses: { 200: { description: 'A page of tests.', content: json(TestPageSchema) }, 400: badRequest },
  }),
);

const read = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/tests/{id}',
    tags: ['tests'],
    summary: 'Read a test case',
    description: 'Its summary, the flaky window and the evidence of its flakiness (the runs where it flipped, a revision it passed and failed on).',
    request: { params: TestIdParam },
    responses: { 200: { description: 'The test.', content: json(TestDetailSchema) }, 400: badRequest, 404: notFound },
  }),
);

const history = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/tests/{id}/history',
    tags: ['tests'],
    summary: "A test case's results across runs",
    description: 'Newest first, keyset-paginated.',
    request: { params: TestIdParam, query: HistoryQuery },
    responses: { 200: { description: 'A page of results.', content: json(TestHistoryPageSchema) }, 400: badRequest, 404: notFound },
  }),
);

const quarantine = createRoute(
  access('editor', {
    method: 'put',
    path: '/api/tests/{id}/quarantine',
    tags: ['tests'],
    summary: 'Quarantine a test case',
    description:
      'The test still runs and its results are recorded, but its failures no longer fail runs: a run whose every failure is quarantined ends `Passed` with `summary.quarantinedFailures`. Audited (who, when, why).',
    request: { params: TestIdParam, body: { required: true, content: json(QuarantineBody) } },
    responses: { 200: { description: 'The quarantined test.', content: json(TestSummarySchema) }, 400: badRequest, 404: notFound },
  }),
);

const release = createRoute(
  access('editor', {
    method: 'delete',
    path: '/api/tests/{id}/quarantine',
    tags: ['tests'],
    summary: 'Release a test case from quarantine',
    description: 'Its next failure fails the run again. Audited. Releasing a test that is not quarantined changes nothing.',
    request: { params: TestIdParam },
    responses: { 200: { description: 'The test.', content: json(TestSummarySchema) }, 400: badRequest, 404: notFound },
  }),
);

export function registerTestRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store } = deps;
  const actorOf = (c: { get: (key: 'identity') => { name: string } | undefined }): string | null => c.get('identity')?.name ?? null;

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await store.listTests(
      { text: q.text, definitionId: q.definition, appName: q.app, origin: q.origin, category: q.category, outcome: q.outcome, flaky: q.flaky, quarantined: q.quarantined },
      { limit: q.limit, cursor: q.cursor },
    );
    return c.json(page, 200);
  });

  app.openapi(read, async (c) => {
    const { id } = c.req.valid('param');
    const test = await store.getTest(id);
    if (!test) throw new NotFoundError('test', id);
    return c.json(test, 200);
  });

  app.openapi(history, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const page = await store.testHistory(id, { limit: q.limit, cursor: q.cursor });
    if (!page) throw new NotFoundError('test', id);
    return c.json(page, 200);
  });

  app.openapi(quarantine, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const test = await store.quarantineTest(id, actorOf(c), reason);
    if (!test) throw new NotFoundError('test', id);
    return c.json(test, 200);
  });

  app.openapi(release, async (c) => {
    const { id } = c.req.valid('param');
    const test = await store.releaseTest(id, actorOf(c));
    if (!test) throw new NotFoundError('test', id);
    return c.json(test, 200);
  });
}
