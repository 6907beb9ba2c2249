/**
 * How failures become HTTP responses, in one place: typed core errors map by
 * `code`, request validation failures become ValidationError naming the field.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { TopasError, ValidationError, type FieldIssue } from '../core/errors.js';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  ValidationError: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  IllegalTransition: 409,
  UnsupportedMediaType: 415,
};

type ValidationTarget = 'json' | 'query' | 'param' | 'header' | 'cookie' | 'form';

/** Zod issues → field issues: `env.FOO`, `labels.team`; query parameters by name only. */
export function fieldIssues(error: ZodError, target: ValidationTarget | string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const where = target === 'query' ? 'query parameter' : 'field';
      for (const key of issue.keys) {
        issues.push({ field: [...path, key].join('.'), message: `unknown ${where} (check the spelling)` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0]?.message ?? 'is not a valid key';
      issues.push({ field: path.join('.'), message: `key ${inner}` });
      continue;
    }
    const field = target === 'query' ? (path[0] ?? 'query') : path.join('.') || 'body';
    issues.push({ field, message: issue.message });
  }
  return issues;
}

/** The zod-openapi hook: a failed validation throws, so one `onError` answers it. */
export function validationHook(result: { target: string; success: boolean; error?: ZodError }, _c: Context): void {
  if (!result.success && result.error) throw new ValidationError(fieldIssues(result.error, result.target));
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** The one error handler. Unknown errors are logged and answered 500 without internals. */
export function onError(err: Error, c: Context): Response {
  const code = (err as { code?: unknown }).code;
  if (err instanceof TopasError || (typeof code === 'string' && code in STATUS_BY_CODE)) {
    const known = code as string;
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
