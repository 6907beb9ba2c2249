/**
 * Run-to-run comparison: what changed between an older run (`base`) and a newer
 * one (`head`) of the same test. Steps are matched by their name path (the names
 * from the outermost test down to the step); a path that occurs several times is
 * matched in order of occurrence, the first with the first. Assertions are matched
 * the same way by their step's path plus their message (`assert` words the same
 * assertion `total is 30` when it passes and `assertion failed: total is 30` when
 * it fails: both match). Pure: the caller reads the runs, steps and assertions.
 */
import type { Run } from './run.js';
import type { AssertionRecord, SourceLocation, StepRecord, StepStatus } from './run-events.js';

/** The headline of a compared run. */
export type RunRef = Pick<Run, 'id' | 'name' | 'phase' | 'createdAt' | 'durationMs' | 'summary'>;

/** One side of a matched step. */
export interface StepSide {
  status: StepStatus;
  durationMs: number | null;
  message: string | null;
  location: SourceLocation | null;
}

/** A step of either run; `base` or `head` is null when the step exists in one run only. */
export interface StepDiff {
  path: string[];
  base: StepSide | null;
  head: StepSide | null;
}

export interface AssertionBaseSide {
  passed: boolean;
  location: SourceLocation | null;
}

export interface AssertionHeadSide extends AssertionBaseSide {
  expected?: string;
  actual?: string;
}

/** An assertion of either run, by its step's path and its message. */
export interface AssertionDiff {
  stepPath: string[];
  /** As head recorded it (base, for a removed one). */
  message: string;
  base: AssertionBaseSide | null;
  head: AssertionHeadSide | null;
}

/**
 * Every step present in both runs is in exactly one of `newlyFailing` (failed now,
 * not before), `fixed` (failed before, not now), `stillFailing` (failed in both) or
 * counted in `stillPassing` (failed in neither; passed, skipped). Steps of one run
 * only are `added` (head) or `removed` (base). Assertions likewise, without a
 * still-passing count.
 */
export interface RunComparison {
  base: RunRef;
  head: RunRef;
  /** head's duration minus base's, in ms; null unless both finished. */
  durationChangeMs: number | null;
  steps: {
    newlyFailing: StepDiff[];
    fixed: StepDiff[];
    stillFailing: StepDiff[];
    stillPassing: number;
    added: StepDiff[];
    removed: StepDiff[];
  };
  assertions: {
    newlyFailing: AssertionDiff[];
    fixed: AssertionDiff[];
    stillFailing: AssertionDiff[];
    added: AssertionDiff[];
    removed: AssertionDiff[];
  };
}

/** What the comparison reads of one run. */
export interface ComparedRun {
  run: Run;
  steps: StepRecord[];
  assertions: AssertionRecord[];
}

export function runRef(run: Run): RunRef {
  return { id: run.id, name: run.name, phase: run.phase, createdAt: run.createdAt, durationMs: run.durationMs, summary: run.summary };
}

