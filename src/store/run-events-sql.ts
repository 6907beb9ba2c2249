/**
 * A run's events and its end as statements: one statement per table, rows passed as one
 * JSON array, so a batch of many runs' events costs a few statements. `writeEventsWith`
 * and `finishRunsWith` are transaction bodies (`procedures.ts`): on PGlite they run on the
 * database's own thread, start to end, without an exchange with the server's thread.
 */
import { assertionRow, clean, logRow, stepRow } from './event-rows.js';
import type { Run } from '../core/run.js';
import { assertTransition } from '../core/run-phase.js';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../core/run-events.js';
import type { RunFinish } from './store.js';
import type { SqlExecutor } from './sql.js';
import { LARGE_RUN_TESTS, recordedRunsQuery, recordTestResultsOf } from './test-results-sql.js';
import { toRun } from './row-mapping.js';
import { jsonRowsOf, jsonRowsSelect } from './json-rows.js';

/** A Running run's duration until now, in ms (as `duration_ms` holds it). */
export const DURATION_NOW = `(extract(epoch from (now()::timestamptz(3) - started_at)) * 1000)::bigint`;

/**
 * Writes a batch of events (logs, steps, assertions; a replayed record changes nothing)
 * and moves the runs of `finishes` to their terminal phase. Call inside a transaction.
 */
export async function writeEventsWith(tx: SqlExecutor, batch: EventBatch, finishes: RunFinish[]): Promise<(Run | null)[]> {
  // Runs finishing in this batch get their counters from the completion: skip the live update.
  const finishing = finishes.map((f) => f.id);
  if (batch.logs.length) await insertLogs(tx, batch.logs);
  if (batch.steps.length) await upsertSteps(tx, lastPerKey(batch.steps), finishing);
  if (batch.assertions.length) await insertAssertions(tx, batch.assertions, finishing);
  // Last: recording the finished runs' test cases reads their steps and assertions.
  return finishes.length ? finishRunsWith(tx, finishes) : [];
}

/** Keeps the last record per (runId, seq): an upsert may not touch a row twice in one statement. */
function lastPerKey<T extends { runId: string; seq: number }>(records: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const r of records) byKey.set(`${r.seq}\u0000${r.runId}`, r);
  return [...byKey.values()];
}


