/**
 * `/readyz`, what a Kubernetes readiness probe (the Helm chart's) asks: 200 while the
 * database answers, 503 with the reason once it does not — and no token either way, as
 * the kubelet has none. Real store (PGlite) and engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { createApp } from '../app.js';
import { openTestPlatform, type TestPlatform } from '../testing/test-platform.js';

let platform: TestPlatform;
let app: ReturnType<typeof createApp>;
let storeClosed = false;

beforeAll(async () => {
  platform = await openTestPlatform();
  // Authentication on (the default): probes must pass without a credential.
  app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}) });
});
afterAll(async () => {
  if (!storeClosed) await platform?.close();
});

describe('GET /readyz', () => {
  it('answers 200 without a token while the database answers', async () => {
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    // An API route next to it still needs a token: /readyz is public, not the API.
    expect((await app.request('/api/stats')).status).toBe(401);
  });

  it('is listed in the OpenAPI document as public', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, { get?: { security?: unknown[] } }> };
    expect(doc.paths['/readyz']?.get?.security).toEqual([]);
  });

  it('answers 503 with the reason once the database is gone', async () => {
    await platform.engine.stop(0);
    await platform.executor.close();
    await platform.store.close();
    storeClosed = true;
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('Unavailable');
    expect(body.error.message).toMatch(/^not ready: database unreachable: /);
  });
});
