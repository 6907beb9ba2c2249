/**
 * TEST-ONLY. A real HTTP server with only the runner protocol's routes, in front of a
 * `RunnerHub`, with authentication off: what executor-level tests of detached executors
 * (the process executor, later kubernetes) need without a whole topas. Per-run token
 * checks are tested against a real topas (`runner-protocol.test.ts`).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { ANONYMOUS_ADMIN } from '../security/auth-service.js';
import { onError, validationHook } from '../errors.js';
import { registerRunnerRoutes } from '../routes/runner.js';
import type { RunnerHub } from '../../executors/runner-hub.js';

export interface RunnerTestServer {
  url: string;
  /** Every call as `METHOD /path?query`, in the order they arrived. */
  calls: string[];
  close(): Promise<void>;
}

export async function startRunnerTestServer(hub: RunnerHub, port = 0): Promise<RunnerTestServer> {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const calls: string[] = [];
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    calls.push(`${c.req.method} ${url.pathname}${url.search}`);
    c.set('identity', { ...ANONYMOUS_ADMIN, via: 'bearer' });
    await next();
  });
  registerRunnerRoutes(app, { runners: hub });
  app.onError(onError);
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
