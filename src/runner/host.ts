/**
 * The JS functions the Lua prelude calls (`host.*`). They act on whichever run the
 * engine currently hosts (`holder.ctx`); an engine hosts one run in its life.
 */
import type { LogLevel, StepKind } from '../core/run-events.js';
import { formatDuration } from './duration.js';
import { decodeJson } from './json-host.js';
import type { RunContext } from './run-context.js';

export interface ContextHolder {
  ctx: RunContext | null;
}

/** What `host.net_request` receives from the Lua side (already validated there). */
interface NetRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  query: [string, string][];
  body?: string;
  timeout: number;
}

type NetResult =
  | { ok: true; code: number; headers: Record<string, string>; body: string; duration_ms: number; url: string; is_json: boolean }
  | { ok: false; error: string; url?: string }
  | { ok: false; stopped: true; error: string };

export function createHost(holder: ContextHolder) {
  const ctx = (): RunContext => {
    if (!holder.ctx) throw new Error('topas: no run is active in this Lua engine');
    return holder.ctx;
  };
  return {
    log: (level: LogLevel, message: string) => ctx().log(level, message),
    step_start: (kind: StepKind, name: string, line: number | null) => ctx().stepStart(kind, name, line ?? null),
    step_end: (seq: number, status: 'passed' | 'failed', message: string | null, line: number | null) =>
      ctx().stepEnd(seq, status, message ?? null, line ?? null),
    assertion: (passed: boolean, message: string, line: number | null, failure: string | null) =>
      ctx().assertion(passed, message, line ?? null, failure ?? null),
    uncaught: (message: string) => ctx().uncaught(message),
    script_invalid: (message: string) => ctx().scriptInvalid(message),
    finish: (unrecordedPassed: number) => ctx().countPassedAssertions(unrecordedPassed),
    json_decode: (text: string) => decodeJson(text),
    sleep: (ms: number) => sleep(ctx(), ms),
    net_request: (req: NetRequest) => netRequest(ctx(), req),
  };
}

function sleep(ctx: RunContext, ms: number): Promise<'ok' | 'stopped'> {
  const signal = ctx.abort.signal;
  if (signal.aborted) return Promise.resolve('stopped');
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve('stopped');
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('ok');
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function netRequest(ctx: RunContext, req: NetRequest): Promise<NetResult> {
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
  const started = performance.now();
  const timeout = AbortSignal.timeout(Math.max(1, req.timeout));
  const signal = AbortSignal.any([ctx.abort.signal, timeout]);
  try {
    const res = await fetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body ?? undefined,
      signal,
      redirect: 'follow',
    });
    const body = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const type = res.headers.get('content-type') ?? '';
    return {
      ok: true,
      code: res.status,
      headers,
      body,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      url: res.url || url.toString(),
      is_json: /[/+]json\b/i.test(type),
    };
  } catch (err) {
    if (ctx.abort.signal.aborted) return { ok: false, stopped: true, error: 'stopped' };
    if (timeout.aborted) return { ok: false, error: `timed out after ${formatDuration(req.timeout)}`, url: url.toString() };
    return { ok: false, error: describeFetchError(err), url: url.toString() };
  }
}

const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

function describeFetchError(err: unknown): string {
  if (err instanceof TypeError && err.message === 'fetch failed' && !(err as { cause?: unknown }).cause) return 'fetch failed';
  if (err instanceof Error && /bad port/i.test(err.message + String((err as { cause?: unknown }).cause ?? ''))) {
    return 'this port is blocked for HTTP clients (fetch refuses well-known non-HTTP ports); use another port';
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code && CODES[cause.code]) return CODES[cause.code];
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
