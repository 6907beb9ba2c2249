/**
 * JUnit XML export of runs: the document CI systems (Jenkins, GitLab, GitHub
 * reporters) read. One `<testsuites>`; each run is a `<testsuite>`; each `test(...)`
 * block of its script is a `<testcase>` (a run without tests is one testcase for the
 * whole script). Valid against Jenkins' `junit-10.xsd`, which has no `file`/`line`
 * attributes on `<testcase>`: a test's location is in its failure body instead.
 */
import type { LogLine } from './run-events.js';
import { owningTestOf, testCasesOfRun, type RunTestInput, type TestCaseResult } from './test-case.js';

export { classnameOf } from './test-case.js';

/** One run with what the store recorded for it. */
export interface JUnitRunInput extends RunTestInput {
  logs: readonly LogLine[];
  /** Failed test cases' categories by test key (the `category` line of their failure body); none when absent. */
  categories?: ReadonlyMap<string, { category: string | null; rule: string | null }>;
}

interface TestCase {
  /** The failure category and its rule, for a failed case that has one. */
  category: { category: string | null; rule: string | null } | null;
  name: string;
  classname: string;
  timeSeconds: number;
  result: TestCaseResult;
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

function logText(lines: readonly LogLine[]): string {
  return lines.map((l) => `${l.ts} ${l.level.toUpperCase()} ${l.message}`).join('\n');
}

function testCasesOf(input: JUnitRunInput): TestCase[] {
  const owningTest = owningTestOf(input.steps);
  const hasTests = input.steps.some((s) => s.kind === 'test');
  return testCasesOfRun(input).map((result) => ({
    category: input.categories?.get(result.key) ?? null,
    name: result.name,
    classname: result.classname,
    timeSeconds: Number(seconds(result.durationMs)),
    result,
    // a run without tests: its one testcase has the whole log; the run's own case (a failure outside tests) none
    systemOut: !hasTests ? logText(input.logs) : result.stepSeq === null ? '' : logText(input.logs.filter((l) => owningTest(l.stepSeq) === result.stepSeq)),
  }));
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
  const r = tc.result;
  if (r.outcome === 'Skipped') children.push(`      <skipped${attrs({ message: r.message })}/>`);
  if (r.outcome === 'Failed' || r.outcome === 'Error') {
    const element = r.outcome === 'Failed' ? 'failure' : 'error';
    const category = tc.category?.category ? `category: ${tc.category.category}${tc.category.rule ? ` (rule ${tc.category.rule})` : ''}` : '';
    const body = [r.detail ?? '', category].filter(Boolean).join('\n');
    children.push(`      <${element}${attrs({ message: r.message, type: r.failureType })}>${textContent(body)}</${element}>`);
  }
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
    failures: cases.filter((c) => c.result.outcome === 'Failed').length,
    errors: cases.filter((c) => c.result.outcome === 'Error').length,
    skipped: cases.filter((c) => c.result.outcome === 'Skipped').length,
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
    ...(run.category ? ([['category', run.category]] as [string, string][]) : []),
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
