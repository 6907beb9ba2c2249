import { describe, expect, it } from 'vitest';
import { makeAssertion, makeStep } from '../testing/fixtures';
import { buildStepTree, flattenTree } from './step-tree';

describe('buildStepTree', () => {
  const steps = [
    makeStep({ seq: 1, kind: 'test', name: 'checkout', startedAt: '2025-01-31T12:00:00.000Z', finishedAt: '2025-01-31T12:00:04.000Z', status: 'failed' }),
    makeStep({ seq: 2, parentSeq: 1, name: 'sum', startedAt: '2025-01-31T12:00:00.000Z', finishedAt: '2025-01-31T12:00:01.000Z', status: 'failed' }),
    makeStep({ seq: 3, parentSeq: 1, name: 'pay', startedAt: '2025-01-31T12:00:01.000Z', finishedAt: '2025-01-31T12:00:03.000Z' }),
    makeStep({ seq: 4, kind: 'test', name: 'other', startedAt: '2025-01-31T12:00:04.000Z', finishedAt: null, status: 'running' }),
  ];
  const assertions = [makeAssertion({ seq: 1, stepSeq: 2, passed: false }), makeAssertion({ seq: 2, stepSeq: 3 }), makeAssertion({ seq: 3, stepSeq: null })];

  it('nests steps, attaches assertions and marks failures up the tree', () => {
    const tree = buildStepTree(steps, assertions, Date.parse('2025-01-31T12:00:08.000Z'));
    expect(tree.roots.map((n) => n.step.name)).toEqual(['checkout', 'other']);
    expect(tree.roots[0]!.children.map((n) => [n.step.name, n.depth, n.hasFailure, n.assertions.length])).toEqual([
      ['sum', 1, true, 1],
      ['pay', 1, false, 1],
    ]);
    expect(tree.roots[0]!.hasFailure).toBe(true);
    expect(tree.roots[1]!.hasFailure).toBe(false);
    expect(tree.looseAssertions.map((a) => a.seq)).toEqual([3]);
    expect(flattenTree(tree.roots).map((n) => n.step.seq)).toEqual([1, 2, 3, 4]);
  });

  it('places steps on the run timeline, running ones up to now', () => {
    const tree = buildStepTree(steps, [], Date.parse('2025-01-31T12:00:08.000Z'));
    const [checkout, other] = tree.roots;
    expect([checkout!.offset, checkout!.width]).toEqual([0, 0.5]);
    expect([checkout!.children[1]!.offset, checkout!.children[1]!.width]).toEqual([0.125, 0.25]);
    expect([other!.offset, other!.width]).toEqual([0.5, 0.5]);
  });

  it('treats a step whose parent is unknown as a root', () => {
    expect(buildStepTree([makeStep({ seq: 7, parentSeq: 3 })], []).roots).toHaveLength(1);
  });
});
