/**
 * The JS half of `net.get/post/...`: one HTTP exchange (or a chain of them when
 * following redirects), with per-run cookies and TLS options.
 *
 * Requests go through node:http(s) on keep-alive agents whose every connection passes
 * the run's egress policy at connect time (`egress.ts`): fetch's bundled undici takes no
 * `lookup` hook without undici as a dependency. Redirects are followed here, hop by hop
 * (each hop connects through the same hook), so cookies set by intermediate responses
 * are kept and sent on the next hop.
 */
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedAgent } from './egress.js';
import type { EgressPolicy } from './egress-policy.js';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { formatDuration } from './duration.js';
import type { RunContext } from './run-context.js';
import type { Endpoint } from '../core/app.js';
import { SOCKET_ERRORS } from './network-errors.js';

/** What `host.net_request` receives from the Lua side (already validated there). */
export interface NetRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  query: [string, string][];
  body?: string;
  /** Form fields: sent as application/x-www-form-urlencoded (replaces `body`). */
  form?: [string, string][];
  timeout: number;
  redirect?: 'follow' | 'manual' | 'error';
  /** Accept any server certificate (self-signed, wrong host). */
  insecure?: boolean;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string;
  /** Use the run's cookie jar: send its cookies, store Set-Cookie. */
  cookies?: boolean;
}

export type NetResult =
  | { ok: true; code: number; headers: Record<string, string>; body: string; duration_ms: number; url: string; is_json: boolean }
  | { ok: false; error: string; url?: string }
  | { ok: false; stopped: true; error: string };

/** Redirects followed at most (as browsers and fetch). */
const MAX_REDIRECTS = 20;

export async function netRequest(ctx: RunContext, req: NetRequest): Promise<NetResult> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { ok: false, error: 'invalid URL (expected e.g. "http://host:8080/path")' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `unsupported protocol "${url.protocol}" (use http or https)` };
  }
  for (const [k, v] of Array.isArray(req.query) ? req.query : []) url.searchParams.append(k, v);
  const mode = req.redirect ?? 'follow';
  const started = performance.now();
  const timeout = AbortSignal.timeout(Math.max(1, req.timeout));
  const signal = AbortSignal.any([ctx.abort.signal, timeout]);
  let method = req.method;
  let headers: Record<string, string> = { ...req.headers };
  let body = req.body;
  if (Array.isArray(req.form)) {
    body = new URLSearchParams(req.form).toString();
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const jar = req.cookies ? cookieJar(ctx) : null;
  try {
    for (let hop = 0; ; hop++) {
      const sent = { ...headers };
      if (jar) {
        const cookie = jar.header(url);
        if (cookie && !hasHeader(sent, 'cookie')) sent.cookie = cookie;
      }
      const res = await send(method, url, sent, body, signal, req, ctx);
      if (jar) jar.store(url, res.setCookies);
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && location && mode !== 'manual') {
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return { ok: false, error: `the server redirected to an invalid location "${location}"`, url: url.toString() };
        }
        if (mode === 'error') {
          return { ok: false, error: `redirected (${res.status}) to ${next} while redirect = "error"`, url: url.toString() };
        }
        if (hop >= MAX_REDIRECTS) return { ok: false, error: `more than ${MAX_REDIRECTS} redirects`, url: url.toString() };
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          if (method !== 'HEAD') method = 'GET';
          body = undefined;
          headers = withoutHeaders(headers, ['content-type', 'content-length']);
        }
        if (next.origin !== url.origin) headers = withoutHeaders(headers, ['authorization', 'cookie']);
        url = next;
        continue;
      }
      const type = res.headers['content-type'] ?? '';
      return {
        ok: true,
        code: res.status,
        headers: res.headers,
        body: res.body,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        url: url.toString(),
        is_json: /[/+]json\b/i.test(type),
      };
    }
  } catch (err) {
    if (ctx.abort.signal.aborted) return { ok: false, stopped: true, error: 'stopped' };
    if (timeout.aborted) return { ok: false, error: `timed out after ${formatDuration(req.timeout)}`, url: url.toString() };
    return { ok: false, error: describeFetchError(err), url: url.toString() };
  }
}

