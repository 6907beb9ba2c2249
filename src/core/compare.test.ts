import { describe, expect, it } from 'vitest';
import { compareRuns, type ComparedRun } from './compare.js';
import { EMPTY_SUMMARY, type Run } from './run.js';
import type { AssertionRecord, StepRecord } from './run-events.js';

function run(id: string, durationMs: number | null): Run {
  return {
    id,
    name: 'checkout',
    phase: 'Failed',
    origin: 'api',
    k8sRef: null,
    appName: null,
    appReadOnly: false,
    source: { type: 'inline', script: '' },
    env: {},
    timeoutSeconds: 60,
    labels: {},
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    durationMs,
    summary: EMPTY_SUMMARY,
    reason: null,
    message: null,
    executor: null,
    category: null,
    categoryRule: null,
    profile: null,
    logsExpiredAt: null,
  };
}

/** Steps from `[seq, parentSeq, name, status]`, each at line = seq. */
function steps(runId: string, rows: [number, number | null, string, StepRecord['status']][]): StepRecord[] {
  return rows.map(([seq, parentSeq, name, status]) => ({
    runId,
    seq,
    parentSeq,
    kind: parentSeq === null ? 'test' : 'step',
    name,
    status,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    durationMs: seq * 10,
    message: status === 'failed' ? `${name} broke` : null,
    file: 'checkout.lua',
    line: seq,
  }));
}

function assertion(runId: string, seq: number, stepSeq: number | null, passed: boolean, message: string, extra: Partial<AssertionRecord> = {}): AssertionRecord {
  return { runId, seq, stepSeq, passed, message, expected: null, actual: null, file: 'checkout.lua', line: 100 + seq, ts: '2025-01-01T00:00:00.000Z', ...extra };
}

function compared(r: Run, s: StepRecord[], a: AssertionRecord[] = []): ComparedRun {
  return { run: r, steps: s, assertions: a };
}

