import { describe, expect, it } from 'vitest';
import { makeRun } from '../testing/fixtures';
import { mergeRuns, staleActiveIds } from './merge-runs';

const at = (n: number) => `2025-01-31T12:00:${String(n).padStart(2, '0')}.000Z`;

describe('mergeRuns (live Runs list)', () => {
  const a = makeRun({ id: 'a', createdAt: at(1), phase: 'Passed' });
  const b = makeRun({ id: 'b', createdAt: at(2), phase: 'Running' });

  it('inserts new runs newest first and replaces known ones by id', () => {
    const c = makeRun({ id: 'c', createdAt: at(3), phase: 'Queued' });
    const merged = mergeRuns([b, a], [c, { ...b, phase: 'Failed' }]);
    expect(merged.map((r) => `${r.id}:${r.phase}`)).toEqual(['c:Queued', 'b:Failed', 'a:Passed']);
  });

  it('never moves a run back along the state machine (a stale answer)', () => {
    const finished = { ...b, phase: 'Passed' as const };
    expect(mergeRuns([finished, a], [b])).toEqual([finished, a]);
  });

  it('returns the same array when nothing changed', () => {
    const current = [b, a];
    expect(mergeRuns(current, [{ ...a }, { ...b }])).toBe(current);
  });

  it('removes runs that no longer match', () => {
    expect(mergeRuns([b, a], [], { remove: ['b'] }).map((r) => r.id)).toEqual(['a']);
  });

  it('orders runs created in the same millisecond by id', () => {
    const x = makeRun({ id: '0002', createdAt: at(5) });
    const y = makeRun({ id: '0001', createdAt: at(5) });
    expect(mergeRuns([], [y, x]).map((r) => r.id)).toEqual(['0002', '0001']);
  });

  it('lists shown active runs that the first page did not refresh', () => {
    const q = makeRun({ id: 'q', phase: 'Queued' });
    expect(staleActiveIds([q, b, a], new Set(['b']), 10)).toEqual(['q']);
    expect(staleActiveIds([q, b, a], new Set(), 1)).toEqual(['q']);
  });
});
