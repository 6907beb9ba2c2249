import { describe, expect, it } from 'vitest';
import { findCondition, isConditionTrue, setCondition } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:01:00Z');

describe('setCondition', () => {
  it('adds a condition with lastTransitionTime now', () => {
    const list = setCondition([], { type: 'Ready', status: 'False', reason: 'ResourcesCreating', message: 'x', observedGeneration: 1 }, t0);
    expect(list).toEqual([{ type: 'Ready', status: 'False', reason: 'ResourcesCreating', message: 'x', observedGeneration: 1, lastTransitionTime: t0.toISOString() }]);
  });

  it('keeps lastTransitionTime while the status stays, and updates reason, message and generation', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'ResourcesCreating', message: 'x', observedGeneration: 1 }, t0);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'WaitingForCapacity', message: 'queued', observedGeneration: 2 }, t1);
    expect(b).toEqual([{ type: 'Ready', status: 'False', reason: 'WaitingForCapacity', message: 'queued', observedGeneration: 2, lastTransitionTime: t0.toISOString() }]);
    expect(a[0]!.reason).toBe('ResourcesCreating'); // the input is not changed
  });

  it('moves lastTransitionTime when the status changes, and leaves other conditions alone', () => {
    let list = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: '' }, t0);
    list = setCondition(list, { type: 'TestCompleted', status: 'False', reason: 'TestInProgress', message: '' }, t0);
    list = setCondition(list, { type: 'Ready', status: 'True', reason: 'ResourcesCreated', message: '' }, t1);
    expect(list.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['Ready', 'True', t1.toISOString()],
      ['TestCompleted', 'False', t0.toISOString()],
    ]);
    expect(isConditionTrue(list, 'Ready')).toBe(true);
    expect(isConditionTrue(list, 'TestCompleted')).toBe(false);
    expect(isConditionTrue(list, 'Missing')).toBe(false);
    expect(findCondition(list, 'TestCompleted')?.reason).toBe('TestInProgress');
  });

  it('takes an explicit lastTransitionTime for a new transition', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: '', lastTransitionTime: '2025-12-31T23:00:00.000Z' }, t1);
    expect(list[0]!.lastTransitionTime).toBe('2025-12-31T23:00:00.000Z');
  });
});
