/**
 * Recording the test cases of finished runs (issue 12): `test_results` rows, the
 * per-key `tests` rows, failure categories and quarantine. Called inside the
 * transaction that moves runs to a terminal phase, after that UPDATE, so a run's end
 * and its results commit together.
 *
 * Cost, per call (batched over all its runs): one read (runs + definition names +
 * steps + failed assertions) and one write (test_results and tests) when nothing
 * failed; when something failed, one more read (quarantined keys and the rules), the
 * failed runs' log tails only when a rule matches on logs, and one UPDATE of the
 * failed runs (category, quarantine).
 */
import { categorizer, DEFAULT_CATEGORY_RULES, failureText, type Categorizer, type CategoryRules } from '../core/categories.js';
import { owningTestOf, testCasesOfRun, type TestCaseResult, type TestOutcome } from '../core/test-case.js';
import type { Run } from '../core/run.js';
import type { AssertionRecord, StepRecord } from '../core/run-events.js';
import type { SqlExecutor } from './sql.js';
import { toAssertion, toRun, toStep } from './row-mapping.js';

/** At most this many log lines (the last ones), and bytes, of a failed test case go to the `log` matcher. */
export const CATEGORY_LOG_LINES = 200;
export const CATEGORY_LOG_BYTES = 64 * 1024;
/** Outcome letters and durations kept per test (`tests.recent`, `tests.recent_ms`). */
export const RECENT_OUTCOMES = 100;

const LETTER: Record<TestOutcome, string> = { Passed: 'P', Failed: 'F', Error: 'E', Skipped: 'S' };

let cachedRules: { text: string; categorize: Categorizer; usesLog: boolean } | null = null;

/**
 * The stored rules (null: the shipped defaults), compiled once while they stay the same.
 * Keyed by their text, not their version: two databases (or one emptied and refilled)
 * can hold different rules under one version number.
 */
function categorizerFor(rules: CategoryRules | null): { categorize: Categorizer; usesLog: boolean } {
  const effective = rules ?? DEFAULT_CATEGORY_RULES;
  const text = JSON.stringify(effective);
  if (cachedRules?.text !== text) {
    cachedRules = { text, categorize: categorizer(effective), usesLog: effective.rules.some((r) => r.match.log !== undefined) };
  }
  return cachedRules;
}

/** A step row as read by `json_agg` (imported runs carry classname and flaky). */
function stepOf(row: Record<string, unknown>): StepRecord {
  const step = toStep(row);
  if (typeof row.classname === 'string') step.classname = row.classname;
  if (row.flaky === true) step.flaky = true;
  return step;
}

function isFailure(c: TestCaseResult): boolean {
  return c.outcome === 'Failed' || c.outcome === 'Error';
}

interface Recorded {
  run: Run;
  row: Record<string, unknown>;
  cases: (TestCaseResult & { quarantined: boolean; category: string | null; categoryRule: string | null })[];
}

/**
 * Records the test cases of `runIds` (runs that just reached a terminal phase):
 * categorizes failed cases with the stored rules, applies quarantine (a Failed run
 * whose every Failed/Error case is quarantined becomes Passed with
 * `quarantined_failures` = n), writes `test_results`, upserts `tests` (in key order,
 * so concurrent finishers never deadlock) and sets `runs.category/category_rule` to
 * those of the first failed case. Returns the runs it changed, by id.
 */
