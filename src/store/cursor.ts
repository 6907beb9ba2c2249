import { ValidationError } from '../core/errors.js';
import { textProblem } from '../core/schemas/text.js';

/**
 * An opaque page cursor: the sort key of the last item of a page, as base64url
 * JSON. Callers must not build or parse it.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor` with `arity` string parts; ValidationError otherwise. */
export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' && textProblem(k) === null)) return key as string[];
  } catch {
    // fall through
  }
  throw new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by a previous page' }]);
}

/** Page size: 1..1000, default 50. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError([{ field: 'limit', message: `must be an integer from 1 to 1000, got ${limit}` }]);
  }
  return limit;
}

/** Escapes LIKE wildcards so `text` matches literally inside `%…%`. */
export function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
