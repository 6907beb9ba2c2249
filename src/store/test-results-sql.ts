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
 *
 * A run with more than `LARGE_RUN_TESTS` test steps (a big imported report) is
 * recorded on its own, `RESULT_CHUNK` tests at a time, so memory does not grow with
 * the run: its step tree in typed arrays, per chunk its tests' steps and first failed
 * assertions, then `tests` upserted from its `test_results` rows in SQL.
 */
import { categorizer, DEFAULT_CATEGORY_RULES, failureText, type Categorizer, type CategoryRules } from '../core/categories.js';
import {
  caseOfTest,
  CaseNamer,
  classnameOf,
  needsRunCase,
  owningTestOf,
  runCaseOf,
  testCasesOfRun,
  testPathOf,
  type TestCaseResult,
  type TestOutcome,
} from '../core/test-case.js';
import type { Run } from '../core/run.js';
import type { AssertionRecord, StepRecord } from '../core/run-events.js';
import type { SqlExecutor } from './sql.js';
import { json, toAssertion, toRun, toStep } from './row-mapping.js';

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

function isFailure(c: Pick<TestCaseResult, 'outcome'>): boolean {
  return c.outcome === 'Failed' || c.outcome === 'Error';
}

/**
 * Runs with more test steps than this record their cases `RESULT_CHUNK` tests at a
 * time, so memory stays bounded however big the run (a 50 MB JUnit import has
 * 55,000); smaller runs, nearly all of them, in one read and one write.
 */
export const LARGE_RUN_TESTS = 2000;
/** Tests per chunk of a large run: small enough that a chunk's rows die young (never reach the old heap). */
export const RESULT_CHUNK = 500;
/** At most about this many characters of JSON per `test_results` INSERT of a large run (V8 puts strings over ~128 KB in the old heap at once). */
const RESULT_INSERT_CHARS = 64 * 1024;

type RecordedCase = TestCaseResult & { quarantined: boolean; category: string | null; categoryRule: string | null };

interface Recorded {
  run: Run;
  row: Record<string, unknown>;
  cases: RecordedCase[];
}

/** A run cancelled before it started ran nothing: its tests were skipped, not broken. */
function asRecorded(run: Run, c: TestCaseResult): RecordedCase {
  const base = run.phase === 'Cancelled' && run.startedAt === null
    ? { ...c, outcome: 'Skipped' as const, message: run.message ?? 'the run was cancelled before it started', failureType: null, detail: null }
    : c;
  return { ...base, quarantined: false, category: null, categoryRule: null };
}

/** Sets a failed case's quarantine flag and category (`lines`: the log lines it owns, oldest first). */
function judge(c: RecordedCase, run: Run, quarantined: ReadonlySet<string>, categorize: Categorizer, lines: readonly LogTail[]): void {
  c.quarantined = quarantined.has(c.key);
  const verdict = categorize({
    testKey: c.key,
    testName: c.name,
    message: failureText(c.message, c.detail),
    log: capLog(lines),
    definition: c.classname,
    app: run.appName,
    labels: run.labels,
  });
  c.category = verdict.category;
  c.categoryRule = verdict.rule;
}

interface RunUpdate {
  id: string;
  pass: boolean;
  message: string | null;
  q: number;
  category: string | null;
  rule: string | null;
}

/**
 * A run's failed cases, counted in case order: what the run becomes (Passed when it
 * Failed only by quarantined tests) and its category (that of its first failure not
 * quarantined, else of its first failure).
 */
class FailureTally {
  private failures = 0;
  private open = 0;
  private first: { message: string | null; key: string; category: string | null; rule: string | null } | null = null;
  private firstOpen: { category: string | null; rule: string | null } | null = null;

  add(c: RecordedCase): void {
    if (!isFailure(c)) return;
    if (this.failures++ === 0) this.first = { message: c.message, key: c.key, category: c.category, rule: c.categoryRule };
    if (!c.quarantined && this.open++ === 0) this.firstOpen = { category: c.category, rule: c.categoryRule };
  }

  /** The run's UPDATE; null when nothing failed. */
  update(run: Run): RunUpdate | null {
    const first = this.first;
    if (!first) return null;
    const q = this.failures - this.open;
    const pass = run.phase === 'Failed' && this.open === 0;
    const categorized = this.firstOpen ?? first;
    return {
      id: run.id,
      pass,
      message: pass ? `${q} quarantined failure${q === 1 ? '' : 's'}: ${first.message ?? first.key}` : null,
      q,
      category: pass ? null : categorized.category,
      rule: pass ? null : categorized.rule,
    };
  }
}

