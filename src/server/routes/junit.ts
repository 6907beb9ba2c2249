/** JUnit XML reports of runs, for CI systems: one run, or the runs a run-list filter selects. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { junitReport, type JUnitRunInput } from '../../core/junit-report.js';
import type { LogLine } from '../../core/run-events.js';
import type { Run } from '../../core/run.js';
import type { ServerDeps } from '../deps.js';
import type { Categorizer } from '../../core/categories.js';
import { rulesJudge, runResults } from '../run-results.js';
import { ListRunsQuery, RunIdParam, runFilterOf } from '../schemas.js';
import { badRequest, notFound } from './responses.js';
import { requireRun } from './runs.js';
import { access } from '../security/route-security.js';

/** The most runs one `/api/junit.xml` document holds (the newest ones). */
export const JUNIT_MAX_RUNS = 500;
/** The most log lines a run contributes to the report's `system-out` (the first ones). */
export const JUNIT_MAX_LOG_LINES = 10_000;

const XML = 'application/xml; charset=utf-8';
const xmlContent = { 'application/xml': { schema: { type: 'string' as const, description: 'A JUnit XML document (Jenkins junit-10.xsd).' } } };

const MAPPING =
  'Each run is a `testsuite` (name, timestamp, hostname = executor, time, counts, `properties`: run.id, origin, phase, app, reason, category (a failed run\'s failure category), `label.<key>`); each `test(...)` block a `testcase` (`classname` = the definition name or script file, `name` = the path of test names, unique in the suite); a failed assertion is a `failure` (its body ends with the failure category, `category: Config Gap (rule config-gap)`), a script error, timeout or cancel an `error` with the reason, a skipped test `skipped`; the test\'s log lines are its `system-out`. A run without tests is one testcase.';

const getRunJUnit = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs/{id}/junit.xml',
    tags: ['runs'],
    summary: 'A run as JUnit XML',
    description: `One \`testsuites\` document with the run's \`testsuite\`. ${MAPPING}`,
    request: { params: RunIdParam },
    responses: { 200: { description: 'The JUnit XML report.', content: xmlContent }, 404: notFound },
  }),
);

const JUnitQuery = ListRunsQuery.omit({ limit: true, cursor: true });

const listJUnit = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/junit.xml',
    tags: ['runs'],
    summary: 'Runs as JUnit XML',
    description: `The runs the run-list filters select (\`GET /api/runs\`), newest first, at most ${JUNIT_MAX_RUNS} (the newest ones; narrow the filters for older runs), as one \`testsuites\` document. ${MAPPING}`,
    request: { query: JUnitQuery },
    responses: { 200: { description: 'The JUnit XML report.', content: xmlContent }, 400: badRequest },
  }),
);

async function reportInput(deps: ServerDeps, run: Run, definitionNames: Map<string, string | null>, judge: () => Promise<Categorizer>): Promise<JUnitRunInput> {
  const { store } = deps;
  const logs: LogLine[] = [];
  for (let after = 0; logs.length < JUNIT_MAX_LOG_LINES; ) {
    const page = await store.getLogs(run.id, after, Math.min(1000, JUNIT_MAX_LOG_LINES - logs.length));
    logs.push(...page);
    if (page.length === 0) break;
    after = page[page.length - 1]!.seq;
  }
  let definitionName: string | null = null;
  if (run.source.type === 'definition') {
    const id = run.source.definitionId;
    if (!definitionNames.has(id)) definitionNames.set(id, (await store.getDefinition(id))?.name ?? null);
    definitionName = definitionNames.get(id) ?? null;
  }
  const [steps, assertions] = await Promise.all([store.getSteps(run.id), store.getAssertions(run.id)]);
  const results = await runResults(store, { run, definitionName, steps, assertions }, judge);
  const categories = new Map(results.filter((r) => r.category !== null).map((r) => [r.key, { category: r.category, rule: r.categoryRule }]));
  return { run, steps, assertions, logs, definitionName, categories };
}

export function registerJUnitRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store } = deps;

  app.openapi(getRunJUnit, async (c) => {
    const run = await requireRun(deps, c.req.valid('param').id);
    const xml = junitReport([await reportInput(deps, run, new Map(), rulesJudge(store))]);
    return c.body(xml, 200, { 'Content-Type': XML });
  });

  app.openapi(listJUnit, async (c) => {
    const q = c.req.valid('query');
    const filter = runFilterOf(q);
    const runs: Run[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listRuns(filter, { limit: Math.min(100, JUNIT_MAX_RUNS - runs.length), cursor });
      runs.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && runs.length < JUNIT_MAX_RUNS);
    const names = new Map<string, string | null>();
    const judge = rulesJudge(store);
    const inputs: JUnitRunInput[] = [];
    for (const run of runs) inputs.push(await reportInput(deps, run, names, judge));
    const xml = junitReport(inputs);
    return c.body(xml, 200, { 'Content-Type': XML, 'X-Topas-Runs-Truncated': String(cursor !== null) });
  });
}
