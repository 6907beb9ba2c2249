/** Health, scheduling stats and Prometheus metrics. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerDeps } from '../deps.js';
import { ErrorSchema, StatsSchema } from '../schemas.js';
import { access } from '../security/route-security.js';
import { sharedRead } from '../read-cache.js';

const health = createRoute(
  access('public', {
    method: 'get',
    path: '/healthz',
    tags: ['system'],
    summary: 'Health',
    description: 'Ok when the server answers and its database is reachable (the Helm chart\'s liveness probe).',
    responses: {
      200: { description: 'Healthy.', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Health') } } },
      503: { description: 'The database is unreachable.', content: { 'application/json': { schema: ErrorSchema } } },
    },
  }),
);

const ready = createRoute(
  access('public', {
    method: 'get',
    path: '/readyz',
    tags: ['system'],
    summary: 'Readiness',
    description:
      'Ok when this instance can serve requests: its database answers a trivial query. A load balancer or Kubernetes Service sends traffic only while this is 200 (the Helm chart\'s readiness probe).',
    responses: {
      200: { description: 'Ready.', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).openapi('Ready') } } },
      503: { description: 'Not ready; the message says why (e.g. the database is unreachable).', content: { 'application/json': { schema: ErrorSchema } } },
    },
  }),
);

const stats = createRoute(
  access('viewer', {
    method: 'get',
    path: '/api/stats',
    tags: ['system'],
    summary: 'Queue and runner statistics',
    responses: {
      200: { description: 'Current numbers. `ETag` names this answer: send it as `If-None-Match` to get 304 while nothing changed.', content: { 'application/json': { schema: StatsSchema } } },
      304: { description: 'Not modified: the `If-None-Match` tag still names the current answer.' },
    },
  }),
);

const metrics = createRoute(
  access('viewer', {
    method: 'get',
    path: '/metrics',
    tags: ['system'],
    summary: 'Prometheus metrics',
    description: 'Text exposition format: topas_queue_depth, topas_active_runners, topas_test_duration_seconds (histogram), topas_runs_total.',
    responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: z.string() } } } },
  }),
);

export function registerSystemRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store, engine } = deps;

  app.openapi(health, async (c) => {
    try {
      await store.queueStats();
    } catch (err) {
      return c.json({ error: { code: 'Unavailable', message: `database unreachable: ${(err as Error).message}` } }, 503);
    }
    return c.json({ status: 'ok' as const }, 200);
  });

  app.openapi(ready, async (c) => {
    try {
      await store.queueStats();
    } catch (err) {
      return c.json({ error: { code: 'Unavailable', message: `not ready: database unreachable: ${(err as Error).message}` } }, 503);
    }
    return c.json({ status: 'ok' as const }, 200);
  });

  // One read of the exact per-phase counts (the queue depth is the Queued count), shared
  // between identical concurrent requests, with an ETag (`read-cache.ts`).
  app.openapi(stats, (c) =>
    sharedRead(c, deps.reads, async () => {
      const runsByPhase = await store.countByPhase();
      return { queueDepth: runsByPhase.Queued, activeRunners: runsByPhase.Running, concurrency: deps.config.concurrency, runsByPhase };
    }),
  );

  app.openapi(metrics, async (c) => {
    const text = await engine.metrics.metrics();
    return c.text(text, 200, { 'Content-Type': engine.metrics.contentType });
  });
}
