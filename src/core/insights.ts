/**
 * Trends and top lists over finished runs: what the dashboard charts. A run
 * counts in the bucket of its creation time (the time run lists filter by), once
 * it has finished. The store computes them in SQL; this file holds their shapes
 * and the bucket arithmetic.
 */
import { ValidationError } from './errors.js';
import type { RunPhase } from './run-phase.js';

/** The phases a finished run can have. */
export const FINISHED_PHASES = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'] as const satisfies readonly RunPhase[];
export type FinishedPhase = (typeof FINISHED_PHASES)[number];

/** The phases that count as a failure in top lists. */
export const FAILING_PHASES = ['Failed', 'Error', 'TimedOut'] as const satisfies readonly FinishedPhase[];

export const TREND_BUCKETS = ['hour', 'day'] as const;
export type TrendBucket = (typeof TREND_BUCKETS)[number];

export const BUCKET_MS: Record<TrendBucket, number> = { hour: 3_600_000, day: 86_400_000 };

/** A trend has at most this many points. */
export const MAX_TREND_BUCKETS = 400;

/** Which finished runs trends and top lists look at; all optional, ANDed. */
export interface InsightsFilter {
  definitionId?: string;
  appName?: string;
  /** label key → value; every pair must match. */
  labels?: Record<string, string>;
}

/** A time range [from, to) as ISO timestamps. */
export interface TimeRange {
  from: string;
  to: string;
}

export interface TrendsRequest extends TimeRange, InsightsFilter {
  bucket: TrendBucket;
}

/** Finished runs created in [start, start + bucket). */
export interface TrendPoint {
  start: string;
  total: number;
  byPhase: Record<FinishedPhase, number>;
  /** Passed / (total − Cancelled); null when no run ran to an end. */
  passRate: number | null;
  /** Median and 95th percentile of `durationMs` over the runs that were not Cancelled; null when none. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Trends {
  bucket: TrendBucket;
  from: string;
  to: string;
  /** One per bucket from `from` to `to`, empty ones included, oldest first. */
  points: TrendPoint[];
}

export interface TopRequest extends TimeRange, Omit<InsightsFilter, 'definitionId'> {
  /** Entries per list. */
  limit: number;
}

/**
 * A test in a top list: runs of one definition, or, for runs without a definition,
 * of one name.
 */
export interface TopTest {
  /** The definition's name (or its runs' name once it is deleted); the runs' name without a definition. */
  name: string;
  definitionId: string | null;
  /** Finished runs in the range. */
  runs: number;
}

export interface FailingTest extends TopTest {
  /** Runs that ended Failed, Error or TimedOut. */
  failed: number;
  /** failed / (runs − Cancelled). */
  failRate: number;
  /** The most recently created of the failed runs, and when it finished. */
  lastFailedRunId: string;
  lastFailedAt: string;
}

export interface SlowTest extends TopTest {
  /** Over the runs that were not Cancelled. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The run that took `maxMs`. */
  slowestRunId: string;
}

export interface TopLists {
  /** Most failures first (then the higher fail rate). */
  mostFailing: FailingTest[];
  /** Highest p95 duration first (then the higher p50). */
  slowest: SlowTest[];
}

/** The start of every bucket of a trend, oldest first: `from`, `from + bucket`, … before `to`. */
export function bucketStarts(range: TimeRange, bucket: TrendBucket): string[] {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const starts: string[] = [];
  for (let t = from; t < to; t += BUCKET_MS[bucket]) starts.push(new Date(t).toISOString());
  return starts;
}

/** The default range: the last 14 whole UTC days, today included. */
export function defaultRange(now: Date = new Date()): TimeRange {
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return { from: new Date(tomorrow - 14 * BUCKET_MS.day).toISOString(), to: new Date(tomorrow).toISOString() };
}

/**
 * Completes a requested range with the defaults (a missing `to` is the end of
 * today, a missing `from` 14 days before `to`) and checks it. Throws a
 * ValidationError naming the field.
 */
export function resolveRange(requested: Partial<TimeRange>, bucket: TrendBucket | null, now: Date = new Date()): TimeRange {
  const to = requested.to ?? defaultRange(now).to;
  const from = requested.from ?? new Date(Date.parse(to) - 14 * BUCKET_MS.day).toISOString();
  if (Date.parse(from) >= Date.parse(to)) {
    throw new ValidationError([{ field: 'from', message: `must be before to (${to}), got ${from}` }]);
  }
  if (bucket) {
    const buckets = Math.ceil((Date.parse(to) - Date.parse(from)) / BUCKET_MS[bucket]);
    if (buckets > MAX_TREND_BUCKETS) {
      throw new ValidationError([
        {
          field: 'bucket',
          message: `the range ${from} to ${to} holds ${buckets} ${bucket} buckets, at most ${MAX_TREND_BUCKETS} are allowed; use ${bucket === 'hour' ? 'bucket=day or ' : ''}a shorter range`,
        },
      ]);
    }
  }
  return { from, to };
}
