/**
 * How failures become HTTP responses, in one place: typed core errors map by
 * `code`, request validation failures become ValidationError naming the field.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { TopasError, ValidationError, type FieldIssue } from '../core/errors.js';
import { fieldIssues } from '../core/schemas/issues.js';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  ValidationError: 400,
  Unauthorized: 401,
  Forbidden: 403,
  /** A path derived from the request would leave its folder (see store/resolve-under.ts). */
  UnsafePath: 400,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  IllegalTransition: 409,
  /** A runner called for a run no executor of this server follows right now (it retries). */
  RunNotAttached: 409,
  /** Another runner already executes the run (it was handed out twice): the caller must not start it. */
  RunTaken: 409,
  UnsupportedMediaType: 415,
  /** An imported file is not a report of its format (`core/report-import`). */
  InvalidReport: 400,
};

/** Zod issues → field issues: `env.FOO`, `labels.team`; query parameters by name only. */
export function requestIssues(error: ZodError, target: string): FieldIssue[] {
  if (target !== 'query') return fieldIssues(error);
  // `?label=a&label=b` fails inside an array: name the parameter, not its index.
  return fieldIssues(error, { unknown: 'query parameter', root: 'query', topLevel: true });
}

/** The zod-openapi hook: a failed validation throws, so one `onError` answers it. */
export function validationHook(result: { target: string; success: boolean; error?: ZodError }, _c: Context): void {
  if (!result.success && result.error) throw new ValidationError(requestIssues(result.error, result.target));
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** The one error handler. Unknown errors are logged and answered 500 without internals. */
export function onError(err: Error, c: Context): Response {
  const code = (err as { code?: unknown }).code;
  if (err instanceof TopasError || (typeof code === 'string' && code in STATUS_BY_CODE)) {
    const known = code as string;
    // Not followed by this instance (a stand-by, or the leader before it re-attaches): the runner's
    // next attempt comes on a new connection, which a Service may send to another instance.
    if (known === 'RunNotAttached') c.header('Connection', 'close');
    return c.json(errorBody(known, err.message, (err as Partial<TopasError>).details), STATUS_BY_CODE[known] ?? 500);
  }
  if (err instanceof HTTPException) {
    const code = err.status === 400 ? 'BadRequest' : err.status === 415 ? 'UnsupportedMediaType' : 'HttpError';
    const message = err.status === 415 ? 'send the body as JSON with "Content-Type: application/json"' : err.message || 'bad request';
    return c.json(errorBody(code, message), err.status as ContentfulStatusCode);
  }
  console.error(JSON.stringify({ msg: 'request failed', method: c.req.method, path: c.req.path, error: String(err?.stack ?? err) }));
  return c.json(errorBody('Internal', 'internal server error; see the server log'), 500);
}
