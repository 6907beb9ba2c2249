/**
 * A run's steps as a tree (through `parentSeq`) with their assertions, and where
 * each sits on the run's timeline. Failed steps, and the steps around them, start
 * expanded: the point of the page is to get from "failed" to "why" fast.
 */
import type { AssertionRecord, StepRecord } from '../api/types';

export interface StepNode {
  step: StepRecord;
  children: StepNode[];
  assertions: AssertionRecord[];
  depth: number;
  /** Contains a failed step or a failed assertion (itself or below). */
  hasFailure: boolean;
  /** Position on the run's timeline, as fractions 0..1 of its span. */
  offset: number;
  width: number;
}

export interface StepTree {
  roots: StepNode[];
  /** Assertions made outside any step (at the top level of the script). */
  looseAssertions: AssertionRecord[];
}

/** Builds the tree. `nowMs` closes the bars of steps still running. */
export function buildStepTree(steps: readonly StepRecord[], assertions: readonly AssertionRecord[], nowMs: number = Date.now()): StepTree {
  const nodes = new Map<number, StepNode>();
  const sorted = [...steps].sort((a, b) => a.seq - b.seq);
  let spanStart = Infinity;
  let spanEnd = -Infinity;
  for (const step of sorted) {
    const start = Date.parse(step.startedAt);
    const end = step.finishedAt ? Date.parse(step.finishedAt) : nowMs;
    spanStart = Math.min(spanStart, start);
    spanEnd = Math.max(spanEnd, end, start);
    nodes.set(step.seq, { step, children: [], assertions: [], depth: 0, hasFailure: step.status === 'failed', offset: 0, width: 0 });
  }
  const roots: StepNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.step.parentSeq === null ? undefined : nodes.get(node.step.parentSeq);
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const looseAssertions: AssertionRecord[] = [];
  for (const assertion of [...assertions].sort((a, b) => a.seq - b.seq)) {
    const owner = assertion.stepSeq === null ? undefined : nodes.get(assertion.stepSeq);
    if (owner) owner.assertions.push(assertion);
    else looseAssertions.push(assertion);
  }
  const span = Math.max(1, spanEnd - spanStart);
  const visit = (node: StepNode, depth: number): boolean => {
    node.depth = depth;
    const start = Date.parse(node.step.startedAt);
    const end = node.step.finishedAt ? Date.parse(node.step.finishedAt) : nowMs;
    node.offset = (start - spanStart) / span;
    node.width = Math.max(0, Math.min(1 - node.offset, (end - start) / span));
    let failed = node.hasFailure || node.assertions.some((a) => !a.passed);
    for (const child of node.children) failed = visit(child, depth + 1) || failed;
    node.hasFailure = failed;
    return failed;
  };
  for (const root of roots) visit(root, 0);
  return { roots, looseAssertions };
}

/** Every node in display order (depth first), for rendering and keyboard order. */
export function flattenTree(roots: readonly StepNode[]): StepNode[] {
  const out: StepNode[] = [];
  const walk = (node: StepNode) => {
    out.push(node);
    node.children.forEach(walk);
  };
  roots.forEach(walk);
  return out;
}

/** Steps with one step added or replaced (by seq), as a step event from the live stream arrives. */
export function upsertStep(steps: readonly StepRecord[], step: StepRecord): StepRecord[] {
  const at = steps.findIndex((s) => s.seq === step.seq);
  if (at < 0) return [...steps, step].sort((a, b) => a.seq - b.seq);
  const next = steps.slice();
  next[at] = step;
  return next;
}
