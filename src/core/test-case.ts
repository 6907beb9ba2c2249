/**
 * A test case: one `test(...)` block of a run (or the whole run, for a script
 * without tests; or one `<testcase>` of an imported report). Its identity across
 * runs is its key, `classname::name`, where `classname` is the definition's name
 * (else the script's file) and `name` the path of test names (`login / wrong
 * password`). The store records one `TestCaseResult` per test case when a run ends;
 * history, flakiness, categories, quarantine and JUnit all read these.
 */
import type { AssertionRecord, StepRecord } from './run-events.js';
import type { Run } from './run.js';

/** How one test case ended. A run still Queued/Running reports its unfinished tests as Skipped. */
export const TEST_OUTCOMES = ['Passed', 'Failed', 'Error', 'Skipped'] as const;
export type TestOutcome = (typeof TEST_OUTCOMES)[number];

/** The identity of a test case across runs. */
export function testKey(classname: string, name: string): string {
  return `${classname}::${name}`;
}

/** One test case of one run. */
export interface TestCaseResult {
  key: string;
  /** The definition's name, else the script's file (`smoke.lua`); an imported testcase's `classname`. */
  classname: string;
  /** The path of test names, `outer / inner`; unique within the run. */
  name: string;
  outcome: TestOutcome;
  durationMs: number | null;
  /** Failed/Error: the first line of the failure; Skipped: why, when known. */
  message: string | null;
  /** Failed: `AssertionFailed`; Error: the run's reason (`ScriptError`, `Timeout`, …) or the imported error type. */
  failureType: string | null;
  /** The whole failure: message, `at file:line`, expected and actual. */
  detail: string | null;
  file: string | null;
  line: number | null;
  /** The test's step (its logs and assertions hang off it); null when the case is the run itself. */
  stepSeq: number | null;
  /** Failed at first and passed on a rerun (an imported Surefire `flakyFailure`/`flakyError`). */
  flaky: boolean;
}

/** What a run's test cases are computed from (all the store keeps of it but logs). */
export interface RunTestInput {
  run: Run;
  steps: readonly StepRecord[];
  /** At least the failed assertions. */
  assertions: readonly AssertionRecord[];
  /** The name of the run's definition, when it came from one (the cases' `classname`). */
  definitionName?: string | null;
}

/** The script's name: the definition's name first, else the script's file (always something). */
export function classnameOf(input: Pick<RunTestInput, 'run' | 'definitionName'>): string {
  if (input.definitionName) return input.definitionName;
  const source = input.run.source;
  if (source.type === 'git') return source.path;
  return source.fileName ?? `${input.run.name}.lua`;
}

const UNFINISHED_RUN = ['Queued', 'Running'];
const FAILED_RUN = ['Failed', 'Error', 'TimedOut', 'Cancelled'];

/** The reason a run ended without passing, as a failure type. */
function runReason(run: Run): string {
  return run.reason ?? (run.phase === 'TimedOut' ? 'Timeout' : run.phase === 'Cancelled' ? 'Cancelled' : 'Error');
}