export async function recordTestResults(tx: SqlExecutor, runIds: readonly string[]): Promise<Map<string, Run>> {
  const changed = new Map<string, Run>();
  if (runIds.length === 0) return changed;
  const { rows } = await tx.query(
    `SELECT r.*, d.name AS definition_name,
            (SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM run_steps s WHERE s.run_id = r.id) AS steps_json,
            (SELECT coalesce(json_agg(a ORDER BY a.seq), '[]') FROM run_assertions a WHERE a.run_id = r.id AND NOT a.passed) AS failed_json
       FROM runs r LEFT JOIN test_definitions d ON d.id = r.definition_id
      WHERE r.id = ANY($1::text[]) AND r.phase NOT IN ('Queued', 'Running')
      ORDER BY r.finished_at, r.id`,
    [runIds],
  );
  if (rows.length === 0) return changed;
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

  const recorded: Recorded[] = [];
  const stepsOf = new Map<string, StepRecord[]>();
  for (const row of rows) {
    const run = toRun(row);
    const steps = json<Record<string, unknown>[]>(row.steps_json).map(stepOf);
    const assertions: AssertionRecord[] = json<Record<string, unknown>[]>(row.failed_json).map(toAssertion);
    let cases = testCasesOfRun({ run, steps, assertions, definitionName: (row.definition_name as string | null) ?? null });
    // A run cancelled before it started ran nothing: its tests were skipped, not broken.
    if (run.phase === 'Cancelled' && run.startedAt === null) {
      cases = cases.map((c) => ({ ...c, outcome: 'Skipped', message: run.message ?? 'the run was cancelled before it started', failureType: null, detail: null }));
    }
    stepsOf.set(run.id, steps);
    recorded.push({ run, row, cases: cases.map((c) => ({ ...c, quarantined: false, category: null, categoryRule: null })) });
  }

  const failing = recorded.filter((r) => r.cases.some(isFailure));
  const runUpdates: { id: string; pass: boolean; message: string | null; q: number; category: string | null; rule: string | null }[] = [];
  if (failing.length) {
    const failedKeys = [...new Set(failing.flatMap((r) => r.cases.filter(isFailure).map((c) => c.key)))];
    const { rows: meta } = await tx.query<{ quarantined: string[] | null; rules: unknown }>(
      `SELECT (SELECT array_agg(key) FROM tests WHERE key = ANY($1::text[]) AND quarantined_at IS NOT NULL) AS quarantined,
              (SELECT rules FROM category_rules WHERE id = 1) AS rules`,
      [failedKeys],
    );
    const quarantined = new Set(meta[0]?.quarantined ?? []);
    const { categorize, usesLog } = categorizerFor(meta[0]?.rules == null ? null : json<CategoryRules>(meta[0].rules));
    const logs = usesLog ? await logTails(tx, failing.map((r) => r.run.id)) : new Map<string, LogTail[]>();

    for (const r of failing) {
      const owner = owningTestOf(stepsOf.get(r.run.id)!);
      const runLogs = logs.get(r.run.id) ?? [];
      for (const c of r.cases) {
        if (!isFailure(c)) continue;
        c.quarantined = quarantined.has(c.key);
        const lines = c.stepSeq === null ? runLogs : runLogs.filter((l) => owner(l.stepSeq) === c.stepSeq);
        const verdict = categorize({
          testKey: c.key,
          testName: c.name,
          message: failureText(c.message, c.detail),
          log: capLog(lines),
          definition: c.classname,
          app: r.run.appName,
          labels: r.run.labels,
        });
        c.category = verdict.category;
        c.categoryRule = verdict.rule;
      }
      const failures = r.cases.filter(isFailure);
      const open = failures.filter((c) => !c.quarantined);
      const q = failures.length - open.length;
      const pass = r.run.phase === 'Failed' && open.length === 0;
      const first = open[0] ?? failures[0]!;
      runUpdates.push({
        id: r.run.id,
        pass,
        message: pass ? `${q} quarantined failure${q === 1 ? '' : 's'}: ${failures[0]!.message ?? failures[0]!.key}` : null,
        q,
        category: pass ? null : first.category,
        rule: pass ? null : first.categoryRule,
      });
    }
    const { rows: updated } = await tx.query(
      `UPDATE runs r SET phase = CASE WHEN x.pass THEN 'Passed' ELSE r.phase END,
              reason = CASE WHEN x.pass THEN NULL ELSE r.reason END,
              message = CASE WHEN x.pass THEN x.message ELSE r.message END,
              quarantined_failures = x.q, category = x.category, category_rule = x.rule
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, pass boolean, message text, q int, category text, rule text)
        WHERE r.id = x.id
       RETURNING r.*`,
      [JSON.stringify(runUpdates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))],
    );
    for (const row of updated) changed.set(String(row.id), toRun(row));
  }

  await writeResults(tx, recorded);
  return changed;
}

interface LogTail {
  stepSeq: number | null;
  message: string;
}

