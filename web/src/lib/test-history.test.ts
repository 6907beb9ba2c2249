import { describe, expect, it } from 'vitest';
import { makeResult } from '../testing/test-results-fixtures';
import { durationChart } from './test-history';

describe('a test’s durations as a chart', () => {
  it('puts results oldest first, passes and failures in their own series, skipped and untimed left out', () => {
    const chart = durationChart([
      makeResult({ createdAt: '2025-01-31T12:00:02.000Z', outcome: 'Failed', durationMs: 300 }),
      makeResult({ createdAt: '2025-01-31T12:00:01.000Z', outcome: 'Passed', durationMs: 100 }),
      makeResult({ createdAt: '2025-01-31T12:00:01.000Z', outcome: 'Passed', durationMs: 110 }),
      makeResult({ createdAt: '2025-01-31T12:00:00.000Z', outcome: 'Skipped', durationMs: 0 }),
      makeResult({ createdAt: '2025-01-31T11:00:00.000Z', outcome: 'Error', durationMs: null }),
    ]);
    expect(chart.points).toBe(3);
    const [xs, passed, failed] = chart.data;
    // Same second: nudged apart, as uPlot needs x to increase.
    expect(xs).toEqual([1738324801, 1738324801.001, 1738324802]);
    expect(passed).toEqual([100, 110, null]);
    expect(failed).toEqual([null, null, 300]);
  });
});
