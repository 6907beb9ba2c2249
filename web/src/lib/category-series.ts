/**
 * The failures-by-category breakdown as stacked bars for uPlot: x in seconds, then
 * for each category the running total up to it, drawn tallest first so the shorter
 * ones paint over it (as the runs-by-phase chart); the legend shows each
 * category's own count. Categories are stacked biggest first (most failures at the bottom).
 */
import type { CategoryBreakdown } from '../api/types';

export interface CategoryStack {
  /** Categories in drawing order (top of the stack first). */
  categories: string[];
  /** [x, running total for categories[0], …]. */
  data: [number[], ...number[][]];
  /** Each category's own count per bucket. */
  counts: Record<string, number[]>;
  /** Each category's total over the period, biggest first. */
  totals: { category: string; total: number }[];
}

export function stackByCategory(breakdown: CategoryBreakdown): CategoryStack {
  const xs = breakdown.points.map((p) => Math.floor(Date.parse(p.start) / 1000));
  const names = [...breakdown.categories];
  for (const p of breakdown.points) for (const c of Object.keys(p.counts)) if (!names.includes(c)) names.push(c);
  const counts: Record<string, number[]> = Object.fromEntries(names.map((c) => [c, breakdown.points.map((p) => p.counts[c] ?? 0)]));
  const totals = names
    .map((category) => ({ category, total: counts[category]!.reduce((a, b) => a + b, 0) }))
    .filter((t) => t.total > 0)
    .sort((a, b) => b.total - a.total || a.category.localeCompare(b.category));
  const bottomUp = totals.map((t) => t.category);
  const cumulative: number[][] = [];
  let running = xs.map(() => 0);
  for (const c of bottomUp) {
    running = running.map((sum, i) => sum + counts[c]![i]!);
    cumulative.push(running);
  }
  return { categories: [...bottomUp].reverse(), data: [xs, ...cumulative.reverse()], counts, totals };
}
