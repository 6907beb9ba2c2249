/**
 * Failure categories: the ordered rules (read, replace, preview on recent failures),
 * re-judging past failures in the background, failures per category over time, and
 * a run's test cases with their categories (`results.json`).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { categorizer, type CategoryRules } from '../../core/categories.js';
import { NotFoundError } from '../../core/errors.js';
import { resolveRange } from '../../core/insights.js';
import { CategoryApplyJobs } from '../category-apply-jobs.js';
import {
  ApplyJobSchema,
  ApplyQuery,
  CategoryRulesBody,
  CategoryRulesStateSchema,
  CategoryTrendsQuery,
  CategoryTrendsSchema,
  JobIdParam,
  PreviewBody,
  PreviewSchema,
  ResultsJsonSchema,
} from '../category-schemas.js';
import type { ServerDeps } from '../deps.js';
import { runResults } from '../run-results.js';
import { RunIdParam } from '../schemas.js';
import { callerOf } from '../security/context.js';
import { access } from '../security/route-security.js';
import { badRequest, conflict, notFound } from './responses.js';
import { requireRun } from './runs.js';

const RULES_HELP =
  'The first rule whose every matcher matches a failed test case gives its category; a failure no rule matches is a `Regression`. A rule: `name` (unique), `category`, `match` with any of `test` (key or name), `message` (message and detail), `log` (the test\'s log lines), `definition` (the classname), `app` and `labels` (key → matchers). Each is a list of matchers, any one of which may match: a string is a case-insensitive substring, `{ regex, caseSensitive? }` a JavaScript regular expression.';

const getRules = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/categories',
    tags: ['categories'],
    summary: 'The failure-category rules',
    description: `The rules in force: the stored ones, or the shipped defaults (\`defaults: true\`, version 0). ${RULES_HELP}`,
    responses: { 200: { description: 'The rules.', content: { 'application/json': { schema: CategoryRulesStateSchema } } } },
  }),
);

const putRules = createRoute(
  access('editor', {
    method: 'put',
    path: '/api/categories',
    tags: ['categories'],
    summary: 'Replace the failure-category rules',
    description: `Stores the rules (one version up; the change is written to the audit log). Runs that end from now on are judged by them; past failures keep their category until \`POST /api/categories/apply\`. ${RULES_HELP} A bad rule is a 400 naming it (\`rules[2].match.message[0].regex: is not a valid regular expression\`).`,
    request: { body: { required: true, content: { 'application/json': { schema: CategoryRulesBody } } } },
    responses: { 200: { description: 'The rules now in force.', content: { 'application/json': { schema: CategoryRulesStateSchema } } }, 400: badRequest },
  }),
);

const preview = createRoute(
  access('viewer', {
    method: 'post',
    path: '/api/categories/preview',
    tags: ['categories'],
    summary: 'Try rules on the last failures',
    description: 'Judges the last `limit` failed test cases (newest first) with the given rules and shows each one\'s category now (`before`) and with these rules (`after`). Nothing is stored.',
    request: { body: { required: true, content: { 'application/json': { schema: PreviewBody } } } },
    responses: { 200: { description: 'Before and after, per failure.', content: { 'application/json': { schema: PreviewSchema } } }, 400: badRequest },
  }),
);

const apply = createRoute(
  access('editor', {
    method: 'post',
    path: '/api/categories/apply',
    tags: ['categories'],
    summary: 'Re-categorize past failures',
    description:
      'Starts a background job that judges the failed test cases of runs created since `since` (default: all) again with the stored rules, in batches (each a short transaction, so running work is not held up): their category, their run\'s category (that of its first failed case) and their test\'s last failure category. Answers at once; follow the job with `GET /api/categories/apply/{id}`. 409 while another job runs.',
    request: { query: ApplyQuery },
    responses: {
      202: { description: 'The job, running.', content: { 'application/json': { schema: ApplyJobSchema } } },
      400: badRequest,
      409: conflict,
    },
  }),
);

const getJob = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/categories/apply/{id}',
    tags: ['categories'],
    summary: 'A re-categorization job',
    description: 'Its state (`running`, `done`, `failed`) and progress. This server keeps its last 20 jobs in memory.',
    request: { params: JobIdParam },
    responses: { 200: { description: 'The job.', content: { 'application/json': { schema: ApplyJobSchema } } }, 404: notFound },
  }),
);

const trends = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/insights/categories',
    tags: ['insights'],
    summary: 'Failures by category over time',
    description: 'Failed (and Error) test cases per failure category in each `hour` or `day` bucket of their run\'s creation time from `from` to `to` (default: the last 14 days by day), empty buckets included.',
    request: { query: CategoryTrendsQuery },
    responses: { 200: { description: 'One point per bucket.', content: { 'application/json': { schema: CategoryTrendsSchema } } }, 400: badRequest },
  }),
);

const resultsJson = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/runs/{id}/results.json',
    tags: ['runs'],
    summary: 'A run\'s test cases as JSON',
    description:
      'The run and each test case: key, outcome, duration, message, failure category and rule, quarantined. A finished run\'s cases are those recorded when it ended; a run still Queued or Running shows its cases so far (unfinished ones Skipped), judged by the rules in force.',
    request: { params: RunIdParam },
    responses: { 200: { description: 'The results.', content: { 'application/json': { schema: ResultsJsonSchema } } }, 404: notFound },
  }),
);

export function registerCategoryRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store } = deps;
  const jobs = new CategoryApplyJobs((options) => store.recategorize(options));

  app.openapi(getRules, async (c) => c.json(await store.getCategoryRules(), 200));

  app.openapi(putRules, async (c) => {
    const rules = c.req.valid('json') as CategoryRules;
    return c.json(await store.putCategoryRules(rules, callerOf(c).name), 200);
  });

  app.openapi(preview, async (c) => {
    const body = c.req.valid('json');
    const judge = categorizer({ rules: body.rules as CategoryRules['rules'] });
    const failures = await store.recentFailures(body.limit ?? 100);
    const items = failures.map((f) => ({ runId: f.runId, testKey: f.testKey, testId: f.testId, message: f.message, before: f.current, after: judge(f.subject) }));
    const changed = items.filter((i) => i.before.category !== i.after.category || i.before.rule !== i.after.rule).length;
    return c.json({ items, changed }, 200);
  });

  app.openapi(apply, async (c) => {
    const { since } = c.req.valid('query');
    return c.json({ job: jobs.start(since ?? null) }, 202);
  });

  app.openapi(getJob, async (c) => {
    const { id } = c.req.valid('param');
    const job = jobs.get(id);
    if (!job) throw new NotFoundError('re-categorization job', id);
    return c.json({ job }, 200);
  });

  app.openapi(trends, async (c) => {
    const q = c.req.valid('query');
    const bucket = q.bucket ?? 'day';
    const range = resolveRange({ from: q.from, to: q.to }, bucket);
    const points = await store.categoryTrends({ ...range, bucket });
    const totals = new Map<string, number>();
    for (const p of points) for (const [category, n] of Object.entries(p.counts)) totals.set(category, (totals.get(category) ?? 0) + n);
    const categories = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([category]) => category);
    return c.json({ points, categories }, 200);
  });

  app.openapi(resultsJson, async (c) => {
    const run = await requireRun(deps, c.req.valid('param').id);
    const definitionName = run.source.type === 'definition' ? ((await store.getDefinition(run.source.definitionId))?.name ?? null) : null;
    const results = await runResults(store, { run, definitionName });
    return c.json(
      {
        run: {
          id: run.id,
          name: run.name,
          phase: run.phase,
          category: run.category,
          categoryRule: run.categoryRule,
          createdAt: run.createdAt,
          finishedAt: run.finishedAt,
          durationMs: run.durationMs,
          appName: run.appName,
          labels: run.labels,
        },
        results,
      },
      200,
    );
  });
}