function location(file: string | null, line: number | null): string | null {
  return file ? (line !== null ? `${file}:${line}` : file) : null;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

function assertionDetail(a: AssertionRecord): string {
  const lines = [a.message];
  const at = location(a.file, a.line);
  if (at) lines.push(`at ${at}`);
  if (a.expected !== null) lines.push(`expected: ${a.expected}`);
  if (a.actual !== null) lines.push(`actual: ${a.actual}`);
  return lines.join('\n');
}

/** Gives repeated names a ` (2)`, ` (3)` … suffix so every case of a run is unique. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; seen.has(candidate); n++) candidate = `${name} (${n})`;
    seen.add(candidate);
    return candidate;
  });
}

/** Maps a step (or null) to the innermost `test` step it belongs to (itself when it is one), or null. */
export function owningTestOf(steps: readonly Pick<StepRecord, 'seq' | 'parentSeq' | 'kind'>[]): (seq: number | null) => number | null {
  const bySeq = new Map(steps.map((s) => [s.seq, s]));
  const cache = new Map<number, number | null>();
  const owner = (seq: number | null): number | null => {
    if (seq === null) return null;
    const cached = cache.get(seq);
    if (cached !== undefined) return cached;
    const step = bySeq.get(seq);
    const result = !step ? null : step.kind === 'test' ? step.seq : owner(step.parentSeq);
    cache.set(seq, result);
    return result;
  };
  return owner;
}

type Failure = Pick<TestCaseResult, 'outcome' | 'message' | 'failureType' | 'detail' | 'file' | 'line'>;

/** A failed or unfinished test: its first failed assertion, else the step's or the run's error. */
function failureOf(run: Run, step: StepRecord | null, failed: AssertionRecord | undefined): Failure {
  if (failed)
    return { outcome: 'Failed', message: firstLine(failed.message), failureType: 'AssertionFailed', detail: assertionDetail(failed), file: failed.file, line: failed.line };
  const unfinished = step === null || step.status === 'running';
  const message = (unfinished ? run.message : step.message) ?? run.message ?? `the run ended ${run.phase}`;
  const failureType = unfinished ? runReason(run) : run.reason === 'AssertionFailed' || run.reason === null ? 'ScriptError' : run.reason;
  const at = step ? location(step.file, step.line) : null;
  return {
    outcome: 'Error',
    message: firstLine(message),
    failureType,
    detail: at ? `${message}\nat ${at}` : message,
    file: step?.file ?? null,
    line: step?.line ?? null,
  };
}

const PASSED: Failure = { outcome: 'Passed', message: null, failureType: null, detail: null, file: null, line: null };

function skipped(message: string | null): Failure {
  return { outcome: 'Skipped', message, failureType: null, detail: null, file: null, line: null };
}

/** Allocates a run's case names in the order the tests started: unique per classname, as `uniqueNames` does. */
export class CaseNamer {
  private readonly seen = new Map<string, Set<string>>();

  next(classname: string, name: string): string {
    let seen = this.seen.get(classname);
    if (!seen) this.seen.set(classname, (seen = new Set()));
    let candidate = name;
    for (let n = 2; seen.has(candidate); n++) candidate = `${name} (${n})`;
    seen.add(candidate);
    return candidate;
  }
}

/** The path of test names of a test step (`outer / inner`): its own name after those of its enclosing tests. */
export function testPathOf(step: StepRecord, bySeq: ReadonlyMap<number, StepRecord>): string {
  const names: string[] = [];
  for (let s: StepRecord | undefined = step; s; s = s.parentSeq !== null ? bySeq.get(s.parentSeq) : undefined) {
    if (s.kind === 'test') names.unshift(s.name);
  }
  return names.join(' / ');
}

function caseResult(cls: string, name: string, step: StepRecord | null, durationMs: number | null, f: Failure): TestCaseResult {
  return {
    key: testKey(cls, name),
    classname: cls,
    name,
    durationMs,
    stepSeq: step?.seq ?? null,
    flaky: step?.flaky ?? false,
    ...f,
    file: f.file ?? step?.file ?? null,
    line: f.line ?? step?.line ?? null,
  };
}

/** The case of one test step named `name`; `failed`: the first failed assertion the test owns. */
export function caseOfTest(run: Run, test: StepRecord, classname: string, name: string, failed: AssertionRecord | undefined): TestCaseResult {
  let f: Failure;
  if (test.status === 'passed') f = PASSED;
  else if (test.status === 'skipped') f = skipped(test.message);
  else if (test.status === 'running' && !FAILED_RUN.includes(run.phase)) f = skipped(`the run is ${run.phase}`);
  else f = failureOf(run, test, test.status === 'failed' ? failed : undefined);
  return caseResult(classname, name, test, test.durationMs, f);
}

/** Whether a run whose test cases are all green still needs the case for the run itself (it ended without passing). */
export function needsRunCase(run: Run, anyCaseFailed: boolean): boolean {
  return !anyCaseFailed && FAILED_RUN.includes(run.phase);
}

/** The case for the run itself, named `name`; `outside`: the first failed assertion no test owns. */
export function runCaseOf(run: Run, classname: string, name: string, outside: AssertionRecord | undefined): TestCaseResult {
  return caseResult(classname, name, null, run.durationMs, failureOf(run, null, run.phase === 'Failed' ? outside : undefined));
}

/**
 * The test cases of a run, in the order the tests started. A run without tests is
 * one case named after the run. A run that failed outside its tests (an error at top
 * level or in a hook, a timeout between tests) gets one more case, for the run
 * itself, carrying its reason: a failed run never reads as all green.
 *
 * Imported runs keep each testcase's classname on its step (`StepRecord.classname`).
 */
export function testCasesOfRun(input: RunTestInput): TestCaseResult[] {
  const { run, steps, assertions } = input;
  const classname = classnameOf(input);
  const bySeq = new Map(steps.map((s) => [s.seq, s]));
  const tests = steps.filter((s) => s.kind === 'test').sort((a, b) => a.seq - b.seq);
  const owningTest = owningTestOf(steps);

  if (tests.length === 0) {
    const failed = assertions.find((a) => !a.passed);
    const f =
      run.phase === 'Passed'
        ? PASSED
        : UNFINISHED_RUN.includes(run.phase)
          ? skipped(`the run is ${run.phase}`)
          : failureOf(run, null, run.phase === 'Failed' ? failed : undefined);
    return [caseResult(classname, run.name, null, run.durationMs, f)];
  }

  // Names are unique per classname (imports carry several classnames in one run).
  const namer = new CaseNamer();
  // Each test's first failed assertion, found in one pass (not one scan per test).
  const firstFailed = new Map<number, AssertionRecord>();
  for (const a of assertions) {
    if (a.passed) continue;
    const test = owningTest(a.stepSeq);
    if (test !== null && !firstFailed.has(test)) firstFailed.set(test, a);
  }
  const cases = tests.map((test): TestCaseResult => {
    const failed = firstFailed.get(test.seq);
    const cls = test.classname ?? classname;
    return caseOfTest(run, test, cls, namer.next(cls, testPathOf(test, bySeq)), failed);
  });

  if (needsRunCase(run, cases.some((c) => c.outcome === 'Failed' || c.outcome === 'Error'))) {
    const outside = assertions.find((a) => !a.passed && owningTest(a.stepSeq) === null);
    cases.push(runCaseOf(run, classname, namer.next(classname, run.name), outside));
  }
  return cases;
}

/** One recorded test case of a run, as exported. */
export interface RecordedTestCase {
  key: string;
  classname: string;
  name: string;
  outcome: TestOutcome;
  durationMs: number | null;
  message: string | null;
  /** Failed and Error cases: the category the rules gave; null otherwise. */
  category: string | null;
  categoryRule: string | null;
  quarantined: boolean;
}