describe('compareRuns', () => {
  it('sorts steps present in both runs by how their status changed, and finds added and removed ones', () => {
    const base = compared(
      run('b', 1000),
      steps('b', [
        [1, null, 'cart', 'failed'],
        [2, 1, 'add item', 'passed'],
        [3, 1, 'total', 'failed'],
        [4, null, 'login', 'passed'],
        [5, 4, 'submit', 'passed'],
        [6, null, 'legacy', 'passed'],
        [7, null, 'search', 'skipped'],
      ]),
    );
    const head = compared(
      run('h', 1500),
      steps('h', [
        [1, null, 'cart', 'failed'],
        [2, 1, 'add item', 'failed'],
        [3, 1, 'total', 'passed'],
        [4, null, 'login', 'passed'],
        [5, 4, 'submit', 'passed'],
        [6, null, 'search', 'skipped'],
        [7, null, 'payment', 'passed'],
      ]),
    );
    const diff = compareRuns(base, head);
    expect(diff.durationChangeMs).toBe(500);
    expect(diff.base.id).toBe('b');
    expect(diff.head.id).toBe('h');
    expect(diff.steps.newlyFailing).toEqual([
      {
        path: ['cart', 'add item'],
        base: { status: 'passed', durationMs: 20, message: null, location: { file: 'checkout.lua', line: 2 } },
        head: { status: 'failed', durationMs: 20, message: 'add item broke', location: { file: 'checkout.lua', line: 2 } },
      },
    ]);
    expect(diff.steps.fixed.map((s) => s.path)).toEqual([['cart', 'total']]);
    expect(diff.steps.stillFailing.map((s) => s.path)).toEqual([['cart']]);
    // login, login/submit, and search (skipped in both)
    expect(diff.steps.stillPassing).toBe(3);
    expect(diff.steps.added).toEqual([{ path: ['payment'], base: null, head: expect.objectContaining({ status: 'passed' }) }]);
    expect(diff.steps.removed).toEqual([{ path: ['legacy'], base: expect.objectContaining({ status: 'passed' }), head: null }]);
  });

  it('matches a repeated path in order of occurrence', () => {
    const base = compared(run('b', null), steps('b', [[1, null, 'retry', 'failed'], [2, null, 'retry', 'passed']]));
    const head = compared(run('h', 10), steps('h', [[1, null, 'retry', 'passed'], [2, null, 'retry', 'passed'], [3, null, 'retry', 'failed']]));
    const diff = compareRuns(base, head);
    expect(diff.durationChangeMs).toBeNull();
    expect(diff.steps.fixed.map((s) => s.head!.location!.line)).toEqual([1]);
    expect(diff.steps.stillPassing).toBe(1);
    // the third occurrence has no counterpart
    expect(diff.steps.added.map((s) => [s.path, s.head!.status])).toEqual([[['retry'], 'failed']]);
    expect(diff.steps.newlyFailing).toEqual([]);
  });

  it('tells steps of the same name under different parents apart', () => {
    const base = compared(run('b', 1), steps('b', [[1, null, 'admin', 'passed'], [2, 1, 'login', 'passed'], [3, null, 'guest', 'passed'], [4, 3, 'login', 'passed']]));
    const head = compared(run('h', 1), steps('h', [[1, null, 'admin', 'passed'], [2, 1, 'login', 'passed'], [3, null, 'guest', 'failed'], [4, 3, 'login', 'failed']]));
    const diff = compareRuns(base, head);
    expect(diff.steps.newlyFailing.map((s) => s.path)).toEqual([['guest'], ['guest', 'login']]);
    expect(diff.steps.stillPassing).toBe(2);
  });

  it('matches assertions by step path and message, in order of occurrence', () => {
    const s = (id: string) => steps(id, [[1, null, 'cart', 'passed'], [2, 1, 'total', 'passed']]);
    const base = compared(run('b', 1), s('b'), [
      assertion('b', 1, 2, true, 'total is 30'),
      assertion('b', 2, 2, false, 'tax is 3'),
      assertion('b', 3, 2, false, 'no discount'),
      assertion('b', 4, null, true, 'top level'),
      assertion('b', 5, 1, true, 'status 200'),
      assertion('b', 6, 1, true, 'status 200'),
    ]);
    const head = compared(run('h', 1), s('h'), [
      assertion('h', 1, 2, false, 'total is 30', { expected: '30', actual: '25' }),
      assertion('h', 2, 2, true, 'tax is 3'),
      assertion('h', 3, 2, false, 'no discount'),
      assertion('h', 4, 1, true, 'status 200'),
      assertion('h', 5, null, true, 'new check'),
    ]);
    const diff = compareRuns(base, head);
    expect(diff.assertions.newlyFailing).toEqual([
      {
        stepPath: ['cart', 'total'],
        message: 'total is 30',
        base: { passed: true, location: { file: 'checkout.lua', line: 101 } },
        head: { passed: false, location: { file: 'checkout.lua', line: 101 }, expected: '30', actual: '25' },
      },
    ]);
    expect(diff.assertions.fixed.map((a) => a.message)).toEqual(['tax is 3']);
    expect(diff.assertions.stillFailing.map((a) => a.message)).toEqual(['no discount']);
    expect(diff.assertions.added.map((a) => [a.stepPath, a.message])).toEqual([[[], 'new check']]);
    // the second 'status 200' and the top-level one are gone
    expect(diff.assertions.removed.map((a) => [a.stepPath, a.message, a.base!.location!.line])).toEqual([
      [[], 'top level', 104],
      [['cart'], 'status 200', 106],
    ]);
    expect(diff.assertions.removed.every((a) => a.head === null)).toBe(true);
  });

  it('matches an assert that passed with the same assert failing', () => {
    const s = (id: string) => steps(id, [[1, null, 'cart', 'passed']]);
    const base = compared(run('b', 1), s('b'), [assertion('b', 1, 1, true, 'total is 30'), assertion('b', 2, 1, true, 'assertion passed')]);
    const head = compared(run('h', 1), s('h'), [assertion('h', 1, 1, false, 'assertion failed: total is 30'), assertion('h', 2, 1, false, 'assertion failed')]);
    const diff = compareRuns(base, head);
    expect(diff.assertions.newlyFailing.map((a) => a.message)).toEqual(['assertion failed: total is 30', 'assertion failed']);
    expect(diff.assertions.added).toEqual([]);
    expect(diff.assertions.removed).toEqual([]);
    expect(compareRuns(head, base).assertions.fixed.map((a) => a.message)).toEqual(['total is 30', 'assertion passed']);
  });

  it('compares runs without steps or assertions', () => {
    const diff = compareRuns(compared(run('b', 5), []), compared(run('h', 3), []));
    expect(diff).toMatchObject({
      durationChangeMs: -2,
      steps: { newlyFailing: [], fixed: [], stillFailing: [], stillPassing: 0, added: [], removed: [] },
      assertions: { newlyFailing: [], fixed: [], stillFailing: [], added: [], removed: [] },
    });
    expect(diff.head).toEqual({ id: 'h', name: 'checkout', phase: 'Failed', createdAt: '2025-01-01T00:00:00.000Z', durationMs: 3, summary: EMPTY_SUMMARY });
  });
});