interface Exchange {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: string;
}

function send(method: string, url: URL, headers: Record<string, string>, body: string | undefined, signal: AbortSignal, tls: NetRequest, ctx: RunContext): Promise<Exchange> {
  // A name of the run's App (`http://frontend/...`) goes to where that service answers here.
  const defaultPort = url.protocol === 'https:' ? 443 : 80;
  const target = ctx.resolve(url.hostname, url.port ? Number(url.port) : defaultPort);
  return sendNode(method, url, headers, body, signal, tls, target, ctx.egress);
}

/** Keep-alive agents of this worker, per egress policy and protocol (the policy is the same for every run of a pool). */
const agents = new Map<string, Agent>();

function agentFor(policy: EgressPolicy, protocol: string): Agent {
  const kind = protocol === 'https:' ? 'https' : 'http';
  const key = `${kind}\0${policy.text}`;
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = guardedAgent(kind, policy, { keepAlive: true })));
  return agent;
}

/**
 * Sends with node:http(s). `target` (the run's App) redirects the connection (the Host
 * header and TLS name stay the URL's); any other connection passes the egress policy.
 */
function sendNode(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
  tls: NetRequest,
  target: Endpoint | null,
  policy: EgressPolicy,
): Promise<Exchange> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        // A fresh connection per request to an App name: every request goes through its
        // balancer (to a current replica), not down a kept-alive socket to an old one.
        ...(target ? { hostname: target.host, port: target.port, servername: url.hostname, agent: false } : { agent: agentFor(policy, url.protocol) }),
        headers: {
          accept: '*/*',
          'user-agent': 'topas',
          'accept-encoding': 'gzip, deflate, br',
          // what fetch sends for a text body without a type
          ...(body !== undefined && !hasHeader(headers, 'content-type') ? { 'content-type': 'text/plain;charset=UTF-8' } : {}),
          ...(target && !hasHeader(headers, 'host') ? { host: url.host } : {}),
          ...headers,
        },
        signal,
        rejectUnauthorized: !tls.insecure,
        ...(tls.ca ? { ca: tls.ca } : {}),
      },
      (res: IncomingMessage) => {
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        const decoder =
          encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
        const stream = decoder ? res.pipe(decoder) : res;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        res.on('error', reject);
        stream.on('end', () => {
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined || name === 'set-cookie') continue;
            out[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          const setCookies = res.headers['set-cookie'] ?? [];
          if (setCookies.length) out['set-cookie'] = setCookies.join(', ');
          resolve({ status: res.statusCode ?? 0, headers: out, setCookies, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function hasHeader(h: Record<string, string>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name);
}

function withoutHeaders(h: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !names.includes(k.toLowerCase())));
}

// --- cookies ---------------------------------------------------------------------

interface Cookie {
  name: string;
  value: string;
  /** Host the cookie belongs to (lower-case hostname, no port). */
  domain: string;
  /** True when set with a Domain attribute: subdomains get it too. */
  subdomains: boolean;
  path: string;
  secure: boolean;
  /** ms epoch, or null for a session cookie. */
  expires: number | null;
}

/** A small cookie jar for one run (RFC 6265 matching by host, path and Secure). */
export class CookieJar {
  private cookies: Cookie[] = [];

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const cookie = parseSetCookie(line, url);
      if (!cookie) continue;
      this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path));
      if (cookie.expires === null || cookie.expires > Date.now()) this.cookies.push(cookie);
    }
  }

  /** The `Cookie` header for a request to url, or '' when none apply. */
  header(url: URL): string {
    return this.matching(url)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** name → value of the live cookies, for one URL (or host) or all hosts. */
  list(target?: string): Record<string, Record<string, string>> | Record<string, string> {
    if (target) {
      let url: URL;
      try {
        url = new URL(target.includes('://') ? target : `http://${target}/`);
      } catch {
        return {};
      }
      // A bare host sees its cookies whatever their path and Secure flag.
      const cookies = target.includes('://') ? this.matching(url) : this.live().filter((c) => domainMatches(url.hostname.toLowerCase(), c));
      return Object.fromEntries(cookies.map((c) => [c.name, c.value]));
    }
    const all: Record<string, Record<string, string>> = {};
    for (const c of this.live()) (all[c.domain] ??= {})[c.name] = c.value;
    return all;
  }

  private live(): Cookie[] {
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires === null || c.expires > now);
    return this.cookies;
  }

  private matching(url: URL): Cookie[] {
    const host = url.hostname.toLowerCase();
    const path = url.pathname || '/';
    return this.live()
      .filter((c) => domainMatches(host, c) && pathMatches(path, c.path) && (!c.secure || url.protocol === 'https:'))
      .sort((a, b) => b.path.length - a.path.length);
  }
}

