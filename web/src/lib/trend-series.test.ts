import { describe, expect, it } from 'vitest';
import type { Trends } from '../api/types';
import { durationSeries, hasRuns, passRateSeries, rangeWindow, stackedByPhase } from './trend-series';

const trends: Trends = {
  bucket: 'day',
  from: '2025-01-30T00:00:00.000Z',
  to: '2025-02-01T00:00:00.000Z',
  points: [
    { start: '2025-01-30T00:00:00.000Z', total: 10, byPhase: { Passed: 7, Failed: 2, Error: 1, TimedOut: 0, Cancelled: 0 }, passRate: 0.7, p50Ms: 100, p95Ms: 900 },
    { start: '2025-01-31T00:00:00.000Z', total: 0, byPhase: { Passed: 0, Failed: 0, Error: 0, TimedOut: 0, Cancelled: 0 }, passRate: null, p50Ms: null, p95Ms: null },
  ],
};

describe('trend series', () => {
  it('stacks runs per bucket by phase, tallest first', () => {
    const s = stackedByPhase(trends);
    expect(s.phases).toEqual(['Cancelled', 'TimedOut', 'Error', 'Failed', 'Passed']);
    expect(s.data).toEqual([[1738195200, 1738281600], [10, 0], [10, 0], [10, 0], [9, 0], [7, 0]]);
    expect(s.counts.Failed).toEqual([2, 0]);
  });
  it('keeps empty buckets as gaps in rate and duration lines', () => {
    expect(passRateSeries(trends)).toEqual([[1738195200, 1738281600], [70, null]]);
    expect(durationSeries(trends)[2]).toEqual([900, null]);
    expect(hasRuns(trends)).toBe(true);
    expect(hasRuns({ ...trends, points: [trends.points[1]!] })).toBe(false);
  });
  it('aligns the window to whole buckets', () => {
    expect(rangeWindow('24h', new Date('2025-01-31T10:30:00Z'))).toEqual({ from: '2025-01-30T11:00:00.000Z', to: '2025-01-31T11:00:00.000Z', bucket: 'hour' });
    expect(rangeWindow('7d', new Date('2025-01-31T10:30:00Z'))).toEqual({ from: '2025-01-25T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z', bucket: 'day' });
  });
});