export function compareRuns(base: ComparedRun, head: ComparedRun): RunComparison {
  const basePaths = stepPaths(base.steps);
  const headPaths = stepPaths(head.steps);

  const steps: RunComparison['steps'] = { newlyFailing: [], fixed: [], stillFailing: [], stillPassing: 0, added: [], removed: [] };
  const stepPairs = matchInOrder(
    base.steps.map((s) => ({ key: basePaths.get(s.seq)!, item: s })),
    head.steps.map((s) => ({ key: headPaths.get(s.seq)!, item: s })),
  );
  for (const { key, base: b, head: h } of stepPairs) {
    const diff: StepDiff = { path: key, base: b && stepSide(b), head: h && stepSide(h) };
    if (!b) steps.added.push(diff);
    else if (!h) steps.removed.push(diff);
    else {
      const was = b.status === 'failed';
      const is = h.status === 'failed';
      if (was && is) steps.stillFailing.push(diff);
      else if (is) steps.newlyFailing.push(diff);
      else if (was) steps.fixed.push(diff);
      else steps.stillPassing++;
    }
  }

  const assertions: RunComparison['assertions'] = { newlyFailing: [], fixed: [], stillFailing: [], added: [], removed: [] };
  const assertionKey = (paths: Map<number, string[]>, a: AssertionRecord) => ({
    key: [...(a.stepSeq === null ? [] : (paths.get(a.stepSeq) ?? [])), assertionIdentity(a.message)],
    item: a,
  });
  const assertionPairs = matchInOrder(
    base.assertions.map((a) => assertionKey(basePaths, a)),
    head.assertions.map((a) => assertionKey(headPaths, a)),
  );
  for (const { key, base: b, head: h } of assertionPairs) {
    const diff: AssertionDiff = {
      stepPath: key.slice(0, -1),
      message: (h ?? b)!.message,
      base: b && { passed: b.passed, location: location(b) },
      head: h && headAssertion(h),
    };
    if (!b) assertions.added.push(diff);
    else if (!h) assertions.removed.push(diff);
    else if (!b.passed && !h.passed) assertions.stillFailing.push(diff);
    else if (!h.passed) assertions.newlyFailing.push(diff);
    else if (!b.passed) assertions.fixed.push(diff);
  }

  const durationChangeMs = base.run.durationMs !== null && head.run.durationMs !== null ? head.run.durationMs - base.run.durationMs : null;
  return { base: runRef(base.run), head: runRef(head.run), durationChangeMs, steps, assertions };
}

/** Each step's path of names from its outermost ancestor down to itself, by seq. */
function stepPaths(steps: readonly StepRecord[]): Map<number, string[]> {
  const bySeq = new Map(steps.map((s) => [s.seq, s]));
  const paths = new Map<number, string[]>();
  const pathOf = (step: StepRecord, seen: Set<number>): string[] => {
    const known = paths.get(step.seq);
    if (known) return known;
    const parent = step.parentSeq === null || seen.has(step.parentSeq) ? undefined : bySeq.get(step.parentSeq);
    seen.add(step.seq);
    const path = parent ? [...pathOf(parent, seen), step.name] : [step.name];
    paths.set(step.seq, path);
    return path;
  };
  for (const step of steps) pathOf(step, new Set());
  return paths;
}

/** What makes two assertion messages the same assertion: `assert`'s pass and failure wordings agree. */
function assertionIdentity(message: string): string {
  if (message === 'assertion passed' || message === 'assertion failed') return 'assertion';
  return message.startsWith(FAILED_PREFIX) ? message.slice(FAILED_PREFIX.length) : message;
}
const FAILED_PREFIX = 'assertion failed: ';

interface Pair<T> {
  key: string[];
  base: T | null;
  head: T | null;
}

/**
 * Pairs items with equal keys, the n-th occurrence in base with the n-th in head.
 * Head items come in head order (unmatched ones are added); base items left over
 * follow in base order (removed).
 */
function matchInOrder<T>(base: { key: string[]; item: T }[], head: { key: string[]; item: T }[]): Pair<T>[] {
  const waiting = new Map<string, { key: string[]; item: T }[]>();
  for (const b of base) {
    const k = JSON.stringify(b.key);
    const queue = waiting.get(k);
    if (queue) queue.push(b);
    else waiting.set(k, [b]);
  }
  const pairs: Pair<T>[] = [];
  const matched = new Set<T>();
  for (const h of head) {
    const b = waiting.get(JSON.stringify(h.key))?.shift();
    if (b) matched.add(b.item);
    pairs.push({ key: h.key, base: b?.item ?? null, head: h.item });
  }
  for (const b of base) if (!matched.has(b.item)) pairs.push({ key: b.key, base: b.item, head: null });
  return pairs;
}

function location(record: { file: string | null; line: number | null }): SourceLocation | null {
  return record.file !== null && record.line !== null ? { file: record.file, line: record.line } : null;
}

function stepSide(step: StepRecord): StepSide {
  return { status: step.status, durationMs: step.durationMs, message: step.message, location: location(step) };
}

function headAssertion(a: AssertionRecord): AssertionHeadSide {
  return {
    passed: a.passed,
    location: location(a),
    ...(a.expected !== null ? { expected: a.expected } : {}),
    ...(a.actual !== null ? { actual: a.actual } : {}),
  };
}
