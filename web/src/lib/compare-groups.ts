/**
 * A comparison of two runs, arranged for reading: sections in the order people
 * triage them (what broke, what is still broken, what got fixed, what changed
 * shape), each step with the assertions that belong to it, so one failing step
 * with three failed assertions reads as one problem, not four.
 */
import type { AssertionDiff, CompareResult, StepDiff } from '../api/types';
import { formatLocation } from './format';

export type CompareSectionKey = 'newlyFailing' | 'stillFailing' | 'fixed' | 'added' | 'removed';

export const SECTION_TITLES: Record<CompareSectionKey, string> = {
  newlyFailing: 'Newly failing',
  stillFailing: 'Still failing',
  fixed: 'Fixed',
  added: 'Added',
  removed: 'Removed',
};

/** Section order on the page. */
export const SECTION_ORDER: readonly CompareSectionKey[] = ['newlyFailing', 'stillFailing', 'fixed', 'added', 'removed'];

export interface CompareAssertionItem {
  message: string;
  /** `file:line` of the side that matters (head, or base for removed ones). */
  location: string | null;
  expected: string | null;
  actual: string | null;
  basePassed: boolean | null;
  headPassed: boolean | null;
}

export interface CompareItem {
  /** Stable key for React: the joined path (and message for assertions). */
  key: string;
  /** Names from the outermost test down to the step; empty for assertions outside steps. */
  path: string[];
  /** Present when the item is a step; absent for assertions whose step is not in this section. */
  step: {
    baseStatus: string | null;
    headStatus: string | null;
    baseDurationMs: number | null;
    headDurationMs: number | null;
    message: string | null;
    location: string | null;
  } | null;
  assertions: CompareAssertionItem[];
}

export interface CompareSection {
  key: CompareSectionKey;
  title: string;
  items: CompareItem[];
  /** Steps plus assertions in the section. */
  count: number;
}

const pathKey = (path: readonly string[]) => path.join('\u0000');

function stepItem(diff: StepDiff, section: CompareSectionKey): CompareItem {
  // For a fixed or removed step the interesting side is the base (why it used to fail).
  const messageSide = section === 'fixed' || section === 'removed' ? diff.base ?? diff.head : diff.head ?? diff.base;
  return {
    key: `s:${pathKey(diff.path)}`,
    path: diff.path,
    step: {
      baseStatus: diff.base?.status ?? null,
      headStatus: diff.head?.status ?? null,
      baseDurationMs: diff.base?.durationMs ?? null,
      headDurationMs: diff.head?.durationMs ?? null,
      message: messageSide?.message ?? null,
      location: formatLocation(messageSide?.location ?? null),
    },
    assertions: [],
  };
}

function assertionItem(diff: AssertionDiff, section: CompareSectionKey): CompareAssertionItem {
  const side = section === 'removed' || section === 'fixed' ? diff.base ?? diff.head : diff.head ?? diff.base;
  return {
    message: diff.message,
    location: formatLocation(side?.location ?? null),
    expected: diff.head?.expected ?? null,
    actual: diff.head?.actual ?? null,
    basePassed: diff.base ? diff.base.passed : null,
    headPassed: diff.head ? diff.head.passed : null,
  };
}

/** One section: steps sorted by path, each with its assertions; assertions of steps not listed get an item of their own per step. */
export function groupSection(key: CompareSectionKey, steps: readonly StepDiff[], assertions: readonly AssertionDiff[]): CompareSection {
  const items = new Map<string, CompareItem>();
  for (const diff of steps) items.set(pathKey(diff.path), stepItem(diff, key));
  for (const diff of assertions) {
    const k = pathKey(diff.stepPath);
    let item = items.get(k);
    if (!item) {
      item = { key: `a:${k}`, path: diff.stepPath, step: null, assertions: [] };
      items.set(k, item);
    }
    item.assertions.push(assertionItem(diff, key));
  }
  const sorted = [...items.values()].sort((a, b) => comparePaths(a.path, b.path));
  return { key, title: SECTION_TITLES[key], items: sorted, count: steps.length + assertions.length };
}

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = a[i]!.localeCompare(b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Every section in page order; empty ones are kept (the page says "none") so the layout does not jump. */
export function groupComparison(result: CompareResult): CompareSection[] {
  return SECTION_ORDER.map((key) => groupSection(key, result.steps[key], result.assertions[key]));
}

/** A one-line verdict: `2 newly failing · 1 fixed · 5 steps still passing`. */
export function compareHeadline(result: CompareResult): string {
  const parts: string[] = [];
  for (const section of groupComparison(result)) {
    if (section.count) parts.push(`${section.count} ${section.title.toLowerCase()}`);
  }
  parts.push(`${result.steps.stillPassing} step${result.steps.stillPassing === 1 ? '' : 's'} still passing`);
  return parts.join(' · ');
}

/** The duration change as a ratio of the base (0.25 = 25% slower); null when either is unknown or the base is 0. */
export function durationRatio(result: CompareResult): number | null {
  const base = result.base.durationMs;
  if (result.durationChangeMs === null || base === null || base === 0) return null;
  return result.durationChangeMs / base;
}

/** `a › b › c`, or `(outside any step)`. */
export const pathLabel = (path: readonly string[]): string => (path.length ? path.join(' › ') : '(outside any step)');
