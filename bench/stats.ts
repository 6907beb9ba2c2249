/** Small helpers for benchmark figures: percentiles over samples, rounded. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function summarize(samples: number[]) {
  return { n: samples.length, p50: round(percentile(samples, 50), 3), p95: round(percentile(samples, 95), 3), p99: round(percentile(samples, 99), 3) };
}
