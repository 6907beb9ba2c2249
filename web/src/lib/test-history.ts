/**
 * A test's history as a duration chart: uPlot columns (x in seconds, oldest
 * first), one duration series per outcome kind so passes and failures get their
 * colours (a point is in the series of its outcome, null in the others).
 */
import type { TestResultItem } from '../api/types';

export interface DurationChartData {
  data: [number[], (number | null)[], (number | null)[]];
  /** How many results have a duration. */
  points: number;
}

export function durationChart(history: readonly TestResultItem[]): DurationChartData {
  const timed = history.filter((h) => h.durationMs !== null && h.outcome !== 'Skipped');
  const oldestFirst = [...timed].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  // uPlot needs strictly increasing x: nudge results of the same second apart.
  const xs: number[] = [];
  for (const h of oldestFirst) {
    let x = Date.parse(h.createdAt) / 1000;
    if (xs.length && x <= xs[xs.length - 1]!) x = xs[xs.length - 1]! + 0.001;
    xs.push(x);
  }
  return {
    data: [xs, oldestFirst.map((h) => (h.outcome === 'Passed' ? h.durationMs : null)), oldestFirst.map((h) => (h.outcome === 'Passed' ? null : h.durationMs))],
    points: oldestFirst.length,
  };
}