/** The last log lines of each run (enough for every failed case's 200), oldest first. */
async function logTails(tx: SqlExecutor, runIds: string[]): Promise<Map<string, LogTail[]>> {
  const { rows } = await tx.query<{ run_id: string; step_seq: number | null; message: string }>(
    `SELECT run_id, step_seq, message FROM (
       SELECT l.run_id, l.step_seq, l.message, l.seq, row_number() OVER (PARTITION BY l.run_id ORDER BY l.seq DESC) AS n
         FROM run_logs l WHERE l.run_id = ANY($1::text[])
     ) t WHERE n <= $2 ORDER BY run_id, seq`,
    [runIds, CATEGORY_LOG_LINES * 10],
  );
  const byRun = new Map<string, LogTail[]>();
  for (const r of rows) {
    const list = byRun.get(r.run_id) ?? [];
    list.push({ stepSeq: r.step_seq === null ? null : Number(r.step_seq), message: r.message });
    byRun.set(r.run_id, list);
  }
  return byRun;
}

/** The last ≤200 lines, ≤64 KB, joined by newlines. */
function capLog(lines: readonly LogTail[]): string {
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < CATEGORY_LOG_LINES; i--) {
    const line = lines[i]!.message;
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > CATEGORY_LOG_BYTES) break;
    kept.push(line);
  }
  return kept.reverse().join('\n');
}

