/**
 * DNS rebinding defence: a web page on evil.example whose name an attacker points
 * at 127.0.0.1 reaches topas with `Host: evil.example`. A topas on a loopback
 * address answers only Hosts that name this machine (localhost, 127.0.0.1, [::1],
 * any port) or that the operator allowed (`--allowed-host`); others get 403 on
 * every path, the dashboard's files included.
 *
 * On a non-loopback address (e.g. `--host 0.0.0.0`) the server is meant to be
 * reached by names we cannot guess, so, as Jupyter's `allow_remote_access` does,
 * any Host is answered — unless allowed hosts are configured, which then restrict
 * it just the same. Tokens, not the Host, protect an exposed server.
 */
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../../core/errors.js';

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface HostCheckOptions {
  /** The server listens on a loopback address. */
  loopback: boolean;
  /** Lower-case host names allowed besides the local ones. */
  allowedHosts: readonly string[];
}

/** The host name of a `Host` header value, lower-case, without port: `[::1]:4000` → `[::1]`. */
export function hostNameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** The `Host` the request was sent to (in-memory requests carry it in their URL only). */
export function requestHost(c: { req: { header(name: string): string | undefined; url: string } }): string {
  return c.req.header('host') ?? new URL(c.req.url).host;
}

export function hostCheck(options: HostCheckOptions): MiddlewareHandler {
  const allowed = new Set([...LOCAL_NAMES, ...options.allowedHosts]);
  const enforced = options.loopback || options.allowedHosts.length > 0;
  return async (c, next) => {
    if (enforced) {
      const host = requestHost(c);
      if (!allowed.has(hostNameOf(host))) {
        const names = [...allowed].join(', ');
        throw new ForbiddenError(
          `Host ${JSON.stringify(host)} is not allowed: this topas answers only ${names}; to reach it by that name, start it with --allowed-host ${hostNameOf(host) || 'NAME'} (or TOPAS_ALLOWED_HOSTS)`,
          { host },
        );
      }
    }
    await next();
  };
}
