import { describe, expect, it } from 'vitest';
import { junitReport, xmlEscape, type JUnitRunInput } from './junit-report.js';
import type { Run } from './run.js';
import type { AssertionRecord, LogLine, StepRecord } from './run-events.js';
import { EMPTY_SUMMARY } from './run.js';

const RUN_ID = '11111111-1111-4111-8111-111111111111';

function run(patch: Partial<Run> = {}): Run {
  return {
    id: RUN_ID,
    name: 'smoke',
    phase: 'Passed',
    origin: 'cli',
    k8sRef: null,
    appName: 'shop',
    appReadOnly: false,
    source: { type: 'inline', script: 'x', fileName: 'smoke.lua' },
    env: {},
    timeoutSeconds: 60,
    labels: { 'ci.build': '123' },
    createdAt: '2026-11-30T08:00:00.000Z',
    startedAt: '2026-11-30T08:00:01.000Z',
    finishedAt: '2026-11-30T08:00:03.500Z',
    durationMs: 2500,
    summary: EMPTY_SUMMARY,
    reason: null,
    message: null,
    executor: 'node-a',
    category: null,
    categoryRule: null,
    profile: null,
    logsExpiredAt: null,
    ...patch,
  };
}

function step(seq: number, name: string, status: StepRecord['status'], patch: Partial<StepRecord> = {}): StepRecord {
  return { runId: RUN_ID, seq, parentSeq: null, kind: 'test', name, status, startedAt: '2026-11-30T08:00:01.000Z', finishedAt: null, durationMs: 1200, message: null, file: 'smoke.lua', line: seq * 10, ...patch };
}

function assertion(seq: number, stepSeq: number, passed: boolean, patch: Partial<AssertionRecord> = {}): AssertionRecord {
  return { runId: RUN_ID, seq, stepSeq, passed, message: passed ? 'ok' : 'status is 200', expected: passed ? null : '200', actual: passed ? null : '500', file: 'smoke.lua', line: 12, ts: '2026-11-30T08:00:02.000Z', ...patch };
}

function log(seq: number, stepSeq: number | null, message: string): LogLine {
  return { runId: RUN_ID, seq, ts: '2026-11-30T08:00:02.000Z', level: 'info', message, stepSeq };
}

function report(...inputs: Partial<JUnitRunInput>[]): string {
  return junitReport(inputs.map((i) => ({ run: run(), steps: [], assertions: [], logs: [], ...i })));
}

