import { describe, expect, it } from 'vitest';
import type { CompareResult, RunRef, StepStatus } from '../api/types';
import { compareHeadline, durationRatio, groupComparison, groupSection, pathLabel } from './compare-groups';

const ref = (id: string, durationMs: number): RunRef => ({
  id,
  name: 'checkout',
  phase: 'Passed',
  createdAt: '2025-01-31T12:00:00.000Z',
  durationMs,
  summary: { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 },
});

const loc = (text: string) => ({ file: text.split(':')[0]!, line: Number(text.split(':')[1]) });
const side = (status: StepStatus, message: string | null = null, location: string | null = null) => ({ status, durationMs: 10, message, location: location ? loc(location) : null });

const result: CompareResult = {
  base: ref('a', 1000),
  head: ref('b', 1250),
  durationChangeMs: 250,
  steps: {
    newlyFailing: [
      { path: ['checkout', 'pay'], base: side('passed'), head: side('failed', 'expected 200, got 500', 'checkout.lua:14') },
      { path: ['checkout', 'cart'], base: side('passed'), head: side('failed', 'boom', 'checkout.lua:9') },
    ],
    fixed: [{ path: ['login'], base: side('failed', 'was broken', 'login.lua:3'), head: side('passed') }],
    stillFailing: [],
    stillPassing: 4,
    added: [{ path: ['search'], base: null, head: side('passed') }],
    removed: [],
  },
  assertions: {
    newlyFailing: [
      { stepPath: ['checkout', 'pay'], message: 'status is 200', base: { passed: true, location: loc('checkout.lua:14') }, head: { passed: false, location: { file: 'checkout.lua', line: 14 }, expected: '200', actual: '500' } },
      { stepPath: ['checkout', 'pay'], message: 'has a receipt', base: { passed: true, location: null }, head: { passed: false, location: loc('checkout.lua:15') } },
      { stepPath: [], message: 'top level', base: { passed: true, location: null }, head: { passed: false, location: loc('checkout.lua:30') } },
    ],
    fixed: [],
    stillFailing: [{ stepPath: ['profile'], message: 'avatar loads', base: { passed: false, location: loc('p.lua:2') }, head: { passed: false, location: loc('p.lua:2') } }],
    added: [],
    removed: [],
  },
};

describe('compare grouping', () => {
  it('puts sections in triage order and nests assertions under their step', () => {
    const sections = groupComparison(result);
    expect(sections.map((s) => [s.key, s.count])).toEqual([
      ['newlyFailing', 5],
      ['stillFailing', 1],
      ['fixed', 1],
      ['added', 1],
      ['removed', 0],
    ]);
    const newly = sections[0]!;
    expect(newly.items.map((i) => pathLabel(i.path))).toEqual(['(outside any step)', 'checkout › cart', 'checkout › pay']);
    const pay = newly.items[2]!;
    expect(pay.step).toMatchObject({ baseStatus: 'passed', headStatus: 'failed', message: 'expected 200, got 500', location: 'checkout.lua:14' });
    expect(pay.assertions).toEqual([
      { message: 'status is 200', location: 'checkout.lua:14', expected: '200', actual: '500', basePassed: true, headPassed: false },
      { message: 'has a receipt', location: 'checkout.lua:15', expected: null, actual: null, basePassed: true, headPassed: false },
    ]);
    expect(newly.items[0]!.step).toBeNull();
  });

  it('shows why a fixed step used to fail', () => {
    const fixed = groupSection('fixed', result.steps.fixed, []);
    expect(fixed.items[0]!.step).toMatchObject({ message: 'was broken', location: 'login.lua:3', baseStatus: 'failed', headStatus: 'passed' });
  });

  it('gives assertions of a step that is not in the section their own item', () => {
    const still = groupSection('stillFailing', [], result.assertions.stillFailing);
    expect(still.items).toHaveLength(1);
    expect(still.items[0]).toMatchObject({ key: 'a:profile', step: null, path: ['profile'] });
  });

  it('summarises and computes the duration change', () => {
    expect(compareHeadline(result)).toBe('5 newly failing · 1 still failing · 1 fixed · 1 added · 4 steps still passing');
    expect(durationRatio(result)).toBe(0.25);
    expect(durationRatio({ ...result, durationChangeMs: null })).toBeNull();
  });
});
