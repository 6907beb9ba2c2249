import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Run } from '../run.js';
import type { AssertionRecord, LogLine, StepRecord } from '../run-events.js';
import { testCasesOfRun } from '../test-case.js';
import { ReportFormatError, parseSeconds, type ReportFormat } from './imported-case.js';
import { ImportedRunBuilder } from './imported-run-builder.js';
import { createReportReader } from './report-reader.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/junit/import');

/** Imports fixture files into records in memory, fed in small chunks (as a stream would). */
function importFiles(files: string[], format: ReportFormat = 'junit') {
  const steps: StepRecord[] = [];
  const assertions: AssertionRecord[] = [];
  const logs: LogLine[] = [];
  const builder = new ImportedRunBuilder('r1', { step: (s) => steps.push(s), assertion: (a) => assertions.push(a), log: (l) => logs.push(l) }, Date.parse('2025-01-01T00:00:00Z'));
  for (const file of files) {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const reader = createReportReader(format, file, builder);
    for (let i = 0; i < text.length; i += 7) reader.write(text.slice(i, i + 7));
    reader.close();
    builder.endFile();
  }
  const outcome = builder.finish();
  const run = {
    id: 'r1',
    name: 'imported',
    phase: outcome.completion.phase,
    reason: outcome.completion.reason,
    message: outcome.completion.message,
    durationMs: outcome.durationMs,
    source: { type: 'inline', script: '', fileName: files[0] },
  } as unknown as Run;
  const cases = testCasesOfRun({ run, steps, assertions });
  return { steps, assertions, logs, outcome, cases };
}

function tally(cases: ReturnType<typeof importFiles>['cases']) {
  const n = (o: string) => cases.filter((c) => c.outcome === o).length;
  return { tests: cases.length, passed: n('Passed'), failed: n('Failed'), errors: n('Error'), skipped: n('Skipped'), flaky: cases.filter((c) => c.flaky).length };
}

describe('JUnit import: each producer of the fixtures corpus', () => {
  it.each([
    ['surefire-rerun.xml', { tests: 5, passed: 2, failed: 1, errors: 1, skipped: 1, flaky: 1 }],
    ['pytest-xunit1.xml', { tests: 5, passed: 1, failed: 1, errors: 1, skipped: 2, flaky: 0 }],
    ['pytest-xunit2.xml', { tests: 4, passed: 2, failed: 1, errors: 0, skipped: 1, flaky: 0 }],
    ['jest-junit.xml', { tests: 5, passed: 3, failed: 1, errors: 0, skipped: 1, flaky: 0 }],
    ['gotestsum.xml', { tests: 6, passed: 3, failed: 2, errors: 0, skipped: 1, flaky: 0 }],
    ['gradle.xml', { tests: 3, passed: 1, failed: 1, errors: 0, skipped: 1, flaky: 0 }],
    ['nested-suites.xml', { tests: 5, passed: 4, failed: 0, errors: 1, skipped: 0, flaky: 0 }],
  ])('%s gives the right counts, and testCasesOfRun reads the same cases back', (file, expected) => {
    const { outcome, cases } = importFiles([file]);
    expect(tally(cases)).toEqual(expected);
    expect(outcome.counts).toMatchObject({ tests: expected.tests, passed: expected.passed, failures: expected.failed, errors: expected.errors, skipped: expected.skipped, flaky: expected.flaky });
    expect(outcome.completion.phase).toBe(expected.failed + expected.errors > 0 ? 'Failed' : 'Passed');
    expect(outcome.completion.reason).toBe(expected.failed > 0 ? 'AssertionFailed' : expected.errors > 0 ? 'ScriptError' : null);
  });

  it('Surefire: a flaky test passed with its first failure logged, reruns keep a failure failed, errors keep their type', () => {
    const { cases, logs, outcome } = importFiles(['surefire-rerun.xml']);
    const byName = new Map(cases.map((c) => [c.name, c]));
    expect(byName.get('removesItem')).toMatchObject({ outcome: 'Passed', flaky: true, classname: 'com.example.CartTest', key: 'com.example.CartTest::removesItem' });
    expect(logs.find((l) => l.stepSeq === 2 && l.level === 'warn')?.message).toContain('failed at first, passed on a rerun: expected:<1> but was:<0>');
    expect(byName.get('totals')).toMatchObject({ outcome: 'Failed', failureType: 'AssertionFailed', message: 'expected: <30> but was: <31>' });
    expect(byName.get('totals')!.detail).toContain('CartTest.java:57');
    expect(byName.get('checkout')).toMatchObject({ outcome: 'Error', message: 'Connection refused', durationMs: null });
    expect(byName.get('checkout')!.detail).toContain('java.net.ConnectException');
    expect(byName.get('discounts')).toMatchObject({ outcome: 'Skipped', message: 'not ready', durationMs: null });
    // system-out with CDATA and an entity, system-err as error lines of the step
    expect(logs.filter((l) => l.stepSeq === 3).map((l) => l.message)).toEqual(['computing totals & taxes', 'subtotal=30']);
    expect(logs.find((l) => l.stepSeq === 4)).toMatchObject({ level: 'error', message: 'WARN pool exhausted' });
    // "1,234.5" seconds: the declared time of the suite
    expect(outcome.durationMs).toBe(1_234_500);
  });

  it('pytest: file and line of each testcase; the timestamp starts the run', () => {
    const { cases, outcome } = importFiles(['pytest-xunit1.xml']);
    expect(cases[1]).toMatchObject({ name: 'test_div', file: 'tests/test_math.py', line: 7, message: 'assert 0.5 == 0.25' });
    expect(cases[3]).toMatchObject({ outcome: 'Skipped', message: 'no GPU' });
    expect(outcome.startedAt).toBe('2024-03-01T10:15:30.123Z');
  });

  it('missing classnames take the suite name; duplicates get (2); suite output is logged outside the tests', () => {
    const { cases, logs, outcome } = importFiles(['nested-suites.xml']);
    expect(cases.map((c) => c.key)).toEqual([
      'integration.db::migrates',
      'integration.db::seeds',
      'http::get & put',
      'http::get & put (2)',
      'unit::parses ✓ unicode',
    ]);
    expect(cases[1]).toMatchObject({ outcome: 'Error', message: 'timed out after 500 ms' });
    expect(cases[1]!.detail).toContain('timed out after 500 ms');
    expect(logs.find((l) => l.stepSeq === null)?.message).toBe('unit suite output');
    expect(outcome.durationMs).toBe(4500);
  });

  it('jest-junit duplicates within one classname are unique; several files make one run', () => {
    const { cases, outcome } = importFiles(['jest-junit.xml', 'gradle.xml']);
    expect(cases.filter((c) => c.classname === 'Checkout pays').map((c) => c.name)).toEqual(['Checkout pays', 'Checkout pays (2)']);
    expect(cases).toHaveLength(8);
    expect(outcome.durationMs).toBe(2345 + 345);
  });

  it('a file that is not JUnit is refused naming the file and the first problem', () => {
    expect(() => importFiles(['not-junit.xml'])).toThrow(ReportFormatError);
    expect(() => importFiles(['not-junit.xml'])).toThrow(/^not-junit\.xml:2:\d+: the root element is <project>, not <testsuites> or <testsuite>/);
    expect(() => importFiles(['malformed.xml'])).toThrow(/^malformed\.xml:3:\d+: .*not well-formed XML/);
    expect(() => importFiles(['gauge-console.txt'])).toThrow(/^gauge-console\.txt:\d+:\d+: .*not well-formed XML/);
  });

  it('odd time values', () => {
    expect(parseSeconds('1,234.5')).toBe(1_234_500);
    expect(parseSeconds('0,25')).toBe(250);
    expect(parseSeconds('2s')).toBe(2000);
    expect(parseSeconds('')).toBeNull();
    expect(parseSeconds('-1')).toBeNull();
    expect(parseSeconds('NaN')).toBeNull();
    expect(parseSeconds(undefined)).toBeNull();
  });
});

