/**
 * Insights trends as chart series: uPlot takes columns (x values, then one array
 * per series), x in seconds. Runs per bucket are drawn as stacked bars: each bar
 * series is the running total up to its phase, drawn tallest first so the shorter
 * ones paint over it; the legend shows each phase's own count.
 */
import type { TerminalPhase, Trends } from '../api/types';

/** Bottom to top of a stacked bar. */
export const STACK_ORDER: readonly TerminalPhase[] = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];

export const OVERVIEW_RANGES = {
  '24h': { ms: 86_400_000, bucket: 'hour', label: 'Last 24 hours' },
  '7d': { ms: 7 * 86_400_000, bucket: 'day', label: 'Last 7 days' },
  '30d': { ms: 30 * 86_400_000, bucket: 'day', label: 'Last 30 days' },
  '90d': { ms: 90 * 86_400_000, bucket: 'day', label: 'Last 90 days' },
} as const;
export type OverviewRange = keyof typeof OVERVIEW_RANGES;

export const isOverviewRange = (v: string | null): v is OverviewRange => v !== null && Object.hasOwn(OVERVIEW_RANGES, v);

/**
 * The query window of a range at `now`: `to` is the end of the current bucket, so
 * the window and the buckets line up and a refetch within the same bucket asks the same question.
 */
export function rangeWindow(range: OverviewRange, now: Date): { from: string; to: string; bucket: 'hour' | 'day' } {
  const { ms, bucket } = OVERVIEW_RANGES[range];
  const step = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const to = Math.ceil((now.getTime() + 1) / step) * step;
  return { from: new Date(to - ms).toISOString(), to: new Date(to).toISOString(), bucket };
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function passRateSeries(trends: Trends): [number[], (number | null)[]] {
  return [trends.points.map((p) => seconds(p.start)), trends.points.map((p) => (p.passRate === null ? null : p.passRate * 100))];
}

export function durationSeries(trends: Trends): [number[], (number | null)[], (number | null)[]] {
  return [trends.points.map((p) => seconds(p.start)), trends.points.map((p) => p.p50Ms), trends.points.map((p) => p.p95Ms)];
}

export interface StackedSeries {
  /** Phases in drawing order (top of the stack first). */
  phases: TerminalPhase[];
  /** [x, running total for phases[0], for phases[1], …]. */
  data: [number[], ...number[][]];
  /** Each phase's own count per bucket, for the legend. */
  counts: Record<TerminalPhase, number[]>;
}

export function stackedByPhase(trends: Trends): StackedSeries {
  const xs = trends.points.map((p) => seconds(p.start));
  const counts = Object.fromEntries(STACK_ORDER.map((phase) => [phase, trends.points.map((p) => p.byPhase[phase] ?? 0)])) as Record<TerminalPhase, number[]>;
  const cumulative: number[][] = [];
  let running = trends.points.map(() => 0);
  for (const phase of STACK_ORDER) {
    running = running.map((sum, i) => sum + counts[phase][i]!);
    cumulative.push(running);
  }
  return { phases: [...STACK_ORDER].reverse(), data: [xs, ...cumulative.reverse()], counts };
}

/** Whether the window holds any finished run at all (else the page shows an empty state instead of flat charts). */
export const hasRuns = (trends: Trends): boolean => trends.points.some((p) => p.total > 0);
