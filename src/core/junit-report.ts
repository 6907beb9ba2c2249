/**
 * JUnit XML export of runs: the document CI systems (Jenkins, GitLab, GitHub
 * reporters) read. One `<testsuites>`; each run is a `<testsuite>`; each `test(...)`
 * block of its script is a `<testcase>` (a run without tests is one testcase for the
 * whole script). Valid against Jenkins' `junit-10.xsd`, which has no `file`/`line`
 * attributes on `<testcase>`: a test's location is in its failure body instead.
 */
import type { AssertionRecord, LogLine, StepRecord } from './run-events.js';
import type { Run } from './run.js';

/** One run with what the store recorded for it. */
export interface JUnitRunInput {
  run: Run;
  steps: readonly StepRecord[];
  assertions: readonly AssertionRecord[];
  logs: readonly LogLine[];
  /** The name of the run's definition, when it came from one (the testcases' `classname`). */
  definitionName?: string | null;
}

type Outcome =
  | { kind: 'passed' }
  | { kind: 'skipped'; message?: string }
  | { kind: 'failure'; message: string; type: string; body: string }
  | { kind: 'error'; message: string; type: string; body: string };

interface TestCase {
  name: string;
  classname: string;
  timeSeconds: number;
  outcome: Outcome;
  systemOut: string;
}

/** Characters XML 1.0 forbids anywhere (C0 controls but tab, CR, LF; lone surrogates; U+FFFE/U+FFFF). */
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for an XML attribute value or element content: forbidden characters dropped, markup escaped. */
export function xmlEscape(text: string): string {
  return text
    .replace(FORBIDDEN, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}

/** Element content: like attributes, but line breaks and tabs stay as they are (readable bodies). */
function textContent(text: string): string {
  return text.replace(FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function attrs(values: Record<string, string | number | null | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function seconds(ms: number | null | undefined): string {
  return ((ms ?? 0) / 1000).toFixed(3);
}

/** The script's file name: the definition's name first, else the script's file (always something). */
export function classnameOf(input: Pick<JUnitRunInput, 'run' | 'definitionName'>): string {
  if (input.definitionName) return input.definitionName;
  const source = input.run.source;
  if (source.type === 'git') return source.path;
  return source.fileName ?? `${input.run.name}.lua`;
}

/** The reason a run ended without passing, as an error/failure `type`. */
function runReason(run: Run): string {
  return run.reason ?? (run.phase === 'TimedOut' ? 'Timeout' : run.phase === 'Cancelled' ? 'Cancelled' : 'Error');
}

function location(file: string | null, line: number | null): string | null {
  return file ? (line !== null ? `${file}:${line}` : file) : null;
}

function assertionBody(a: AssertionRecord): string {
  const lines = [a.message];
  const at = location(a.file, a.line);
  if (at) lines.push(`at ${at}`);
  if (a.expected !== null) lines.push(`expected: ${a.expected}`);
  if (a.actual !== null) lines.push(`actual: ${a.actual}`);
  return lines.join('\n');
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

function logText(lines: readonly LogLine[]): string {
  return lines.map((l) => `${l.ts} ${l.level.toUpperCase()} ${l.message}`).join('\n');
}

/** Gives repeated names a ` (2)`, ` (3)` … suffix so every testcase of a suite is unique. */
function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; seen.has(candidate); n++) candidate = `${name} (${n})`;
    seen.add(candidate);
    return candidate;
  });
}

/** The outcome of a failed or unfinished test: its first failed assertion, else the step's or run's error. */
function failedOutcome(run: Run, step: StepRecord | null, failed: AssertionRecord | undefined): Outcome {
  if (failed) return { kind: 'failure', message: firstLine(failed.message), type: 'AssertionFailed', body: assertionBody(failed) };
  const unfinished = step === null || step.status === 'running';
  const message = (unfinished ? run.message : step.message) ?? run.message ?? `the run ended ${run.phase}`;
  const type = unfinished ? runReason(run) : run.reason === 'AssertionFailed' || run.reason === null ? 'ScriptError' : run.reason;
  const at = step ? location(step.file, step.line) : null;
  return { kind: 'error', message: firstLine(message), type, body: at ? `${message}\nat ${at}` : message };
}

function testCasesOf(input: JUnitRunInput): TestCase[] {
  const { run, steps, assertions, logs } = input;
  const classname = classnameOf(input);
  const bySeq = new Map(steps.map((s) => [s.seq, s]));
  const tests = steps.filter((s) => s.kind === 'test').sort((a, b) => a.seq - b.seq);

  /** The innermost test a step belongs to (itself when it is one). */
  const testOf = new Map<number, number | null>();
  const owningTest = (seq: number | null): number | null => {
    if (seq === null) return null;
    const cached = testOf.get(seq);
    if (cached !== undefined) return cached;
    const step = bySeq.get(seq);
    const owner = !step ? null : step.kind === 'test' ? step.seq : owningTest(step.parentSeq);
    testOf.set(seq, owner);
    return owner;
  };
  const pathOf = (step: StepRecord): string => {
    const names: string[] = [];
    for (let s: StepRecord | undefined = step; s; s = s.parentSeq !== null ? bySeq.get(s.parentSeq) : undefined) {
      if (s.kind === 'test') names.unshift(s.name);
    }
    return names.join(' / ');
  };

  if (tests.length === 0) {
    const failed = assertions.find((a) => !a.passed);
    const outcome: Outcome =
      run.phase === 'Passed'
        ? { kind: 'passed' }
        : run.phase === 'Queued' || run.phase === 'Running'
          ? { kind: 'skipped', message: `the run is ${run.phase}` }
          : failedOutcome(run, null, run.phase === 'Failed' ? failed : undefined);
    return [{ name: run.name, classname, timeSeconds: Number(seconds(run.durationMs)), outcome, systemOut: logText(logs) }];
  }

  const names = uniqueNames(tests.map(pathOf));
  const cases = tests.map((test, i): TestCase => {
    const own = (seq: number | null) => owningTest(seq) === test.seq;
    const failed = assertions.find((a) => !a.passed && own(a.stepSeq));
    let outcome: Outcome;
    if (test.status === 'passed') outcome = { kind: 'passed' };
    else if (test.status === 'skipped') outcome = { kind: 'skipped', ...(test.message ? { message: test.message } : {}) };
    else if (test.status === 'running' && !['Error', 'TimedOut', 'Cancelled', 'Failed'].includes(run.phase))
      outcome = { kind: 'skipped', message: `the run is ${run.phase}` };
    else outcome = failedOutcome(run, test, test.status === 'failed' ? failed : undefined);
    return {
      name: names[i]!,
      classname,
      timeSeconds: Number(seconds(test.durationMs)),
      outcome,
      systemOut: logText(logs.filter((l) => own(l.stepSeq))),
    };
  });
  // A run that failed outside its tests (an error at top level or in a hook, a timeout between
  // tests) must not read as green: one more testcase, for the run itself, carries its reason.
  const failedCases = cases.some((c) => c.outcome.kind === 'failure' || c.outcome.kind === 'error');
  if (!failedCases && ['Failed', 'Error', 'TimedOut', 'Cancelled'].includes(run.phase)) {
    const outside = assertions.find((a) => !a.passed && owningTest(a.stepSeq) === null);
    cases.push({
      name: uniqueNames([...names, run.name]).at(-1)!,
      classname,
      timeSeconds: Number(seconds(run.durationMs)),
      outcome: failedOutcome(run, null, run.phase === 'Failed' ? outside : undefined),
      systemOut: '',
    });
  }
  return cases;
}

/** Log lines outside every test (top level, hooks outside tests): the suite's own `system-out`. */
function suiteOutput(input: JUnitRunInput): string {
  const tests = new Set(input.steps.filter((s) => s.kind === 'test').map((s) => s.seq));
  if (tests.size === 0) return ''; // a run without tests: its one testcase has the whole log
  const bySeq = new Map(input.steps.map((s) => [s.seq, s]));
  const inTest = (seq: number | null): boolean => {
    for (let s = seq === null ? undefined : bySeq.get(seq); s; s = s.parentSeq === null ? undefined : bySeq.get(s.parentSeq)) if (s.kind === 'test') return true;
    return false;
  };
  return logText(input.logs.filter((l) => !inTest(l.stepSeq)));
}

function testCaseXml(tc: TestCase): string {
  const open = `    <testcase${attrs({ classname: tc.classname, name: tc.name, time: tc.timeSeconds.toFixed(3) })}`;
  const children: string[] = [];
  const o = tc.outcome;
  if (o.kind === 'skipped') children.push(`      <skipped${attrs({ message: o.message })}/>`);
  if (o.kind === 'failure' || o.kind === 'error')
    children.push(`      <${o.kind}${attrs({ message: o.message, type: o.type })}>${textContent(o.body)}</${o.kind}>`);
  if (tc.systemOut) children.push(`      <system-out>${textContent(tc.systemOut)}</system-out>`);
  return children.length ? `${open}>\n${children.join('\n')}\n    </testcase>` : `${open}/>`;
}

interface SuiteCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function countsOf(cases: TestCase[]): SuiteCounts {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.outcome.kind === 'failure').length,
    errors: cases.filter((c) => c.outcome.kind === 'error').length,
    skipped: cases.filter((c) => c.outcome.kind === 'skipped').length,
  };
}