/** Applies the runs' updates (in id order); returns the runs as changed. */
async function updateRuns(tx: SqlExecutor, runUpdates: RunUpdate[], changed: Map<string, Run>): Promise<void> {
  if (runUpdates.length === 0) return;
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

/**
 * Records the test cases of `runIds` (runs that just reached a terminal phase):
 * categorizes failed cases with the stored rules, applies quarantine (a Failed run
 * whose every Failed/Error case is quarantined becomes Passed with
 * `quarantined_failures` = n), writes `test_results`, upserts `tests` (in key order,
 * so concurrent finishers never deadlock) and sets `runs.category/category_rule` to
 * those of the first failed case. Returns the runs it changed, by id.
 *
 * Runs with more than `LARGE_RUN_TESTS` test steps are recorded alone, in chunks
 * (`recordInChunks`), with the same results; the others together, in one go.
 */
export async function recordTestResults(tx: SqlExecutor, runIds: readonly string[]): Promise<Map<string, Run>> {
  if (runIds.length === 0) return new Map();
  const { rows } = await tx.query(recordedRunsQuery('runs', `WHERE r.id = ANY($1::text[]) AND r.phase NOT IN ('Queued', 'Running')`), [runIds, LARGE_RUN_TESTS]);
  return recordTestResultsOf(tx, rows);
}

/**
 * The read `recordTestResults` starts with, over `source` (the runs table, or a CTE of
 * runs rows such as an UPDATE's RETURNING, so that a finish reads nothing twice): each
 * run's row with its definition's name, its number of test steps and, unless it has
 * more than $2 (`LARGE_RUN_TESTS`), its steps and failed assertions as JSON, in finish order.
 */
export function recordedRunsQuery(source: string, where = ''): string {
  return `SELECT r.*, d.name AS definition_name, n.tests AS test_steps,
            CASE WHEN n.tests <= $2 THEN (SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM run_steps s WHERE s.run_id = r.id) END AS steps_json,
            CASE WHEN n.tests <= $2 THEN (SELECT coalesce(json_agg(a ORDER BY a.seq), '[]') FROM run_assertions a WHERE a.run_id = r.id AND NOT a.passed) END AS failed_json
       FROM ${source} r LEFT JOIN test_definitions d ON d.id = r.definition_id
            CROSS JOIN LATERAL (SELECT count(*)::int AS tests FROM (SELECT 1 FROM run_steps s WHERE s.run_id = r.id AND s.kind = 'test' LIMIT $2 + 1) t) n
      ${where}
      ORDER BY r.finished_at, r.id`;
}

/** `recordTestResults` for runs already read by `recordedRunsQuery` (terminal runs, in its order). */
export async function recordTestResultsOf(tx: SqlExecutor, rows: Record<string, unknown>[]): Promise<Map<string, Run>> {
  const changed = new Map<string, Run>();
  // In finish order: the small runs between two large ones together, each large one alone.
  let small: Record<string, unknown>[] = [];
  for (const row of rows) {
    if (Number(row.test_steps) <= LARGE_RUN_TESTS) {
      small.push(row);
      continue;
    }
    if (small.length) await recordWhole(tx, small, changed);
    small = [];
    await recordInChunks(tx, row, changed);
  }
  if (small.length) await recordWhole(tx, small, changed);
  return changed;
}

/** Records runs read whole (steps and failed assertions as JSON): one read, one write. */
async function recordWhole(tx: SqlExecutor, rows: Record<string, unknown>[], changed: Map<string, Run>): Promise<void> {
  const recorded: Recorded[] = [];
  const stepsOf = new Map<string, StepRecord[]>();
  for (const row of rows) {
    const run = toRun(row);
    const steps = json<Record<string, unknown>[]>(row.steps_json).map(stepOf);
    const assertions: AssertionRecord[] = json<Record<string, unknown>[]>(row.failed_json).map(toAssertion);
    const cases = testCasesOfRun({ run, steps, assertions, definitionName: (row.definition_name as string | null) ?? null });
    stepsOf.set(run.id, steps);
    recorded.push({ run, row, cases: cases.map((c) => asRecorded(run, c)) });
  }

  const failing = recorded.filter((r) => r.cases.some(isFailure));
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

    const runUpdates: RunUpdate[] = [];
    for (const r of failing) {
      const owner = owningTestOf(stepsOf.get(r.run.id)!);
      const runLogs = logs.get(r.run.id) ?? [];
      const tally = new FailureTally();
      for (const c of r.cases) {
        if (!isFailure(c)) continue;
        judge(c, r.run, quarantined, categorize, c.stepSeq === null ? runLogs : runLogs.filter((l) => owner(l.stepSeq) === c.stepSeq));
        tally.add(c);
      }
      runUpdates.push(tally.update(r.run)!);
    }
    await updateRuns(tx, runUpdates, changed);
  }

  await writeResults(tx, recorded);
}

