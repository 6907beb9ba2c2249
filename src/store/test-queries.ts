/**
 * The Tests API's reads and quarantine writes, over `tests` (one row per key, kept
 * by `recordTestResults`) and `test_results` (one row per case of a finished run).
 * Flakiness is computed at read time from `tests.recent` over the flaky window.
 */
import type { TestOutcome } from '../core/test-case.js';
import type { TestDetail, TestFilter, TestResultItem, TestSummary } from '../core/test-summary.js';
import { RECENT_STRIP } from '../core/test-summary.js';
import { flakinessOf, flippedTwice, flippedTwiceSql, passRateOf, percentile } from '../core/flakiness.js';
import { ValidationError } from '../core/errors.js';
import type { Page, PageRequest } from './store.js';
import type { Sql, SqlExecutor } from './sql.js';
import { decodeCursor, encodeCursor, likeSubstring, pageLimit } from './cursor.js';
import { iso } from './row-mapping.js';

type Row = Record<string, unknown>;

const OUTCOME: Record<string, TestOutcome> = { P: 'Passed', F: 'Failed', E: 'Error', S: 'Skipped' };
const ISO_CURSOR = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function cursorTime(value: string | undefined): string {
  if (!value || !ISO_CURSOR.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by a previous page' }]);
  }
  return value;
}

function intArray(value: unknown): (number | null)[] {
  if (Array.isArray(value)) return value.map((v) => (v === null ? null : Number(v)));
  if (typeof value === 'string') {
    // node-postgres parses int[]; keep a fallback for the text form `{1,NULL,3}`.
    const inner = value.replace(/^\{|\}$/g, '');
    return inner === '' ? [] : inner.split(',').map((v) => (v === 'NULL' ? null : Number(v)));
  }
  return [];
}

/** A `tests` row as the API's summary, flakiness over `window` outcomes. */
export function toTestSummary(row: Row, window: number): TestSummary {
  const recent = String(row.recent ?? '');
  const ms = intArray(row.recent_ms);
  const durations = ms.filter((m, i): m is number => m !== null && recent[i] !== 'S');
  return {
    id: row.id as string,
    key: row.key as string,
    classname: row.classname as string,
    name: row.name as string,
    definitionId: (row.definition_id as string | null) ?? null,
    appName: (row.app_name as string | null) ?? null,
    firstSeenAt: iso(row.first_seen_at),
    lastRunAt: iso(row.last_run_at),
    lastRunId: row.last_run_id as string,
    lastOutcome: row.last_outcome as TestOutcome,
    recent: [...recent.slice(0, RECENT_STRIP)].map((c) => OUTCOME[c]!),
    runs: Number(row.runs),
    passRate: passRateOf(recent, window),
    flaky: flippedTwice(recent, window) || row.flaky_revision != null,
    flakiness: flakinessOf(recent, window),
    medianMs: percentile(durations, 0.5),
    p95Ms: percentile(durations, 0.95),
    lastFailure: row.last_failure_run_id
      ? {
          runId: row.last_failure_run_id as string,
          at: iso(row.last_failure_at),
          message: (row.last_failure_message as string | null) ?? null,
          category: (row.last_failure_category as string | null) ?? null,
        }
      : null,
    quarantine: row.quarantined_at
      ? { at: iso(row.quarantined_at), by: (row.quarantined_by as string | null) ?? null, reason: (row.quarantine_reason as string | null) ?? '' }
      : null,
  };
}

/** Newest last run first, keyset-paginated on (last_run_at, key). */
export async function listTests(sql: SqlExecutor, filter: TestFilter, page: PageRequest, window: number): Promise<Page<TestSummary>> {
  const limit = pageLimit(page.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.text) where.push(`t.key ILIKE ${bind(likeSubstring(filter.text))}`);
  if (filter.definitionId !== undefined) where.push(`t.definition_id = ${bind(filter.definitionId)}`);
  if (filter.appName !== undefined) where.push(`t.app_name = ${bind(filter.appName)}`);
  if (filter.category !== undefined) where.push(`t.last_failure_category = ${bind(filter.category)}`);
  if (filter.outcome !== undefined) where.push(`t.last_outcome = ${bind(filter.outcome)}`);
  if (filter.quarantined) where.push(`t.quarantined_at IS NOT NULL`);
  if (filter.flaky) where.push(`(t.flaky_revision IS NOT NULL OR ${flippedTwiceSql('t.recent', bind(window))})`);
  if (filter.origin !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM test_results r WHERE r.run_id = t.last_run_id AND r.test_key = t.key AND r.origin = ${bind(filter.origin)})`);
  }
  if (page.cursor) {
    const [at, key] = decodeCursor(page.cursor, 2);
    where.push(`(t.last_run_at, t.key) < (${bind(cursorTime(at))}::timestamptz, ${bind(key)})`);
  }
  const { rows } = await sql.query(
    `SELECT t.* FROM tests t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY t.last_run_at DESC, t.key DESC LIMIT ${bind(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map((r) => toTestSummary(r, window));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.lastRunAt, last.key]) : null };
}