function suiteXml(input: JUnitRunInput, cases: TestCase[]): string {
  const { run } = input;
  const counts = countsOf(cases);
  const out = suiteOutput(input);
  const properties: [string, string][] = [
    ['run.id', run.id],
    ['origin', run.origin],
    ['phase', run.phase],
    ...(run.appName ? ([['app', run.appName]] as [string, string][]) : []),
    ...(run.reason ? ([['reason', run.reason]] as [string, string][]) : []),
    ...Object.entries(run.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]): [string, string] => [`label.${k}`, v]),
  ];
  const head = `  <testsuite${attrs({
    name: run.name,
    timestamp: (run.startedAt ?? run.createdAt).replace(/Z$/, '').replace(/\.\d+$/, ''),
    hostname: run.executor ?? 'topas',
    time: seconds(run.durationMs),
    tests: counts.tests,
    failures: counts.failures,
    errors: counts.errors,
    skipped: counts.skipped,
    id: run.id,
  })}>`;
  return [
    head,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    '    </properties>',
    ...cases.map(testCaseXml),
    ...(out ? [`    <system-out>${textContent(out)}</system-out>`] : []),
    '  </testsuite>',
  ].join('\n');
}

/** One JUnit XML document for these runs (in the order given). */
export function junitReport(runs: readonly JUnitRunInput[], options: { name?: string } = {}): string {
  const suites = runs.map((input) => ({ input, cases: testCasesOf(input) }));
  const total = suites.reduce(
    (acc, s) => {
      const c = countsOf(s.cases);
      return { tests: acc.tests + c.tests, failures: acc.failures + c.failures, errors: acc.errors + c.errors };
    },
    { tests: 0, failures: 0, errors: 0 },
  );
  const time = runs.reduce((sum, r) => sum + (r.run.durationMs ?? 0), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: options.name ?? 'topas', time: seconds(time), tests: total.tests, failures: total.failures, errors: total.errors })}>`,
    ...suites.map((s) => suiteXml(s.input, s.cases)),
    '</testsuites>',
    '',
  ].join('\n');
}
