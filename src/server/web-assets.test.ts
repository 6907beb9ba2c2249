import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiPath, registerWebAssets } from './web-assets.js';

let dir: string;
let app: Hono;
const INDEX = '<!doctype html><title>topas</title><div id="root"></div>';
const BUNDLE = `console.log(${JSON.stringify('x'.repeat(5000))});`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'topas-web-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'index-abc123.js'), BUNDLE);
  await writeFile(join(dir, 'assets', 'style-def456.css'), 'body{}');
  app = new Hono();
  app.get('/api/runs', (c) => c.json({ items: [] }));
  registerWebAssets(app, { dir });
  // Registered after the dashboard: still answered by its own route.
  app.get('/api/late', (c) => c.json({ late: true }));
  app.notFound((c) => c.json({ error: { code: 'NotFound', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the dashboard files', () => {
  it('serves index.html at / and at every page path, revalidated on each load', async () => {
    for (const path of ['/', '/runs', '/runs/01935c1e-7b7a-7cc0-8a1d-5f4f0c2e9b11', '/definitions/new', '/compare?head=a&base=previous']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(INDEX);
    }
  });

  it('answers a matching ETag with 304', async () => {
    const first = await app.request('/');
    const etag = first.headers.get('etag')!;
    const again = await app.request('/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves hashed assets with their type, cached for a year, gzipped when asked', async () => {
    const res = await app.request('/assets/index-abc123.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await res.arrayBuffer())).toString()).toBe(BUNDLE);
    const plain = await app.request('/assets/index-abc123.js');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(BUNDLE);
    expect((await app.request('/assets/style-def456.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers a missing file with 404, not with the app', async () => {
    const res = await app.request('/assets/gone-000.js');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('<div id="root">');
  });

  it('never serves files outside its folder', async () => {
    await writeFile(join(dir, '..', `${dir.split('/').pop()}-secret.txt`), 'secret');
    const name = `${dir.split('/').pop()}-secret.txt`;
    for (const path of [`/../${name}`, `/%2e%2e/${name}`, `/assets/..%2f..%2f${name}`, `/..%5c${name}`]) {
      const res = await app.request(path);
      expect(await res.text(), path).not.toBe('secret');
    }
    await rm(join(dir, '..', name));
  });

  it('leaves the API paths to the API, including routes registered after it', async () => {
    expect(await (await app.request('/api/runs')).json()).toEqual({ items: [] });
    expect(await (await app.request('/api/late')).json()).toEqual({ late: true });
    const missing = await app.request('/api/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NotFound' } });
    expect(isApiPath('/metrics')).toBe(true);
    expect(isApiPath('/healthz')).toBe(true);
    expect(isApiPath('/openapi.json')).toBe(true);
    expect(isApiPath('/apis')).toBe(false);
  });

  it('says how to build the dashboard when it is not built', async () => {
    const bare = new Hono();
    registerWebAssets(bare, { dir: join(dir, 'missing') });
    const res = await bare.request('/runs');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:web');
  });
});