describe('Gauge console import', () => {
  it('reads specs, scenarios, failures and the total time (default console)', () => {
    const { cases, outcome } = importFiles(['gauge-console.txt'], 'gauge-stdout');
    expect(cases.map((c) => [c.key, c.outcome])).toEqual([
      ['Cart::Add an item to the cart', 'Passed'],
      ['Cart::Compute the total', 'Failed'],
      ['Checkout::Pay by card', 'Passed'],
      ['Checkout::Pay by invoice', 'Passed'],
    ]);
    expect(cases[1]).toMatchObject({ message: 'expected 30 but was 31', file: 'specs/cart.spec', line: 14 });
    expect(cases[1]!.detail).toContain('CartSteps.java:40');
    expect(outcome.durationMs).toBe(1500);
  });

  it('reads the simple console with [PASS]/[FAIL] steps', () => {
    const { cases, outcome } = importFiles(['gauge-simple-console.txt'], 'gauge-stdout');
    expect(cases.map((c) => [c.name, c.outcome])).toEqual([
      ['Valid user logs in', 'Passed'],
      ['Locked user is refused', 'Failed'],
    ]);
    expect(cases[1]!.message).toBe('java.lang.AssertionError: expected the error banner');
    expect(outcome.durationMs).toBe(123_500);
  });

  it('a file that is not Gauge output is refused naming it', () => {
    expect(() => importFiles(['gradle.xml'], 'gauge-stdout')).toThrow(/^gradle\.xml:1:1: no Gauge specification/);
  });
});

describe('JUnit import: hostile XML', () => {
  const read = (xml: string) => {
    const cases: string[] = [];
    const reader = createReportReader('junit', 'evil.xml', { testCase: (c) => cases.push(c.name), suiteEnd: () => {} });
    reader.write(xml);
    reader.close();
    return cases;
  };

  it('expands no entity a document defines: no file read (XXE), no billion laughs; the file is refused naming it', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="s"><testcase name="&x;"/></testsuite>';
    const laughs = `<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "lol"><!ENTITY b "${'&a;'.repeat(10)}"><!ENTITY c "${'&b;'.repeat(10)}">]><testsuite name="s"><testcase name="&c;"/></testsuite>`;
    for (const doc of [xxe, laughs]) expect(() => read(doc)).toThrow(ReportFormatError);
    expect(() => read(xxe)).toThrow(/^evil\.xml:1:\d+: undefined entity/);
  });
});
