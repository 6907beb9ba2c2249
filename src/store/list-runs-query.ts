import type { RunFilter } from '../core/run.js';
import { ValidationError } from '../core/errors.js';
import { decodeCursor, likeSubstring } from './cursor.js';

/** A statement and its bound parameters. */
export interface Query {
  text: string;
  params: unknown[];
}

/**
 * The listRuns statement: filters ANDed, newest first on (created_at, id), one row
 * more than `limit` to know whether there is a next page. A single phase, origin or
 * app is an equality so the planner can walk the matching composite index in order.
 */
export function listRunsQuery(filter: RunFilter, limit: number, cursor: string | null | undefined): Query {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const oneOrAny = (column: string, values: readonly string[] | undefined) => {
    if (!values) return;
    if (values.length === 0) where.push('false');
    else if (values.length === 1) where.push(`${column} = ${bind(values[0])}`);
    else where.push(`${column} = ANY(${bind(values)}::text[])`);
  };
  oneOrAny('phase', filter.phase);
  oneOrAny('origin', filter.origin);
  // runs_category_idx (category, created_at DESC, id DESC) holds only categorized runs.
  oneOrAny('category', filter.category);
  if (filter.appName !== undefined) where.push(`app_name = ${bind(filter.appName)}`);
  if (filter.definitionId !== undefined) where.push(`definition_id = ${bind(filter.definitionId)}`);
  if (filter.labels && Object.keys(filter.labels).length > 0) where.push(`labels @> ${bind(JSON.stringify(filter.labels))}::jsonb AND labels <> '{}'::jsonb`); // runs_labels_idx holds labelled runs only
  if (filter.text) where.push(`name ILIKE ${bind(likeSubstring(filter.text))}`);
  if (filter.createdAfter !== undefined) where.push(`created_at >= ${bind(filter.createdAfter)}::timestamptz`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${bind(filter.createdBefore)}::timestamptz`);
  if (cursor) {
    const [createdAt, id] = decodeCursor(cursor, 2);
    // Exactly what encodeCursor wrote: an ISO time PostgreSQL can read (year 1..9999).
    if (!/^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(createdAt!) || Number.isNaN(Date.parse(createdAt!))) {
      throw new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by a previous page' }]);
    }
    where.push(`(created_at, id) < (${bind(createdAt)}::timestamptz, ${bind(id)})`);
  }
  const text =
    `SELECT * FROM runs` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY created_at DESC, id DESC LIMIT ${bind(limit + 1)}`;
  return { text, params };
}
