/**
 * Retention's statements (`core/retention.ts`): one batch per call, each one short
 * transaction, so a sweep never holds the database for long and the caller can
 * pause between batches. Candidates are read from the partial indexes of migration
 * 12 (finished runs by `finished_at`) with `FOR UPDATE SKIP LOCKED`: a run someone
 * else is changing right now is left for the next sweep, never waited for. Queued
 * and Running runs are not candidates at all.
 */
import { ValidationError } from '../core/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { iso } from './row-mapping.js';
import type { DeleteRunsRequest, DeleteRunsResult, ExpireLogsRequest, ExpireLogsResult } from './store.js';
import type { Sql, SqlExecutor } from './sql.js';

const FINISHED = `phase IN ('Passed','Failed','Error','TimedOut','Cancelled')`;

/** Runs per batch unless told: small enough for a short transaction, big enough to keep up. */
export const DEFAULT_RETENTION_BATCH = 500;

/**
 * The next batch of runs to delete: finished before $1, after the cursor ($2, $3), kept
 * by no override ($4: [{label, value, before}]), oldest-finished first, at most $5.
 */
export const RUNS_TO_DELETE = /* sql */ `SELECT r.id, r.finished_at FROM runs r
    WHERE r.${FINISHED} AND r.finished_at < $1::timestamptz
      AND ($2::timestamptz IS NULL OR (r.finished_at, r.id) > ($2::timestamptz, $3::text))
      AND NOT EXISTS (
        SELECT 1 FROM jsonb_to_recordset($4::jsonb) AS o(label text, value text, before timestamptz)
         WHERE r.labels ->> o.label = o.value AND (o.before IS NULL OR r.finished_at >= o.before))
    ORDER BY r.finished_at, r.id
    LIMIT $5
    FOR UPDATE SKIP LOCKED`;

/** The next batch of runs whose logs expire: finished before $1, not expired yet, oldest-finished first, at most $2. */
export const LOGS_TO_EXPIRE = /* sql */ `SELECT id FROM runs
    WHERE ${FINISHED} AND logs_expired_at IS NULL AND finished_at < $1::timestamptz
    ORDER BY finished_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED`;

/** Log lines deleted per batch at most, unless told (one run's lines always go together). */
export const DEFAULT_RETENTION_MAX_LINES = 50_000;

function maxLinesOf(n: number | undefined): number {
  if (n === undefined) return DEFAULT_RETENTION_MAX_LINES;
  if (!Number.isInteger(n) || n < 1) throw new ValidationError([{ field: 'maxLogLines', message: `must be a positive integer, got ${n}` }]);
  return n;
}

/**
 * The first of `ids` (in order) whose log lines add up to at most `maxLines` — at least
 * one run — so a batch of chatty runs stays a short transaction. A run's last `seq` is
 * its number of lines (read from the primary key, not counted).
 */
async function withinLineBudget(tx: SqlExecutor, ids: string[], maxLines: number): Promise<string[]> {
  const { rows } = await tx.query<{ id: string; n: number }>(
    `SELECT r.id, coalesce((SELECT max(seq) FROM run_logs l WHERE l.run_id = r.id), 0)::int AS n FROM unnest($1::text[]) AS r(id)`,
    [ids],
  );
  const lines = new Map(rows.map((r) => [r.id, Number(r.n)]));
  let total = 0;
  let take = 0;
  for (const id of ids) {
    total += lines.get(id) ?? 0;
    if (take > 0 && total > maxLines) break;
    take++;
  }
  return ids.slice(0, take);
}

function batchSizeOf(n: number | undefined): number {
  if (n === undefined) return DEFAULT_RETENTION_BATCH;
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ValidationError([{ field: 'batchSize', message: `must be an integer from 1 to 10000, got ${n}` }]);
  return n;
}

function instant(field: string, value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError([{ field, message: `must be an ISO-8601 instant, got ${JSON.stringify(value)}` }]);
  return new Date(t).toISOString();
}

export async function deleteRunsBefore(sql: Sql, request: DeleteRunsRequest): Promise<DeleteRunsResult> {
  const limit = batchSizeOf(request.batchSize);
  const maxLines = maxLinesOf(request.maxLogLines);
  const before = instant('before', request.before);
  const overrides = (request.overrides ?? []).map((o, i) => ({
    label: o.label,
    value: o.value,
    before: o.before === null ? null : instant(`overrides.${i}.before`, o.before),
  }));
  const [afterAt, afterId] = request.after ? decodeCursor(request.after, 2) : [null, null];
  return sql.transaction(async (tx) => {
    const { rows: candidates } = await tx.query<{ id: string; finished_at: unknown }>(RUNS_TO_DELETE, [before, afterAt, afterId, JSON.stringify(overrides), limit]);
    if (candidates.length === 0) return { runs: 0, tests: 0, next: null };
    const ids = await withinLineBudget(tx, candidates.map((r) => r.id), maxLines);
    const rows = candidates.slice(0, ids.length);
    // The results first (the cascade would delete them too), to learn which tests lost some.
    const { rows: keys } = await tx.query<{ test_key: string }>(
      `WITH gone AS (DELETE FROM test_results WHERE run_id = ANY($1::text[]) RETURNING test_key)
       SELECT DISTINCT test_key FROM gone`,
      [ids],
    );
    const { affectedRows: runs } = await tx.query('DELETE FROM runs WHERE id = ANY($1::text[])', [ids]);
    let tests = 0;
    if (keys.length) {
      // A test's row summarizes its history and stays while any result or a recent run is
      // left; a quarantine is a decision someone made, kept until someone releases it.
      const { affectedRows } = await tx.query(
        `DELETE FROM tests t
          WHERE t.key = ANY($1::text[]) AND t.last_run_at < $2::timestamptz AND t.quarantined_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM test_results x WHERE x.test_key = t.key)`,
        [keys.map((k) => k.test_key), before],
      );
      tests = affectedRows;
    }
    const last = rows[rows.length - 1]!;
    // Left out by the line budget, or a full batch: there may be more.
    return { runs, tests, next: candidates.length < limit && rows.length === candidates.length ? null : encodeCursor([iso(last.finished_at), last.id]) };
  });
}

export async function expireLogsBefore(sql: Sql, request: ExpireLogsRequest): Promise<ExpireLogsResult> {
  const limit = batchSizeOf(request.batchSize);
  const maxLines = maxLinesOf(request.maxLogLines);
  const before = instant('before', request.before);
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(LOGS_TO_EXPIRE, [before, limit]);
    if (rows.length === 0) return { runs: 0, lines: 0, more: false };
    const ids = await withinLineBudget(tx, rows.map((r) => r.id), maxLines);
    const { rows: deleted } = await tx.query<{ n: number }>(
      `WITH gone AS (DELETE FROM run_logs WHERE run_id = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [ids],
    );
    await tx.query('UPDATE runs SET logs_expired_at = now() WHERE id = ANY($1::text[])', [ids]);
    return { runs: ids.length, lines: Number(deleted[0]!.n), more: rows.length === limit || ids.length < rows.length };
  });
}
