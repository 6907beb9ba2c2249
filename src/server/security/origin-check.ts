/**
 * Cross-site request forgery defence for state-changing requests (POST, PUT, PATCH,
 * DELETE): a browser says where a request comes from in `Origin` (and
 * `Sec-Fetch-Site`); topas accepts only its own origin — the scheme, host and port
 * the request was sent to — or an allowed host's. Requests without `Origin` (curl,
 * the CLI, scripts) pass unless the browser marked them `Sec-Fetch-Site: cross-site`.
 *
 * Their bodies must be JSON: a `text/plain` or form body (what a plain HTML form or
 * a "simple" cross-site fetch can send without asking first) gets 415.
 */
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnsupportedMediaTypeError } from '../../core/errors.js';
import { hostNameOf, requestHost } from './host-check.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isStateChanging(method: string): boolean {
  return STATE_CHANGING.has(method.toUpperCase());
}

export interface OriginCheckOptions {
  /** Lower-case host names whose origins (any scheme, any port) are also accepted. */
  allowedHosts: readonly string[];
}

export function originCheck(options: OriginCheckOptions): MiddlewareHandler {
  const allowed = new Set(options.allowedHosts);
  return async (c, next) => {
    if (!isStateChanging(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      const own = `${new URL(c.req.url).protocol}//${requestHost(c).toLowerCase()}`;
      let ok = false;
      try {
        const parsed = new URL(origin);
        ok = parsed.origin === own || (origin !== 'null' && allowed.has(hostNameOf(parsed.host)));
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new ForbiddenError(
          `cross-origin request refused: Origin ${JSON.stringify(origin)} is not this server (${own}); send it from the topas dashboard, or without a browser (curl, the CLI), or allow the host with --allowed-host`,
          { origin },
        );
      }
    } else if ((c.req.header('sec-fetch-site') ?? '').toLowerCase() === 'cross-site') {
      throw new ForbiddenError('cross-site request refused (Sec-Fetch-Site: cross-site); send it from the topas dashboard or without a browser', {
        secFetchSite: 'cross-site',
      });
    }
    await next();
  };
}

/** True when the request announces a body (a length above 0, chunked transfer, or a content type). */
function hasBody(headers: { header(name: string): string | undefined }): boolean {
  const length = headers.header('content-length');
  if (length !== undefined && length.trim() !== '' && Number(length) > 0) return true;
  if (headers.header('transfer-encoding') !== undefined) return true;
  return headers.header('content-type') !== undefined && !(length !== undefined && Number(length) === 0);
}

/** State-changing requests with a body must send JSON. */
export function jsonBodies(): MiddlewareHandler {
  return async (c, next) => {
    if (isStateChanging(c.req.method) && hasBody(c.req)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        throw new UnsupportedMediaTypeError(
          `send the body as JSON with "Content-Type: application/json" (got ${type ? JSON.stringify(type) : 'no Content-Type'}); requests that change something take JSON only`,
        );
      }
    }
    await next();
  };
}
