/**
 * An imported report as a finished run (origin `import`), in one transaction: the
 * run row already in its terminal phase, then its steps, assertions and log lines in
 * batches as the caller hands them over, then its test results
 * (`recordTestResults`). A failure anywhere rolls everything back: an import is
 * stored whole or not at all, and never leaves a run behind that is not finished.
 *
 * The caller streams the batches from something it has already read to the end (a
 * spool file), so the transaction lasts as long as the inserts, never as long as
 * an upload (on PGlite, a transaction holds the whole database).
 */
import type { Run } from '../core/run.js';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../core/run-events.js';
import { newId } from '../core/ids.js';
import type { ImportedRunInput } from './store.js';
import type { Sql, SqlExecutor } from './sql.js';
import { toRun } from './row-mapping.js';
import { recordTestResults } from './test-results-sql.js';
import { assertionRow, clean, logRow, stepRow } from './event-rows.js';

async function insertSteps(tx: SqlExecutor, steps: readonly StepRecord[]): Promise<void> {
  if (steps.length === 0) return;
  const rows = steps.map(stepRow);
  await tx.query(
    `INSERT INTO run_steps (run_id, seq, parent_seq, kind, name, status, started_at, finished_at, duration_ms, message, file, line, classname, flaky)
     SELECT run_id, seq, parent_seq, kind, name, status, started_at, finished_at, duration_ms, message, file, line, classname, flaky
       FROM json_to_recordset($1::json) AS x(run_id text, seq int, parent_seq int, kind text, name text, status text, started_at timestamptz,
                                             finished_at timestamptz, duration_ms bigint, message text, file text, line int, classname text, flaky boolean)`,
    [JSON.stringify(rows)],
  );
}

async function insertAssertions(tx: SqlExecutor, assertions: readonly AssertionRecord[]): Promise<void> {
  if (assertions.length === 0) return;
  const rows = assertions.map(assertionRow);
  await tx.query(
    `INSERT INTO run_assertions (run_id, seq, step_seq, passed, message, expected, actual, file, line, ts)
     SELECT run_id, seq, step_seq, passed, message, expected, actual, file, line, ts
       FROM json_to_recordset($1::json) AS x(run_id text, seq int, step_seq int, passed boolean, message text,
                                             expected text, actual text, file text, line int, ts timestamptz)`,
    [JSON.stringify(rows)],
  );
}

async function insertLogs(tx: SqlExecutor, logs: readonly LogLine[]): Promise<void> {
  if (logs.length === 0) return;
  const rows = logs.map(logRow);
  await tx.query(
    `INSERT INTO run_logs (run_id, seq, ts, level, message, step_seq)
     SELECT run_id, seq, ts, level, message, step_seq
       FROM json_to_recordset($1::json) AS x(run_id text, seq int, ts timestamptz, level text, message text, step_seq int)`,
    [JSON.stringify(rows)],
  );
}

/** See `Store.importRun`. */
export async function importRun(sql: Sql, input: ImportedRunInput, batches: (runId: string) => AsyncIterable<EventBatch>): Promise<Run> {
  const id = input.id ?? newId();
  const c = input.completion;
  const startedMs = Date.parse(input.startedAt);
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query(
      `INSERT INTO runs (id, name, phase, origin, source, definition_id, env, timeout_seconds, labels, created_at, started_at, finished_at, duration_ms,
                         steps_passed, steps_failed, steps_skipped, assertions_passed, assertions_failed, reason, message)
       VALUES ($1, $2, $3, 'import', $4::jsonb, $5, '{}', $6, $7::jsonb, $8, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       RETURNING *`,
      [
        id,
        clean(input.name),
        c.phase,
        JSON.stringify(input.source),
        input.source.type === 'definition' ? input.source.definitionId : null,
        input.timeoutSeconds,
        JSON.stringify(input.labels),
        input.startedAt,
        new Date(startedMs + input.durationMs).toISOString(),
        input.durationMs,
        c.summary.stepsPassed,
        c.summary.stepsFailed,
        c.summary.stepsSkipped,
        c.summary.assertionsPassed,
        c.summary.assertionsFailed,
        c.reason,
        c.message === null ? null : clean(c.message),
      ],
    );
    const run = toRun(rows[0]!);
    for await (const batch of batches(id)) {
      await insertSteps(tx, batch.steps);
      await insertAssertions(tx, batch.assertions);
      await insertLogs(tx, batch.logs);
    }
    const changed = await recordTestResults(tx, [id]);
    return changed.get(id) ?? run;
  });
}
