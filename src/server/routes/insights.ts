/** Trends and top lists over finished runs: what the dashboard charts. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { resolveRange } from '../../core/insights.js';
import type { ServerDeps } from '../deps.js';
import { TopQuery, TopSchema, TrendsQuery, TrendsSchema } from '../insights-schemas.js';
import { badRequest } from './responses.js';
import { access } from '../security/route-security.js';

const trends = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/insights/trends',
    tags: ['insights'],
    summary: 'Finished runs over time',
    description:
      'Counts per phase, pass rate and p50/p95 duration of the finished runs created in each `hour` or `day` bucket from `from` to `to` (default: the last 14 days by day), empty buckets included. Runs still Queued or Running are left out.',
    request: { query: TrendsQuery },
    responses: {
      200: { description: 'One point per bucket.', content: { 'application/json': { schema: TrendsSchema } } },
      400: badRequest,
    },
  }),
);

const top = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/insights/top',
    tags: ['insights'],
    summary: 'Most failing and slowest tests',
    description:
      'Finished runs created from `from` to `to` (default: the last 14 days), grouped by definition, or by name for runs without one: the `limit` tests with the most failures and the `limit` slowest by p95 duration.',
    request: { query: TopQuery },
    responses: {
      200: { description: 'The two lists.', content: { 'application/json': { schema: TopSchema } } },
      400: badRequest,
    },
  }),
);

export function registerInsightRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store } = deps;

  app.openapi(trends, async (c) => {
    const q = c.req.valid('query');
    const bucket = q.bucket ?? 'day';
    const range = resolveRange({ from: q.from, to: q.to }, bucket);
    const points = await store.runTrends({ ...range, bucket, definitionId: q.definitionId, appName: q.appName, labels: q.labels });
    return c.json({ bucket, ...range, points }, 200);
  });

  app.openapi(top, async (c) => {
    const q = c.req.valid('query');
    const range = resolveRange({ from: q.from, to: q.to }, null);
    return c.json(await store.topTests({ ...range, limit: q.limit, appName: q.appName, labels: q.labels }), 200);
  });
}
