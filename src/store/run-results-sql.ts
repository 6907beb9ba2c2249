/** The recorded test cases of one run (`test_results`), in order: what `results.json` exports. */
import type { RecordedTestCase, TestOutcome } from '../core/test-case.js';
import type { SqlExecutor } from './sql.js';

export type { RecordedTestCase } from '../core/test-case.js';

/** The run's recorded test cases in run order; empty when none were recorded (the run has not ended). */
export async function runTestResults(sql: SqlExecutor, runId: string): Promise<RecordedTestCase[]> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT test_key, classname, name, outcome, duration_ms, message, category, category_rule, quarantined
       FROM test_results WHERE run_id = $1 ORDER BY idx`,
    [runId],
  );
  return rows.map((r) => ({
    key: String(r.test_key),
    classname: String(r.classname),
    name: String(r.name),
    outcome: r.outcome as TestOutcome,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    message: (r.message as string | null) ?? null,
    category: (r.category as string | null) ?? null,
    categoryRule: (r.category_rule as string | null) ?? null,
    quarantined: Boolean(r.quarantined),
  }));
}
