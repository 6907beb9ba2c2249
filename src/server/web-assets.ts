/**
 * The dashboard: the static files of `dist-web/` (built by `npm run build:web`)
 * served at `/`. Hashed files under `/assets/` are cached for a year; `index.html`
 * is revalidated on every load (ETag), so a new build shows at the next reload.
 * Any other GET path without a file extension is a page of the single-page app
 * and gets `index.html` (the app routes it), except the API's own paths, which
 * are left to the API and its JSON 404.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { resolveUnder, UnsafePathError } from '../store/resolve-under.js';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Context, Hono, Next } from 'hono';

export interface WebAssetsOptions {
  /** Folder of the built dashboard. Default: `dist-web/` of the checkout or package. */
  dir?: string;
}

/** Paths that belong to the API, never to the dashboard. */
const API_PATHS = ['/api', '/openapi.json', '/metrics', '/healthz', '/readyz'];

export function isApiPath(path: string): boolean {
  return API_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

/**
 * `dist-web/` next to the package root: two folders up from this file when it runs
 * from `src/server` or `dist/server`, three from the benchmark's `dist-bench/src/server`.
 */
export function defaultWebDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../dist-web'), resolve(here, '../../../dist-web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

interface Asset {
  mtimeMs: number;
  size: number;
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | null;
  type: string;
  etag: string;
}

const NOT_BUILT = (dir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>topas: dashboard not built</title></head>
<body style="font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The dashboard is not built yet</h1>
<p>topas serves the dashboard from <code>${dir.replace(/[<>&]/g, '')}</code>, which has no <code>index.html</code>.
Build it with <code>npm run build:web</code> (or <code>npm run build</code>; <code>npm start</code> builds it too), then reload.</p>
<p>The REST API works without it: <a href="/openapi.json">/openapi.json</a>, <a href="/api/runs">/api/runs</a>.</p>
</body></html>`;

/** Serves the dashboard on GET requests that no API route answered. Register it after the API routes. */
export function registerWebAssets(app: Hono<any, any, any>, options: WebAssetsOptions = {}): void {
  const dir = resolve(options.dir ?? defaultWebDir());
  const cache = new Map<string, Asset>();

  /** The file's bytes, read again only when it changed on disk; null when it does not exist. */
  async function load(file: string): Promise<Asset | null> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    // Copied once into plain ArrayBuffer-backed bytes, which a Response body takes as they are.
    const body = new Uint8Array(await readFile(file));
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const asset: Asset = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      body,
      gzip: COMPRESSIBLE.test(type) && body.length > 1024 ? new Uint8Array(gzipSync(body, { level: 9 })) : null,
      type,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`,
    };
    cache.set(file, asset);
    return asset;
  }

  function send(c: Context, asset: Asset, cacheControl: string): Response {
    const headers: Record<string, string> = { 'Content-Type': asset.type, 'Cache-Control': cacheControl, ETag: asset.etag, 'X-Content-Type-Options': 'nosniff' };
    if (asset.gzip) headers['Vary'] = 'Accept-Encoding';
    if (c.req.header('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
    const gzip = asset.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gzip) headers['Content-Encoding'] = 'gzip';
    const body = gzip ? asset.gzip! : asset.body;
    headers['Content-Length'] = String(body.length);
    return new Response(body, { status: 200, headers });
  }

  app.get('*', async (c: Context, next: Next) => {
    const path = c.req.path;
    // Left to the API (also to routes registered after this one), which answers or says 404 in JSON.
    if (isApiPath(path)) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return c.text('bad path', 400);
    }
    const relative = normalize(decoded).replace(/^([/\\])+/, '');
    if (relative.split(/[/\\]/).includes('..')) return c.text('not found', 404);

    if (relative && extname(relative)) {
      let file: string;
      try {
        file = resolveUnder(dir, relative);
      } catch (error) {
        if (error instanceof UnsafePathError) return c.text('not found', 404);
        throw error;
      }
      const asset = await load(file);
      if (!asset) return c.text(`not found: ${path}`, 404);
      const hashed = relative.startsWith('assets/');
      return send(c, asset, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    // A page of the app: /, /runs, /runs/<id>, …
    const index = await load(join(dir, 'index.html'));
    if (!index) return c.html(NOT_BUILT(dir), 503);
    return send(c, index, 'no-cache');
  });
}