function domainMatches(host: string, c: Cookie): boolean {
  return host === c.domain || (c.subdomains && host.endsWith(`.${c.domain}`));
}

function pathMatches(path: string, cookiePath: string): boolean {
  if (path === cookiePath) return true;
  if (!path.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || path[cookiePath.length] === '/';
}

function parseSetCookie(line: string, url: URL): Cookie | null {
  const [pair, ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return null;
  const host = url.hostname.toLowerCase();
  const defaultPath = url.pathname.lastIndexOf('/') > 0 ? url.pathname.slice(0, url.pathname.lastIndexOf('/')) : '/';
  const cookie: Cookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    domain: host,
    subdomains: false,
    path: defaultPath,
    secure: false,
    expires: null,
  };
  let maxAge: number | null = null;
  for (const attr of attrs) {
    const at = attr.indexOf('=');
    const key = (at >= 0 ? attr.slice(0, at) : attr).trim().toLowerCase();
    const value = at >= 0 ? attr.slice(at + 1).trim() : '';
    if (key === 'domain' && value) {
      const domain = value.replace(/^\./, '').toLowerCase();
      if (host !== domain && !host.endsWith(`.${domain}`)) return null; // not ours to set
      cookie.domain = domain;
      cookie.subdomains = true;
    } else if (key === 'path' && value.startsWith('/')) cookie.path = value;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (key === 'expires') {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) cookie.expires = t;
    }
  }
  if (maxAge !== null) cookie.expires = Date.now() + maxAge * 1000;
  return cookie;
}

const jars = new WeakMap<RunContext, CookieJar>();

/** The run's cookie jar (created on first use; gone with the run). */
export function cookieJar(ctx: RunContext): CookieJar {
  let jar = jars.get(ctx);
  if (!jar) jars.set(ctx, (jar = new CookieJar()));
  return jar;
}

// --- errors ----------------------------------------------------------------------

const CODES: Record<string, string> = {
  ...SOCKET_ERRORS,
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed (pass insecure = true, or ca = PEM)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain has a self-signed certificate (pass insecure = true, or ca = PEM)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate could not be verified (pass insecure = true, or ca = PEM)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate could not be verified (pass insecure = true, or ca = PEM)',
  CERT_HAS_EXPIRED: 'the server certificate has expired (pass insecure = true to accept it)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate is for another host name (pass insecure = true to accept it)',
};

export function describeFetchError(err: unknown): string {
  if (err instanceof TypeError && err.message === 'fetch failed' && !(err as { cause?: unknown }).cause) return 'fetch failed';
  if (err instanceof Error && /bad port/i.test(err.message + String((err as { cause?: unknown }).cause ?? ''))) {
    return 'this port is blocked for HTTP clients (fetch refuses well-known non-HTTP ports); use another port';
  }
  const direct = err as { code?: string; message?: string };
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code && CODES[cause.code]) return CODES[cause.code];
  if (direct?.code && CODES[direct.code]) return CODES[direct.code];
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
