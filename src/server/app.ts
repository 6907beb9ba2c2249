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
import { registerCategoryRoutes } from './routes/categories.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerTestRoutes } from './routes/tests.js';
import { registerInsightRoutes } from './routes/insights.js';
import { registerProfileRoutes } from './routes/profile.js';
import { registerRunHistoryRoutes } from './routes/run-history.js';
import { registerRunLogRoutes } from './routes/run-logs.js';
import { registerJUnitRoutes } from './routes/junit.js';
import { registerRunRoutes } from './routes/runs.js';
import { isReportUpload, registerReportRoutes } from './routes/reports.js';
import { registerRunnerRoutes } from './routes/runner.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerWebAssets } from './web-assets.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { isLoopbackHost } from '../config/config.js';
import { AuthService } from './security/auth-service.js';
import { authenticate } from './security/authenticate.js';
import { hostCheck } from './security/host-check.js';
import { loginLink } from './security/login-link.js';
import { jsonBodies, originCheck } from './security/origin-check.js';
import { SECURITY_SCHEMES } from './security/route-security.js';
import { ReadCoalescer } from './read-cache.js';

export type { AppOptions, RequestLogEntry, ServerEngine, ServerStore } from './deps.js';

/** The OpenAPI document's header. */
const OPENAPI_INFO = {
  title: 'topas API',
  version: '1',
  description:
    'Schedule Lua scenario tests, follow their logs live and triage the results. Runs move Queued → Running → Passed | Failed | Error | TimedOut | Cancelled. Times are ISO-8601; durations are milliseconds unless a field says otherwise. Errors are `{ error: { code, message, details? } }`.\n\nAuthentication: every operation except the public ones (`/healthz`, `/readyz`, `/openapi.json`, `POST`/`DELETE /api/session`) needs `Authorization: Bearer <token>` or the dashboard\'s `topas_session` cookie; each operation names its role (`x-topas-role`: viewer < runner < editor < admin). 401 `Unauthorized`: no, unknown or revoked token. 403 `Forbidden`: the role is too low, the `Host` is not allowed, or a state-changing request came from another origin. State-changing requests with a body must send `Content-Type: application/json` (415 otherwise).',
};

export function createApp(options: AppOptions): OpenAPIHono {
  const deps: ServerDeps = {
    store: options.store,
    engine: options.engine,
    config: options.config,
    ...(options.apps ? { apps: options.apps } : {}),
    ...(options.runners ? { runners: options.runners } : {}),
    auth: options.auth ?? new AuthService({ store: options.store, enabled: options.config.auth }),
    reads: new ReadCoalescer(options.config.readConcurrency),
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

  // The security chain, before every route and the dashboard's files: Host allowlist,
  // Origin check and JSON-only bodies on state-changing requests, login URLs, credentials.
  const { config } = options;
  app.use('*', hostCheck({ loopback: isLoopbackHost(config.host), allowedHosts: config.allowedHosts }));
  app.use('*', originCheck({ allowedHosts: config.allowedHosts }));
  // Report uploads (POST /api/reports) are XML, text or multipart, streamed by their route.
  const json = jsonBodies();
  app.use('*', (c, next) => (isReportUpload(c.req.method, c.req.path) ? next() : json(c, next)));
  app.use('*', loginLink(deps.auth));
  app.use('*', authenticate(deps.auth));
  // Bodies are read (at most the limit) only for callers who got this far.
  const body = checkedBody();
  app.use('*', (c, next) => (isReportUpload(c.req.method, c.req.path) ? next() : body(c, next)));

  registerSessionRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRunnerRoutes(app, deps);
  registerRunLogRoutes(app, deps);
  registerJUnitRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerRunHistoryRoutes(app, deps);
  registerDefinitionRoutes(app, deps);
  registerTestRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerAppRoutes(app, deps);
  registerInsightRoutes(app, deps);
  registerCategoryRoutes(app, deps);
  registerProfileRoutes(app, deps);

  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  app.doc31('/openapi.json', { openapi: '3.1.0', info: OPENAPI_INFO, tags: [
    { name: 'runs', description: 'Test executions.' },
    { name: 'definitions', description: 'Stored, named tests.' },
    { name: 'system', description: 'Health, stats, metrics.' },
    { name: 'apps', description: 'Systems under test: services and databases that runs target.' },
    { name: 'insights', description: 'Trends and top lists over finished runs.' },
    { name: 'categories', description: 'Failure categories: the ordered rules that say what kind of failure a failed test is, previews, re-categorizing history.' },
    { name: 'session', description: 'Logging in to the dashboard; who am I.' },
    { name: 'tokens', description: 'API tokens with roles (admin).' },
    { name: 'runner', description: "The runner protocol: what a remote runner (`topas runner`, a runner Pod) calls with its run's per-run token." },
  ] });
  // The dashboard, on GET paths no API route answered (it leaves /api, /openapi.json, /metrics, /healthz, /readyz alone).
  registerWebAssets(app);
  app.notFound((c) => c.json({ error: { code: 'NotFound', message: `no route for ${c.req.method} ${c.req.path}; see /openapi.json` } }, 404));
  app.onError(onError);
  return app;
}