/** One test with the evidence of its flakiness; null when the id is unknown. */
export async function getTest(sql: SqlExecutor, id: string, window: number): Promise<TestDetail | null> {
  const { rows } = await sql.query(`SELECT * FROM tests WHERE id = $1`, [id]);
  if (!rows[0]) return null;
  const summary = toTestSummary(rows[0], window);
  const revision = (rows[0].flaky_revision as string | null) ?? null;
  const { rows: recent } = await sql.query<{ run_id: string; outcome: string; passed_run: string | null; failed_run: string | null }>(
    `SELECT h.run_id, h.outcome, v.passed_run, v.failed_run
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT run_id, outcome, created_at FROM test_results
                           WHERE test_key = $1 ORDER BY created_at DESC, run_id DESC LIMIT $2) h ON true
       LEFT JOIN LATERAL (SELECT (SELECT run_id FROM test_results WHERE test_key = $1 AND revision = $3 AND outcome = 'Passed'
                                   ORDER BY created_at DESC, run_id DESC LIMIT 1) AS passed_run,
                                 (SELECT run_id FROM test_results WHERE test_key = $1 AND revision = $3 AND outcome IN ('Failed', 'Error')
                                   ORDER BY created_at DESC, run_id DESC LIMIT 1) AS failed_run) v ON $3::text IS NOT NULL
      ORDER BY h.created_at DESC, h.run_id DESC`,
    [summary.key, window, revision],
  );
  // Newest first; a run is a flip when its outcome differs from the next older judged one.
  const judged = recent.filter((r) => r.run_id !== null && r.outcome !== 'Skipped');
  const runIds: string[] = [];
  for (let i = 0; i + 1 < judged.length; i++) {
    if ((judged[i]!.outcome === 'Passed') !== (judged[i + 1]!.outcome === 'Passed')) runIds.push(judged[i]!.run_id);
  }
  return {
    ...summary,
    window,
    flakyEvidence: {
      flips: runIds.length,
      runIds,
      revision: revision ? { revision, passedRunId: recent[0]?.passed_run ?? null, failedRunId: recent[0]?.failed_run ?? null } : null,
    },
  };
}

function toResultItem(row: Row): TestResultItem {
  return {
    runId: row.run_id as string,
    runName: row.run_name as string,
    runPhase: row.run_phase as string,
    createdAt: iso(row.created_at),
    outcome: row.outcome as TestOutcome,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    message: (row.message as string | null) ?? null,
    failureType: (row.failure_type as string | null) ?? null,
    detail: (row.detail as string | null) ?? null,
    category: (row.category as string | null) ?? null,
    categoryRule: (row.category_rule as string | null) ?? null,
    quarantined: row.quarantined === true,
    flaky: row.flaky === true,
    file: (row.file as string | null) ?? null,
    line: row.line === null ? null : Number(row.line),
    revision: (row.revision as string | null) ?? null,
  };
}

/** A test's results, newest first; null when the id is unknown. */
export async function testHistory(sql: SqlExecutor, id: string, page: PageRequest): Promise<Page<TestResultItem> | null> {
  const limit = pageLimit(page.limit);
  const params: unknown[] = [id, limit + 1];
  let after = '';
  if (page.cursor) {
    const [at, runId] = decodeCursor(page.cursor, 2);
    params.push(cursorTime(at), runId);
    after = `AND (tr.created_at, tr.run_id) < ($3::timestamptz, $4)`;
  }
  const { rows } = await sql.query(
    `SELECT t.key AS known, h.* FROM (SELECT 1) one
       LEFT JOIN tests t ON t.id = $1
       LEFT JOIN LATERAL (
         SELECT tr.*, r.name AS run_name, r.phase AS run_phase
           FROM test_results tr JOIN runs r ON r.id = tr.run_id
          WHERE tr.test_key = t.key ${after}
          ORDER BY tr.created_at DESC, tr.run_id DESC LIMIT $2) h ON true`,
    params,
  );
  if (!rows[0] || rows[0].known === null) return null;
  const items = rows.filter((r) => r.run_id !== null).slice(0, limit).map(toResultItem);
  const last = items.at(-1);
  return { items, nextCursor: rows.filter((r) => r.run_id !== null).length > limit && last ? encodeCursor([last.createdAt, last.runId]) : null };
}

/** Quarantines (reason given) or releases (null) a test and writes the audit log, in one transaction. Null when unknown. */
export async function setQuarantine(sql: Sql, id: string, actor: string | null, reason: string | null, window: number): Promise<TestSummary | null> {
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query(
      reason === null
        ? `UPDATE tests SET quarantined_at = NULL, quarantined_by = NULL, quarantine_reason = NULL WHERE id = $1 RETURNING *`
        : `UPDATE tests SET quarantined_at = now(), quarantined_by = $2, quarantine_reason = $3 WHERE id = $1 RETURNING *`,
      reason === null ? [id] : [id, actor, reason],
    );
    if (!rows[0]) return null;
    await tx.query(`INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4::jsonb)`, [
      actor,
      reason === null ? 'test.release' : 'test.quarantine',
      rows[0].key,
      JSON.stringify(reason === null ? { testId: id } : { testId: id, reason }),
    ]);
    return toTestSummary(rows[0], window);
  });
}
