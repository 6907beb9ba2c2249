/** The resource profile of runs and the parallelism recommendation (`core/resource-profile.ts`). */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { resolveRange } from '../../core/insights.js';
import { recommendParallelism, type ResourceProfileReport } from '../../core/resource-profile.js';
import type { ServerDeps } from '../deps.js';
import { ProfileQuery, ProfileSchema } from '../profile-schemas.js';
import { badRequest } from './responses.js';
import { access } from '../security/route-security.js';

const profile = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/insights/profile',
    tags: ['insights'],
    summary: 'What runs use, and how many fit at once',
    description:
      "Per test (definition, or name without one): p50/p95 of CPU time, peak memory, duration and CPU share over its newest `last` finished runs with a profile created from `from` to `to` (default: the last 14 days; Cancelled runs left out). And a parallelism recommendation: how many runs of the pooled p95 profile fit at once in the CPU/memory budget (`TOPAS_PROFILE_BUDGET_CPU`/`_MEMORY`, default this machine's cores and half its memory) — min(⌊cores ÷ p95 CPU share⌋, ⌊memory ÷ p95 peak⌋, TOPAS_CONCURRENCY), at least 1.",
    request: { query: ProfileQuery },
    responses: {
      200: { description: 'Profiles, budget and recommendation.', content: { 'application/json': { schema: ProfileSchema } } },
      400: badRequest,
    },
  }),
);

export function registerProfileRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  app.openapi(profile, async (c) => {
    const q = c.req.valid('query');
    const range = resolveRange({ from: q.from, to: q.to }, null);
    const { items, basis } = await deps.store.runProfiles({ ...range, last: q.last, limit: q.limit });
    const budget = deps.config.profileBudget;
    const recommendation = recommendParallelism(basis, budget, deps.config.concurrency);
    const report: ResourceProfileReport = { ...range, items, basis, budget, recommendation };
    return c.json(report, 200);
  });
}