async function insertLogs(tx: SqlExecutor, logs: readonly LogLine[]): Promise<void> {
  const rows = logs.map(logRow);
  await tx.query(
    `INSERT INTO run_logs (run_id, seq, ts, level, message, step_seq)
     SELECT run_id, seq, ts, level, message, step_seq
       FROM json_to_recordset($1::json) AS x(run_id text, seq int, ts timestamptz, level text, message text, step_seq int)
     ON CONFLICT (run_id, seq) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/**
 * Upserts steps and moves the run's step counters by the change in final statuses:
 * the `old` CTE sees the rows as they were before this statement, so a step that
 * ends in a later batch than it started is counted once, and a replayed batch
 * changes nothing. Counters of finished runs are left alone (finishRun set them).
 */
async function upsertSteps(tx: SqlExecutor, steps: readonly StepRecord[], skipCounters: readonly string[] = []): Promise<void> {
  const rows = steps.map(stepRow);
  await tx.query(
    `WITH x AS (
       SELECT * FROM json_to_recordset($1::json) AS x(run_id text, seq int, parent_seq int, kind text, name text, status text,
                 started_at timestamptz, finished_at timestamptz, duration_ms bigint, message text, file text, line int)
     ), old AS (
       SELECT s.run_id, s.status FROM run_steps s JOIN x ON s.run_id = x.run_id AND s.seq = x.seq
     ), up AS (
       INSERT INTO run_steps AS s (run_id, seq, parent_seq, kind, name, status, started_at, finished_at, duration_ms, message, file, line)
       SELECT run_id, seq, parent_seq, kind, name, status, started_at, finished_at, duration_ms, message, file, line FROM x
       ON CONFLICT (run_id, seq) DO UPDATE SET
         parent_seq  = excluded.parent_seq,
         kind        = excluded.kind,
         name        = excluded.name,
         -- a late-arriving (replayed) start never reopens a step that already ended, and
         -- a replayed or second end never changes it: the first end stored is the step's
         status      = CASE WHEN s.status <> 'running' OR excluded.status = 'running' THEN s.status ELSE excluded.status END,
         finished_at = CASE WHEN s.status <> 'running' THEN s.finished_at ELSE coalesce(excluded.finished_at, s.finished_at) END,
         duration_ms = CASE WHEN s.status <> 'running' THEN s.duration_ms ELSE coalesce(excluded.duration_ms, s.duration_ms) END,
         message     = CASE WHEN s.status <> 'running' THEN s.message ELSE coalesce(excluded.message, s.message) END,
         file        = CASE WHEN s.status <> 'running' THEN s.file ELSE coalesce(excluded.file, s.file) END,
         line        = CASE WHEN s.status <> 'running' THEN s.line ELSE coalesce(excluded.line, s.line) END,
         rev         = nextval('run_steps_rev_seq')
       RETURNING s.run_id, s.status
     ), delta AS (
       SELECT run_id, sum(p)::int AS p, sum(f)::int AS f, sum(k)::int AS k FROM (
         SELECT run_id, (status = 'passed')::int AS p, (status = 'failed')::int AS f, (status = 'skipped')::int AS k FROM up
         UNION ALL
         SELECT run_id, -(status = 'passed')::int, -(status = 'failed')::int, -(status = 'skipped')::int FROM old
       ) d GROUP BY run_id
     )
     UPDATE runs r SET steps_passed = r.steps_passed + d.p, steps_failed = r.steps_failed + d.f, steps_skipped = r.steps_skipped + d.k
       FROM delta d
      WHERE r.id = d.run_id AND r.phase IN ('Queued', 'Running') AND (d.p <> 0 OR d.f <> 0 OR d.k <> 0)
        AND NOT (r.id = ANY($2::text[]))`,
    [JSON.stringify(rows), skipCounters],
  );
}

/**
 * Moves Running runs owned by their finisher to their terminal phase, in one statement,
 * and records their test cases (`recordTestResults`). Call inside a transaction.
 */
export async function finishRunsWith(sql: SqlExecutor, items: RunFinish[]): Promise<(Run | null)[]> {
  if (items.length === 0) return [];
  for (const { completion } of items) assertTransition('Running', completion.phase);
  const rows = items.map(({ id, owner, completion: c }) => ({
    id,
    owner,
    phase: c.phase,
    reason: c.reason,
    message: c.message === null ? null : clean(c.message),
    sp: c.summary.stepsPassed,
    sf: c.summary.stepsFailed,
    sk: c.summary.stepsSkipped,
    ap: c.summary.assertionsPassed,
    af: c.summary.assertionsFailed,
    cpu: c.profile?.cpuMs ?? null,
    mem: c.profile?.peakMemoryBytes ?? null,
  }));
  // The finished rows come back with what recording their test cases reads (one
  // statement, not two), in finish order, as one JSON array (`json-rows.ts`).
  const finished = await sql.query(
    `WITH up AS (
       UPDATE runs r SET phase = x.phase, reason = x.reason, message = x.message,
              steps_passed = x.sp, steps_failed = x.sf, steps_skipped = x.sk, assertions_passed = x.ap, assertions_failed = x.af,
              finished_at = now(), duration_ms = ${DURATION_NOW.replace("started_at", "r.started_at")},
              cpu_ms = x.cpu, peak_memory_bytes = x.mem
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, owner text, phase text, reason text, message text,
                                                 sp int, sf int, sk int, ap int, af int, cpu float8, mem bigint)
        WHERE r.id = x.id AND r.owner = x.owner AND r.phase = 'Running'
       RETURNING r.*
     ) ${jsonRowsSelect(recordedRunsQuery('up'), 'finished_at, id')}`,
    [JSON.stringify(rows), LARGE_RUN_TESTS],
  );
  const updated = jsonRowsOf(finished);
  const byId = new Map(updated.map((r) => [String(r.id), toRun(r)]));
  if (updated.length) for (const [id, run] of await recordTestResultsOf(sql, updated)) byId.set(id, run);
  return items.map((i) => byId.get(i.id) ?? null);
}

/** Inserts assertions (a replayed one is ignored) and counts the new ones on the run. */
async function insertAssertions(tx: SqlExecutor, assertions: readonly AssertionRecord[], skipCounters: readonly string[] = []): Promise<void> {
  const rows = assertions.map(assertionRow);
  const skip = new Set(skipCounters);
  if (assertions.every((a) => skip.has(a.runId))) {
    // Every run here is finishing in this transaction: no counter to keep (the usual end of a short run).
    await tx.query(
      `INSERT INTO run_assertions (run_id, seq, step_seq, passed, message, expected, actual, file, line, ts)
       SELECT run_id, seq, step_seq, passed, message, expected, actual, file, line, ts
         FROM json_to_recordset($1::json) AS x(run_id text, seq int, step_seq int, passed boolean, message text,
                                               expected text, actual text, file text, line int, ts timestamptz)
       ON CONFLICT (run_id, seq) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    return;
  }
  await tx.query(
    `WITH ins AS (
       INSERT INTO run_assertions (run_id, seq, step_seq, passed, message, expected, actual, file, line, ts)
       SELECT run_id, seq, step_seq, passed, message, expected, actual, file, line, ts
         FROM json_to_recordset($1::json) AS x(run_id text, seq int, step_seq int, passed boolean, message text,
                                               expected text, actual text, file text, line int, ts timestamptz)
       ON CONFLICT (run_id, seq) DO NOTHING
       RETURNING run_id, passed
     ), d AS (
       SELECT run_id, count(*) FILTER (WHERE passed)::int AS p, count(*) FILTER (WHERE NOT passed)::int AS f FROM ins GROUP BY run_id
     )
     UPDATE runs r SET assertions_passed = r.assertions_passed + d.p, assertions_failed = r.assertions_failed + d.f
       FROM d WHERE r.id = d.run_id AND r.phase IN ('Queued', 'Running') AND NOT (r.id = ANY($2::text[]))`,
    [JSON.stringify(rows), skipCounters],
  );
}