describe('junitReport', () => {
  it('maps a run to a testsuite with counts, hostname, timestamp and properties', () => {
    const xml = report({
      run: run({ phase: 'Failed', reason: 'AssertionFailed' }),
      steps: [step(1, 'lists users', 'passed'), step(2, 'creates a user', 'failed', { message: 'status is 200' }), step(3, 'deletes', 'skipped')],
      assertions: [assertion(1, 1, true), assertion(2, 2, false)],
    });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="topas" time="2.500" tests="3" failures="1" errors="0">/);
    expect(xml).toContain(
      `<testsuite name="smoke" timestamp="2026-11-30T08:00:01" hostname="node-a" time="2.500" tests="3" failures="1" errors="0" skipped="1" id="${RUN_ID}">`,
    );
    expect(xml).toContain(`<property name="run.id" value="${RUN_ID}"/>`);
    expect(xml).toContain('<property name="origin" value="cli"/>');
    expect(xml).toContain('<property name="app" value="shop"/>');
    expect(xml).toContain('<property name="phase" value="Failed"/>');
    expect(xml).toContain('<property name="label.ci.build" value="123"/>');
    expect(xml).toContain('<testcase classname="smoke.lua" name="lists users" time="1.200"/>');
    expect(xml).toContain(
      '<testcase classname="smoke.lua" name="creates a user" time="1.200">\n      <failure message="status is 200" type="AssertionFailed">status is 200\nat smoke.lua:12\nexpected: 200\nactual: 500</failure>',
    );
    expect(xml).toMatch(/<testcase classname="smoke.lua" name="deletes" time="1.200">\n\s*<skipped\/>/);
  });

  it('uses the definition name as classname, the test path as name, unique within the suite', () => {
    const xml = report({
      definitionName: 'users-api',
      steps: [
        step(1, 'users', 'passed'),
        step(2, 'list', 'passed', { parentSeq: 1 }),
        step(3, 'a step', 'passed', { parentSeq: 2, kind: 'step' }),
        step(4, 'list', 'passed', { parentSeq: 1 }),
      ],
    });
    expect(xml).toContain('classname="users-api" name="users"');
    expect(xml).toContain('classname="users-api" name="users / list"');
    expect(xml).toContain('classname="users-api" name="users / list (2)"');
    expect(xml).not.toContain('a step');
  });

  it('reports script errors, timeouts and cancels as errors with the reason', () => {
    const errored = report({ run: run({ phase: 'Error', reason: 'ScriptError', message: 'smoke.lua:5: boom' }), steps: [step(1, 't', 'failed', { message: 'smoke.lua:5: boom' })] });
    expect(errored).toContain('<error message="smoke.lua:5: boom" type="ScriptError">smoke.lua:5: boom\nat smoke.lua:10</error>');
    const timedOut = report({ run: run({ phase: 'TimedOut', reason: 'Timeout', message: 'run exceeded 60s' }), steps: [step(1, 'slow', 'running', { durationMs: null })] });
    expect(timedOut).toContain('<error message="run exceeded 60s" type="Timeout">');
    expect(timedOut).toContain('errors="1"');
    const cancelled = report({ run: run({ phase: 'Cancelled', reason: 'Cancelled', message: 'cancelled by alice' }), steps: [] });
    expect(cancelled).toContain('<error message="cancelled by alice" type="Cancelled">');
  });

  it('gives a run without tests one testcase for the whole script, with its log', () => {
    const xml = report({
      run: run({ phase: 'Failed', reason: 'AssertionFailed', source: { type: 'git', url: 'https://x/y.git', path: 'tests/smoke.lua', revision: 'HEAD' } }),
      assertions: [assertion(1, 0, false, { stepSeq: null })],
      logs: [log(1, null, 'hello')],
    });
    expect(xml).toContain('<testcase classname="tests/smoke.lua" name="smoke" time="2.500">');
    expect(xml).toContain('<failure message="status is 200" type="AssertionFailed">');
    expect(xml).toContain('<system-out>2026-11-30T08:00:02.000Z INFO hello</system-out>');
  });

  it("puts each test's log lines, and those of its steps, in its system-out; the others in the suite's", () => {
    const xml = report({
      steps: [step(1, 'a', 'passed'), step(2, 'inner', 'passed', { parentSeq: 1, kind: 'step' }), step(3, 'b', 'passed')],
      logs: [log(1, 1, 'in a'), log(2, 2, 'in a step'), log(3, 3, 'in b'), log(4, null, 'outside')],
    });
    expect(xml).toContain('name="a" time="1.200">\n      <system-out>2026-11-30T08:00:02.000Z INFO in a\n2026-11-30T08:00:02.000Z INFO in a step</system-out>');
    expect(xml).toContain('name="b" time="1.200">\n      <system-out>2026-11-30T08:00:02.000Z INFO in b</system-out>');
    expect(xml).not.toMatch(/<\/system-out>\n    <\/testcase>\n    <system-out>[^<]*in (a|b)/);
    expect(xml).toContain('    <system-out>2026-11-30T08:00:02.000Z INFO outside</system-out>\n  </testsuite>');
  });

  it('escapes markup and drops characters XML 1.0 forbids', () => {
    expect(xmlEscape(`a<b>&"c'\u0000\u001b\n`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;&#10;');
    const xml = report({ run: run({ name: 'x<y>&"' }), steps: [step(1, 'bell\u0007 & <tag>', 'passed')], logs: [log(1, 1, 'esc\u001b[31m </system-out>')] });
    expect(xml).toContain('name="x&lt;y&gt;&amp;&quot;"');
    expect(xml).toContain('name="bell &amp; &lt;tag&gt;"');
    expect(xml).toContain('esc[31m &lt;/system-out&gt;</system-out>');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });

  it('adds a testcase for the run when it failed outside its tests, and keeps log lines outside tests in the suite', () => {
    const xml = report({
      run: run({ phase: 'Error', reason: 'ScriptError', message: 'smoke.lua:9: after_all broke' }),
      steps: [step(1, 'smoke', 'passed'), step(2, 'after_all', 'failed', { kind: 'hook', message: 'smoke.lua:9: after_all broke' })],
      logs: [log(1, null, 'top level'), log(2, 2, 'in hook'), log(3, 1, 'in test')],
    });
    expect(xml).toContain('tests="2" failures="0" errors="1" skipped="0"');
    expect(xml).toContain('<testcase classname="smoke.lua" name="smoke (2)" time="2.500">\n      <error message="smoke.lua:9: after_all broke" type="ScriptError">');
    expect(xml).toContain('    <system-out>2026-11-30T08:00:02.000Z INFO top level\n2026-11-30T08:00:02.000Z INFO in hook</system-out>\n  </testsuite>');
  });

  it('uses "topas" as hostname when no executor is known', () => {
    expect(report({ run: run({ executor: null }) })).toContain('hostname="topas"');
  });
});
