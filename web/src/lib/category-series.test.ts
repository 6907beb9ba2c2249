import { describe, expect, it } from 'vitest';
import { stackByCategory } from './category-series';

describe('failures by category as stacked bars', () => {
  it('stacks the biggest category at the bottom and keeps each one’s own count', () => {
    const stack = stackByCategory({
      categories: ['Regression', 'Config Gap', 'Platform Issue'],
      points: [
        { start: '2025-01-30T00:00:00.000Z', counts: { Regression: 1, 'Config Gap': 2 } },
        { start: '2025-01-31T00:00:00.000Z', counts: { Regression: 3 } },
      ],
    });
    expect(stack.totals).toEqual([
      { category: 'Regression', total: 4 },
      { category: 'Config Gap', total: 2 },
    ]);
    // Drawn top first: Config Gap's bar is the running total (Regression + Config Gap).
    expect(stack.categories).toEqual(['Config Gap', 'Regression']);
    expect(stack.data).toEqual([
      [1738195200, 1738281600],
      [3, 3],
      [1, 3],
    ]);
    expect(stack.counts['Config Gap']).toEqual([2, 0]);
  });

  it('has no series when nothing failed', () => {
    const stack = stackByCategory({ categories: ['Regression'], points: [{ start: '2025-01-30T00:00:00.000Z', counts: {} }] });
    expect(stack.totals).toEqual([]);
    expect(stack.data).toEqual([[1738195200]]);
  });
});
