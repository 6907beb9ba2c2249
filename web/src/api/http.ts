/**
 * The dashboard's one way to call the API: JSON in and out, errors as ApiError
 * carrying the server's `{error: {code, message}}`, and "cannot reach the server"
 * kept apart from "the server said no" so pages can say which one happened.
 */

/** The API answered with an error status. `message` is the server's, written for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer: the server is down, restarting or unreachable. */
export class UnreachableError extends Error {
  readonly code = 'Unreachable';
  constructor(readonly url: string, cause: unknown) {
    super(`cannot reach the topas API (${url}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'UnreachableError';
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof ApiError && error.status === 404;
/** The server does not know who is calling: no session, or it expired or its token was revoked. */
export const isUnauthorized = (error: unknown): boolean => error instanceof ApiError && error.status === 401;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** Calls the API at `path` (same origin) and returns the parsed JSON body (undefined for 204). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const init: RequestInit = { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), signal: options.signal, headers: { accept: 'application/json' } };
  if (options.body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error;
    throw new UnreachableError(path, error);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, for instance.
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    // 502/503/504 from a proxy in front of a stopped server mean the same as a refused connection.
    if (!err && res.status >= 502 && res.status <= 504) throw new UnreachableError(path, new Error(`HTTP ${res.status}`));
    throw new ApiError(res.status, err?.code ?? `HTTP${res.status}`, err?.message ?? `${init.method} ${path} answered ${res.status} ${res.statusText}`, err?.details);
  }
  return body as T;
}

/** Builds `path?query`, leaving out empty values; arrays repeat the key. */
export function withQuery(path: string, query: Record<string, string | number | string[] | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
