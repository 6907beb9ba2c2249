import { describe, expect, it } from 'vitest';
import { flakinessOf, flippedTwice, flipsOf, passRateOf, percentile } from './flakiness.js';

describe('flakiness of outcome letters (newest first)', () => {
  it('counts flips between passing and failing, Error as failing, Skipped ignored', () => {
    expect(flipsOf('PFPFPF', 30)).toBe(5);
    expect(flipsOf('PPPFFF', 30)).toBe(1);
    expect(flipsOf('PEF', 30)).toBe(1);
    expect(flipsOf('PSSSF', 30)).toBe(1);
    expect(flippedTwice('PFP', 30)).toBe(true);
    expect(flippedTwice('PFFFF', 30)).toBe(false);
  });

  it('judges only the window', () => {
    expect(flippedTwice('PPPPPFPF', 5)).toBe(false);
    expect(flippedTwice('PPPPPFPF', 8)).toBe(true);
  });

  it('rates: flakiness = flips / (outcomes − 1), pass rate = passed / judged', () => {
    expect(flakinessOf('PFPF', 30)).toBe(1);
    expect(flakinessOf('P', 30)).toBe(0);
    expect(flakinessOf('PPFF', 30)).toBeCloseTo(1 / 3);
    expect(passRateOf('PFSE', 30)).toBeCloseTo(1 / 3);
    expect(passRateOf('SS', 30)).toBeNull();
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([30, 10, 20], 0.5)).toBe(20);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
  });
});