/**
 * A run's step tree in a few bytes a step (seq order): each step's parent and the
 * innermost test it belongs to (`owningTestOf`, as the whole run's steps give it).
 */
class StepTree {
  constructor(
    private readonly seqs: Int32Array,
    readonly parents: Int32Array,
    /** Index of the owning test step, -1: none. */
    readonly owners: Int32Array,
    private readonly isTest: Uint8Array,
  ) {}

  /** The index of step `seq`, -1 when unknown. */
  indexOf(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.seqs[mid]!;
      if (v === seq) return mid;
      if (v < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The test steps' seqs, in order. */
  tests(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.seqs.length; i++) if (this.isTest[i]) out.push(this.seqs[i]!);
    return out;
  }

  /** The step's parent seq; null at the top or for an unknown step. */
  parentOf(seq: number): number | null {
    const i = this.indexOf(seq);
    return i < 0 || this.parents[i]! < 0 ? null : this.seqs[this.parents[i]!]!;
  }

  /** The innermost test step `seq` belongs to (itself when a test), or null. */
  ownerOf(seq: number | null): number | null {
    if (seq === null) return null;
    const i = this.indexOf(seq);
    return i < 0 || this.owners[i]! < 0 ? null : this.seqs[this.owners[i]!]!;
  }

  /** The steps owned by one of `tests` (null: by any test). */
  ownedBy(tests: ReadonlySet<number> | null): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.seqs.length; i++) {
      const o = this.owners[i]!;
      if (o >= 0 && (tests === null || tests.has(this.seqs[o]!))) out.push(this.seqs[i]!);
    }
    return out;
  }
}

/** Reads the step tree of a run (its rows are dropped once read). */
async function stepTreeOf(tx: SqlExecutor, runId: string): Promise<StepTree> {
  const { rows } = await tx.query<{ seq: number; parent_seq: number | null; test: boolean }>(
    `SELECT seq, parent_seq, kind = 'test' AS test FROM run_steps WHERE run_id = $1 ORDER BY seq`,
    [runId],
  );
  const n = rows.length;
  const seqs = new Int32Array(n);
  const isTest = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seqs[i] = Number(rows[i]!.seq);
    isTest[i] = rows[i]!.test ? 1 : 0;
  }
  const tree = new StepTree(seqs, new Int32Array(n).fill(-1), new Int32Array(n).fill(-2), isTest);
  const t = tree;
  for (let i = 0; i < n; i++) {
    const p = rows[i]!.parent_seq;
    t.parents[i] = p === null ? -1 : t.indexOf(Number(p));
  }
  // owners: walk up to the first step whose owner is known (a test owns itself; the top, none)
  const chain: number[] = [];
  for (let i = 0; i < n; i++) {
    let j = i;
    while (j >= 0 && t.owners[j] === -2 && !isTest[j] && chain.length <= n) {
      chain.push(j);
      j = t.parents[j]!;
    }
    const found = j < 0 || chain.length > n ? -1 : isTest[j] ? j : t.owners[j]!;
    if (j >= 0 && isTest[j]) t.owners[j] = j;
    for (const k of chain) t.owners[k] = found;
    chain.length = 0;
  }
  return tree;
}

/**
 * Records one large run a chunk of `RESULT_CHUNK` tests at a time, in the order they
 * started, with the same results as `testCasesOfRun` over the whole run: it keeps the
 * run's step tree (seq, parent, kind: a few bytes a step) to find each test's
 * enclosing steps and the steps it owns, reads per chunk only those steps and the
 * first failed assertion of each, and carries across chunks what spans the run —
 * the names taken per classname (` (2)` suffixes), whether any case failed (the case
 * for the run itself) and the failure tally (quarantine, category). Then it updates
 * the run once and upserts `tests` from the recorded rows, a page of keys at a time
 * in key order.
 */
