import { describe, expect, it } from 'vitest';
import { detailLines, detailPlaces, headline } from './failure-text.js';

const DIFF = 'expected the tables to be equal (2 differences)\n.b: unexpected key (got 2)\n.c: expected 3, got nil';

describe('failure text', () => {
  it('splits a message into its headline and one detail per line', () => {
    expect(headline(DIFF)).toBe('expected the tables to be equal (2 differences)');
    expect(detailLines(DIFF)).toEqual(['.b: unexpected key (got 2)', '.c: expected 3, got nil']);
    expect([headline('one line'), detailLines('one line')]).toEqual(['one line', []]);
  });

  const step = (seq: number, message: string | null, status = 'failed') => ({ seq, status, message });

  it('shows a diff with its failed assertion only, not with the steps it aborted nor the run', () => {
    const places = detailPlaces({
      message: `d.lua:3: ${DIFF}`,
      steps: [step(1, `d.lua:3: ${DIFF}`), step(2, `d.lua:3: ${DIFF}`)],
      assertions: [{ seq: 1, passed: false, message: DIFF }],
    });
    expect(places).toEqual({ run: false, steps: new Set(), assertions: new Set([1]) });
  });

  it('shows an error without an assertion with the innermost failed step, else with the run', () => {
    const error = 'd.lua:3: first line\nsecond line';
    expect(detailPlaces({ message: error, steps: [step(1, error), step(2, error), step(3, null, 'passed')], assertions: [] })).toEqual({
      run: false,
      steps: new Set([2]),
      assertions: new Set(),
    });
    expect(detailPlaces({ message: error, steps: [], assertions: [] }).run).toBe(true);
    // one-line messages have no details to place
    expect(detailPlaces({ message: 'd.lua:1: boom', steps: [step(1, 'd.lua:1: boom')], assertions: [{ seq: 1, passed: false, message: 'boom' }] })).toEqual({
      run: false,
      steps: new Set(),
      assertions: new Set(),
    });
  });
});