/** One statement: the `test_results` rows, then the `tests` rows (one per key, in key order). */
async function writeResults(tx: SqlExecutor, recorded: readonly Recorded[]): Promise<void> {
  const results = [];
  // Per key, newest last (the runs are read in finish order).
  const perKey = new Map<string, { c: Recorded['cases'][number]; r: Recorded }[]>();
  for (const r of recorded) {
    const revision = r.run.labels.revision ?? null;
    for (const [idx, c] of r.cases.entries()) {
      results.push({
        run_id: r.run.id,
        idx,
        test_key: c.key,
        classname: c.classname,
        name: c.name,
        outcome: c.outcome,
        duration_ms: c.durationMs,
        message: c.message,
        failure_type: c.failureType,
        detail: c.detail,
        file: c.file,
        line: c.line,
        step_seq: c.stepSeq,
        flaky: c.flaky,
        quarantined: c.quarantined,
        category: c.category,
        category_rule: c.categoryRule,
        created_at: r.run.createdAt,
        origin: r.run.origin,
        definition_id: (r.row.definition_id as string | null) ?? null,
        app_name: r.run.appName,
        revision,
      });
      perKey.set(c.key, [...(perKey.get(c.key) ?? []), { c, r }]);
    }
  }
  const tests = [...perKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, list]) => {
      const newestFirst = [...list].reverse();
      const last = newestFirst[0]!;
      const lastFailure = newestFirst.find(({ c }) => isFailure(c));
      // Passed and failed on the same revision within this batch (older rows are checked in SQL).
      const byRevision = new Map<string, Set<string>>();
      for (const { c, r } of list) {
        const rev = r.run.labels.revision;
        if (rev === undefined || c.outcome === 'Skipped') continue;
        byRevision.set(rev, (byRevision.get(rev) ?? new Set()).add(c.outcome === 'Passed' ? 'P' : 'F'));
      }
      const batchFlaky = [...byRevision].find(([, s]) => s.size === 2)?.[0] ?? null;
      const revisions = newestFirst
        .slice(0, 20)
        .filter(({ c, r }) => c.outcome !== 'Skipped' && r.run.labels.revision !== undefined)
        .map(({ c, r }) => ({ rev: r.run.labels.revision!, pass: c.outcome === 'Passed' }));
      return {
        key,
        classname: last.c.classname,
        name: last.c.name,
        definition_id: (last.r.row.definition_id as string | null) ?? null,
        app_name: last.r.run.appName,
        first_seen_at: list[0]!.r.run.createdAt,
        last_run_at: last.r.run.createdAt,
        last_run_id: last.r.run.id,
        last_outcome: last.c.outcome,
        letters: newestFirst.slice(0, RECENT_OUTCOMES).map(({ c }) => LETTER[c.outcome]).join(''),
        ms: newestFirst.slice(0, RECENT_OUTCOMES).map(({ c }) => (c.durationMs === null ? null : Math.min(c.durationMs, 2_147_483_647))),
        n: list.length,
        lf_at: lastFailure?.r.run.createdAt ?? null,
        lf_run: lastFailure?.r.run.id ?? null,
        lf_message: lastFailure?.c.message ?? null,
        lf_category: lastFailure?.c.category ?? null,
        batch_flaky: batchFlaky,
        revisions,
      };
    });
  await tx.query(
    `WITH ins AS (
       INSERT INTO test_results (run_id, idx, test_key, classname, name, outcome, duration_ms, message, failure_type, detail,
                                 file, line, step_seq, flaky, quarantined, category, category_rule, created_at, origin,
                                 definition_id, app_name, revision)
       SELECT run_id, idx, test_key, classname, name, outcome, duration_ms, message, failure_type, detail,
              file, line, step_seq, flaky, quarantined, category, category_rule, created_at, origin,
              definition_id, app_name, revision
         FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, idx int, test_key text, classname text, name text, outcome text,
              duration_ms bigint, message text, failure_type text, detail text, file text, line int, step_seq int,
              flaky boolean, quarantined boolean, category text, category_rule text, created_at timestamptz, origin text,
              definition_id text, app_name text, revision text)
       ON CONFLICT (run_id, idx) DO NOTHING
     )
     INSERT INTO tests AS t (key, classname, name, definition_id, app_name, first_seen_at, last_run_at, last_run_id, last_outcome,
                             recent, recent_ms, runs, last_failure_at, last_failure_run_id, last_failure_message,
                             last_failure_category, flaky_revision)
     SELECT x.key, x.classname, x.name, x.definition_id, x.app_name, x.first_seen_at, x.last_run_at, x.last_run_id, x.last_outcome,
            x.letters, ARRAY(SELECT e.m::integer FROM jsonb_array_elements_text(x.ms) WITH ORDINALITY AS e(m, o) ORDER BY e.o),
            x.n, x.lf_at, x.lf_run, x.lf_message, x.lf_category,
            coalesce(x.batch_flaky, (
              SELECT v.rev FROM jsonb_to_recordset(x.revisions) AS v(rev text, pass boolean)
               WHERE EXISTS (SELECT 1 FROM test_results o WHERE o.test_key = x.key AND o.revision = v.rev
                                AND (CASE WHEN v.pass THEN o.outcome IN ('Failed', 'Error') ELSE o.outcome = 'Passed' END))
               LIMIT 1))
       FROM jsonb_to_recordset($2::jsonb) AS x(key text, classname text, name text, definition_id text, app_name text,
            first_seen_at timestamptz, last_run_at timestamptz, last_run_id text, last_outcome text, letters text, ms jsonb,
            n int, lf_at timestamptz, lf_run text, lf_message text, lf_category text, batch_flaky text, revisions jsonb)
      ORDER BY x.key
     ON CONFLICT (key) DO UPDATE SET
       classname = excluded.classname,
       name = excluded.name,
       definition_id = coalesce(excluded.definition_id, t.definition_id),
       app_name = coalesce(excluded.app_name, t.app_name),
       last_run_at = excluded.last_run_at,
       last_run_id = excluded.last_run_id,
       last_outcome = excluded.last_outcome,
       recent = left(excluded.recent || t.recent, ${RECENT_OUTCOMES}),
       recent_ms = (excluded.recent_ms || t.recent_ms)[1:${RECENT_OUTCOMES}],
       runs = t.runs + excluded.runs,
       last_failure_at = coalesce(excluded.last_failure_at, t.last_failure_at),
       last_failure_run_id = coalesce(excluded.last_failure_run_id, t.last_failure_run_id),
       last_failure_message = CASE WHEN excluded.last_failure_run_id IS NULL THEN t.last_failure_message ELSE excluded.last_failure_message END,
       last_failure_category = CASE WHEN excluded.last_failure_run_id IS NULL THEN t.last_failure_category ELSE excluded.last_failure_category END,
       flaky_revision = coalesce(excluded.flaky_revision, t.flaky_revision)`,
    [JSON.stringify(results), JSON.stringify(tests)],
  );
}