async function recordInChunks(tx: SqlExecutor, row: Record<string, unknown>, changed: Map<string, Run>): Promise<void> {
  const run = toRun(row);
  const definitionName = (row.definition_name as string | null) ?? null;
  const classname = classnameOf({ run, definitionName });
  const tree = await stepTreeOf(tx, run.id);
  const owner = (seq: number | null): number | null => tree.ownerOf(seq);
  const tests = tree.tests();

  let judging: { categorize: Categorizer; logs: LogTail[] } | null = null;
  const judgeFailures = async (cases: RecordedCase[]): Promise<void> => {
    const failed = cases.filter(isFailure);
    if (failed.length === 0) return;
    if (!judging) {
      const { rows: stored } = await tx.query<{ rules: unknown }>(`SELECT rules FROM category_rules WHERE id = 1`);
      const rules = stored[0]?.rules;
      const { categorize, usesLog } = categorizerFor(rules == null ? null : ((typeof rules === 'string' ? JSON.parse(rules) : rules) as CategoryRules));
      judging = { categorize, logs: usesLog ? ((await logTails(tx, [run.id])).get(run.id) ?? []) : [] };
    }
    const { rows: q } = await tx.query<{ key: string }>(`SELECT key FROM tests WHERE key = ANY($1::text[]) AND quarantined_at IS NOT NULL`, [
      [...new Set(failed.map((c) => c.key))],
    ]);
    const quarantined = new Set(q.map((r) => r.key));
    const { categorize, logs } = judging;
    for (const c of failed) judge(c, run, quarantined, categorize, c.stepSeq === null ? logs : logs.filter((l) => owner(l.stepSeq) === c.stepSeq));
  };

  const namer = new CaseNamer();
  const tally = new FailureTally();
  let anyFailed = false;
  let idx = 0;
  const write = async (cases: RecordedCase[]): Promise<void> => {
    await judgeFailures(cases);
    for (const c of cases) tally.add(c);
    const r: Recorded = { run, row, cases };
    // statements of at most ~RESULT_INSERT_CHARS of JSON: a larger string would go straight to the old heap
    let batch: string[] = [];
    let chars = 0;
    const flush = async () => {
      if (batch.length) await tx.query(INSERT_RESULTS('$1'), [`[${batch.join(',')}]`]);
      batch = [];
      chars = 0;
    };
    for (const c of cases) {
      const json = JSON.stringify(resultRow(r, c, idx++));
      if (chars + json.length > RESULT_INSERT_CHARS) await flush();
      batch.push(json);
      chars += json.length + 1;
    }
    await flush();
  };

  for (let from = 0; from < tests.length; from += RESULT_CHUNK) {
    const chunk = tests.slice(from, from + RESULT_CHUNK);
    const inChunk = new Set(chunk);
    // the chunk's tests and every step enclosing them (their names make the paths)
    const wanted = new Set<number>();
    for (const seq of chunk) for (let s: number | null = seq; s !== null && !wanted.has(s); s = tree.parentOf(s)) wanted.add(s);
    const owned = tree.ownedBy(inChunk);
    const [{ rows: stepRows }, { rows: failedRows }] = [
      await tx.query(`SELECT * FROM run_steps WHERE run_id = $1 AND seq = ANY($2::int[])`, [run.id, [...wanted]]),
      await tx.query(
        `SELECT DISTINCT ON (step_seq) * FROM run_assertions WHERE run_id = $1 AND NOT passed AND step_seq = ANY($2::int[]) ORDER BY step_seq, seq`,
        [run.id, owned],
      ),
    ];
    const bySeq = new Map(stepRows.map((r) => [Number(r.seq), stepOf(r)]));
    const firstFailed = new Map<number, AssertionRecord>();
    for (const a of failedRows.map(toAssertion).sort((a, b) => a.seq - b.seq)) {
      const test = owner(a.stepSeq)!;
      if (!firstFailed.has(test)) firstFailed.set(test, a);
    }
    const cases = chunk.map((seq) => {
      const test = bySeq.get(seq)!;
      const cls = test.classname ?? classname;
      const c = caseOfTest(run, test, cls, namer.next(cls, testPathOf(test, bySeq)), firstFailed.get(seq));
      anyFailed ||= isFailure(c);
      return asRecorded(run, c);
    });
    await write(cases);
  }

  if (needsRunCase(run, anyFailed)) {
    // the first failed assertion no test owns: outside any step, under no test, or of no known step
    const ownedAll = tree.ownedBy(null);
    const { rows: outside } = await tx.query(
      `SELECT * FROM run_assertions WHERE run_id = $1 AND NOT passed AND (step_seq IS NULL OR NOT (step_seq = ANY($2::int[]))) ORDER BY seq LIMIT 1`,
      [run.id, ownedAll],
    );
    const c = runCaseOf(run, classname, namer.next(classname, run.name), outside[0] ? toAssertion(outside[0]) : undefined);
    await write([asRecorded(run, c)]);
  }

  const update = tally.update(run);
  if (update) await updateRuns(tx, [update], changed);

  // `tests`, from the rows just written, in one statement (nothing of it passes through here)
  await tx.query(UPSERT_TESTS_OF_RUN, [run.id, (row.definition_id as string | null) ?? null, run.appName, run.createdAt, run.labels.revision ?? null]);
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

/** The `test_results` row of case number `idx` of a run. */
function resultRow(r: Recorded, c: RecordedCase, idx: number): Record<string, unknown> {
  return {
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
    revision: r.run.labels.revision ?? null,
  };
}

/** What a `tests` row is made of: one case of a key and its run. */
interface KeyedCase {
  c: Pick<RecordedCase, 'classname' | 'name' | 'outcome' | 'durationMs' | 'message' | 'category'>;
  r: Pick<Recorded, 'run' | 'row'>;
}

/** The `tests` row of `key` from its cases in this batch, newest last. */
function testsRow(key: string, list: readonly KeyedCase[]): Record<string, unknown> {
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
}

/** Inserts `test_results` rows given as a JSON array (parameter `p`). */
const INSERT_RESULTS = (p: string) => `
       INSERT INTO test_results (run_id, idx, test_key, classname, name, outcome, duration_ms, message, failure_type, detail,
                                 file, line, step_seq, flaky, quarantined, category, category_rule, created_at, origin,
                                 definition_id, app_name, revision)
       SELECT run_id, idx, test_key, classname, name, outcome, duration_ms, message, failure_type, detail,
              file, line, step_seq, flaky, quarantined, category, category_rule, created_at, origin,
              definition_id, app_name, revision
         FROM jsonb_to_recordset(${p}::jsonb) AS x(run_id text, idx int, test_key text, classname text, name text, outcome text,
              duration_ms bigint, message text, failure_type text, detail text, file text, line int, step_seq int,
              flaky boolean, quarantined boolean, category text, category_rule text, created_at timestamptz, origin text,
              definition_id text, app_name text, revision text)
       ON CONFLICT (run_id, idx) DO NOTHING`;

/** The columns of a `tests` upsert. */
const TESTS_INSERT = `
     INSERT INTO tests AS t (key, classname, name, definition_id, app_name, first_seen_at, last_run_at, last_run_id, last_outcome,
                             recent, recent_ms, runs, last_failure_at, last_failure_run_id, last_failure_message,
                             last_failure_category, flaky_revision)`;

/** What a `tests` upsert changes of a known test: the newest outcomes first, counts added. */
const TESTS_ON_CONFLICT = `
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
       flaky_revision = coalesce(excluded.flaky_revision, t.flaky_revision)`;

/**
 * Upserts `tests` rows (`testsRow`) given as a JSON array (parameter `p`), in key
 * order (the keys' own "C" collation, as everywhere they are locked). Whether a test
 * passed and failed on one revision is checked against the results of other runs.
 */
const UPSERT_TESTS = (p: string) => `${TESTS_INSERT}
     SELECT x.key, x.classname, x.name, x.definition_id, x.app_name, x.first_seen_at, x.last_run_at, x.last_run_id, x.last_outcome,
            x.letters, ARRAY(SELECT e.m::integer FROM jsonb_array_elements_text(x.ms) WITH ORDINALITY AS e(m, o) ORDER BY e.o),
            x.n, x.lf_at, x.lf_run, x.lf_message, x.lf_category,
            coalesce(x.batch_flaky, (
              SELECT v.rev FROM jsonb_to_recordset(x.revisions) AS v(rev text, pass boolean)
               WHERE EXISTS (SELECT 1 FROM test_results o WHERE o.test_key = x.key AND o.revision = v.rev
                                AND (CASE WHEN v.pass THEN o.outcome IN ('Failed', 'Error') ELSE o.outcome = 'Passed' END))
               LIMIT 1))
       FROM jsonb_to_recordset(${p}::jsonb) AS x(key text, classname text, name text, definition_id text, app_name text,
            first_seen_at timestamptz, last_run_at timestamptz, last_run_id text, last_outcome text, letters text, ms jsonb,
            n int, lf_at timestamptz, lf_run text, lf_message text, lf_category text, batch_flaky text, revisions jsonb)
      ORDER BY x.key COLLATE "C"${TESTS_ON_CONFLICT}`;

/**
 * Upserts the `tests` rows of one run from its `test_results` rows ($1: the run; $2..$5:
 * its definition, app, creation time and revision label), in key order: what
 * `testsRow` computes for a batch of that run alone, done in SQL. The run's own rows
 * never count as the other outcome on its revision: a key passed and failed within
 * the run is caught by the run's rows themselves (`batch_flaky` in `testsRow`).
 */
const UPSERT_TESTS_OF_RUN = `${TESTS_INSERT}
     SELECT g.test_key, g.classname, g.name, $2::text, $3::text, $4::timestamptz, $4::timestamptz, $1::text, g.outcome,
            g.letters, g.ms, g.n,
            CASE WHEN g.any_fail THEN $4::timestamptz END, CASE WHEN g.any_fail THEN $1::text END, g.lf_message, g.lf_category,
            CASE WHEN $5::text IS NULL THEN NULL
                 WHEN g.any_pass AND g.any_fail THEN $5::text
                 WHEN ('Passed' = ANY(g.newest) AND EXISTS (SELECT 1 FROM test_results o WHERE o.test_key = g.test_key AND o.revision = $5::text AND o.outcome IN ('Failed', 'Error')))
                   OR (g.newest && ARRAY['Failed', 'Error'] AND EXISTS (SELECT 1 FROM test_results o WHERE o.test_key = g.test_key AND o.revision = $5::text AND o.outcome = 'Passed'))
                 THEN $5::text END
       FROM (SELECT test_key,
                    (array_agg(classname ORDER BY idx DESC))[1] AS classname,
                    (array_agg(name ORDER BY idx DESC))[1] AS name,
                    (array_agg(outcome ORDER BY idx DESC))[1] AS outcome,
                    left(string_agg(CASE outcome WHEN 'Passed' THEN 'P' WHEN 'Failed' THEN 'F' WHEN 'Error' THEN 'E' ELSE 'S' END, '' ORDER BY idx DESC), ${RECENT_OUTCOMES}) AS letters,
                    (array_agg(CASE WHEN duration_ms IS NULL THEN NULL ELSE least(duration_ms, 2147483647)::integer END ORDER BY idx DESC))[1:${RECENT_OUTCOMES}] AS ms,
                    count(*)::int AS n,
                    bool_or(outcome = 'Passed') AS any_pass,
                    bool_or(outcome IN ('Failed', 'Error')) AS any_fail,
                    (array_agg(message ORDER BY idx DESC) FILTER (WHERE outcome IN ('Failed', 'Error')))[1] AS lf_message,
                    (array_agg(category ORDER BY idx DESC) FILTER (WHERE outcome IN ('Failed', 'Error')))[1] AS lf_category,
                    (array_agg(outcome ORDER BY idx DESC))[1:20] AS newest
               FROM test_results WHERE run_id = $1 GROUP BY test_key) g
      ORDER BY g.test_key${TESTS_ON_CONFLICT}`;


/** One statement: the `test_results` rows, then the `tests` rows (one per key, in key order). */
async function writeResults(tx: SqlExecutor, recorded: readonly Recorded[]): Promise<void> {
  const results = [];
  // Per key, newest last (the runs are read in finish order).
  const perKey = new Map<string, KeyedCase[]>();
  for (const r of recorded) {
    for (const [idx, c] of r.cases.entries()) {
      results.push(resultRow(r, c, idx));
      perKey.set(c.key, [...(perKey.get(c.key) ?? []), { c, r }]);
    }
  }
  const tests = [...perKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, list]) => testsRow(key, list));
  await tx.query(`WITH ins AS (${INSERT_RESULTS('$1')}\n     )${UPSERT_TESTS('$2')}`, [JSON.stringify(results), JSON.stringify(tests)]);
}
