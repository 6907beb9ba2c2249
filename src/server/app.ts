/**
 * The HTTP API of topas: REST + OpenAPI 3.1 + live logs over SSE. Routes read
 * through the store and write runs through the engine; failures become responses
 * in one `onError`.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppOptions, ServerDeps } from './deps.js';
import { checkedBody } from './body.js';
import { onError, validationHook } from './errors.js';
import { registerAppRoutes } from './routes/apps.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerInsightRoutes } from './routes/insights.js';
import { registerRunHistoryRoutes } from './routes/run-history.js';
import { registerRunLogRoutes } from './routes/run-logs.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerWebAssets } from './web-assets.js';

export type { AppOptions, RequestLogEntry, ServerEngine, ServerStore } from './deps.js';

/** The OpenAPI document's header. */
const OPENAPI_INFO = {
  title: 'topas API',
  version: '1',
  description:
    'Schedule Lua scenario tests, follow their logs live and triage the results. Runs move Queued → Running → Passed | Failed | Error | TimedOut | Cancelled. Times are ISO-8601; durations are milliseconds unless a field says otherwise. Errors are `{ error: { code, message, details? } }`.',
};

export function createApp(options: AppOptions): OpenAPIHono {
  const deps: ServerDeps = {
    store: options.store,
    engine: options.engine,
    config: options.config,
    ...(options.apps ? { apps: options.apps } : {}),
    followPollMs: options.followPollMs ?? 500,
    heartbeatMs: options.heartbeatMs ?? 15_000,
  };
  const app = new OpenAPIHono({ defaultHook: validationHook });

  const logRequest = options.logRequest;
  if (logRequest) {
    app.use('*', async (c, next) => {
      const start = performance.now();
      await next();
      logRequest({ msg: 'request', method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - start) });
    });
  }

  app.use('*', checkedBody());

  registerRunRoutes(app, deps);
  registerRunLogRoutes(app, deps);
  registerRunHistoryRoutes(app, deps);
  registerDefinitionRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerAppRoutes(app, deps);
  registerInsightRoutes(app, deps);

  app.doc31('/openapi.json', { openapi: '3.1.0', info: OPENAPI_INFO, tags: [
    { name: 'runs', description: 'Test executions.' },
    { name: 'definitions', description: 'Stored, named tests.' },
    { name: 'system', description: 'Health, stats, metrics.' },
    { name: 'apps', description: 'Systems under test: services and databases that runs target.' },
    { name: 'insights', description: 'Trends and top lists over finished runs.' },
  ] });
  // The dashboard, on GET paths no API route answered (it leaves /api, /openapi.json, /metrics, /healthz alone).
  registerWebAssets(app);
  app.notFound((c) => c.json({ error: { code: 'NotFound', message: `no route for ${c.req.method} ${c.req.path}; see /openapi.json` } }, 404));
  app.onError(onError);
  return app;
}
