import { describe, expect, it } from 'vitest';
import type { AssertionRecord, StepRecord } from '../core/run-events.js';
import type { Run } from '../core/run.js';
import { createStyle, formatDuration, formatFailedAssertion, formatRunDetail, formatStep, formatSummary, shortIds, table } from './format.js';

const plain = createStyle({ isTTY: false }, {});

describe('format', () => {
  it('colours only on a terminal without NO_COLOR', () => {
    expect(createStyle({ isTTY: true }, {}).red('x')).not.toBe('x');
    expect(createStyle({ isTTY: true }, { NO_COLOR: '' }).red('x')).toBe('x');
    expect(plain.red('x')).toBe('x');
  });

  it('formats durations for people', () => {
    expect([formatDuration(null), formatDuration(12), formatDuration(1234), formatDuration(125_000), formatDuration(3_720_000)]).toEqual([
      '-',
      '12 ms',
      '1.23 s',
      '2m 05s',
      '1h 02m',
    ]);
  });

  it('shortens ids to the shortest distinct prefix of at least 8 characters', () => {
    const ids = ['01a20009-1620-7366', '01a20009-1cfa-7ae3', '01b00000-0000-7000'];
    expect([...shortIds(ids).values()]).toEqual(['01a20009-16', '01a20009-1c', '01b00000']);
    // In the order given, never ending on a dash, and the same id once.
    expect([...shortIds(['01a20009-2000', '01a20009-1cfa', '01a20009-2000']).entries()]).toEqual([
      ['01a20009-2000', '01a20009-2'],
      ['01a20009-1cfa', '01a20009-1'],
    ]);
  });

  it('aligns table columns and reads failed steps with their location once', () => {
    expect(table(['A', 'B'], [['long value', 'x'], ['y', 'z']], plain)).toBe('A           B\nlong value  x\ny           z');
    const step = { runId: 'r', seq: 1, parentSeq: null, kind: 'step' as const, name: 'pay', status: 'failed' as const, startedAt: '', finishedAt: '', durationMs: 3 };
    expect(formatStep(plain, { ...step, message: 'a.lua:3: boom', file: 'a.lua', line: 3 })).toBe('✗ pay — boom (a.lua:3)');
  });

  describe('a failure with details (an expect diff)', () => {
    const diff = 'expected the tables to be equal (2 differences)\n.b: unexpected key (got 2)\n.c: expected 3, got nil';
    const base = { runId: 'r', startedAt: '', finishedAt: '', durationMs: 3, file: 'd.lua', line: 3 };
    const steps: StepRecord[] = [
      { ...base, seq: 1, parentSeq: null, kind: 'test', name: 'tables', status: 'failed', message: `d.lua:3: ${diff}` },
      { ...base, seq: 2, parentSeq: 1, kind: 'step', name: 'compare', status: 'failed', message: `d.lua:3: ${diff}` },
    ];
    const assertion: AssertionRecord = { runId: 'r', seq: 1, stepSeq: 2, passed: false, message: diff, expected: '{"a":1,"c":3}', actual: '{"a":1,"b":2}', file: 'd.lua', line: 3, ts: '' };
    const run = {
      id: 'r',
      name: 'diff',
      phase: 'Failed',
      reason: 'AssertionFailed',
      message: `d.lua:3: ${diff}`,
      origin: 'cli',
      appName: null,
      source: { type: 'inline', script: '' },
      labels: {},
      createdAt: '',
      startedAt: '',
      durationMs: 5,
      summary: { stepsPassed: 0, stepsFailed: 2, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 1 },
      steps,
      assertions: [assertion],
    } as unknown as Run & { steps: StepRecord[]; assertions: AssertionRecord[] };
    const count = (text: string, part: string) => text.split(part).length - 1;

    it('the failed assertion lists one difference per line, then expected and actual', () => {
      expect(formatFailedAssertion(plain, assertion)).toEqual([
        '  ✗ expected the tables to be equal (2 differences) (d.lua:3)',
        '      .b: unexpected key (got 2)',
        '      .c: expected 3, got nil',
        '      expected: {"a":1,"c":3}',
        '      actual:   {"a":1,"b":2}',
      ]);
    });

    it('steps and the summary show its first line', () => {
      expect(formatStep(plain, steps[1]!)).toBe('✗ compare — expected the tables to be equal (2 differences) (d.lua:3)');
      expect(formatSummary(plain, run)).toMatch(/AssertionFailed: d\.lua:3: expected the tables to be equal \(2 differences\)$/);
    });

    it('test status prints each difference once', () => {
      const text = formatRunDetail(plain, run);
      expect(count(text, '.b: unexpected key (got 2)')).toBe(1);
      expect(count(text, '.c: expected 3, got nil')).toBe(1);
      // without an assertion, the innermost failed step shows the details
      const noAssertion = formatRunDetail(plain, { ...run, assertions: [] });
      expect(count(noAssertion, '.b: unexpected key (got 2)')).toBe(1);
      expect(noAssertion).toContain('    ✗ compare — expected the tables to be equal (2 differences) (d.lua:3)\n        .b: unexpected key (got 2)\n        .c: expected 3, got nil');
    });

    it('names the repository, path, revision and commit of a git run', () => {
      const source = { type: 'git' as const, url: 'https://git.example.com/t.git', path: 'tests/smoke.lua', revision: 'v1', commit: '085559cc9685dc4beb98e70dd092cef22b43d046' };
      expect(formatRunDetail(plain, { ...run, source })).toContain('Source    https://git.example.com/t.git tests/smoke.lua at v1 (085559cc9685dc4beb98e70dd092cef22b43d046)\nSummary');
    });
  });
});
