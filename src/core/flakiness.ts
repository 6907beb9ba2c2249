/**
 * Flakiness from a test's outcome letters (newest first, `P` `F` `E` `S`), the
 * ReportPortal rule: a test is flaky when its outcome flipped Passed↔(Failed|Error)
 * at least twice in its last N outcomes. Skipped outcomes are ignored; Failed and
 * Error count as one "not passed". The SQL filter (`flakySql`) computes the same.
 */

/** The last `window` letters, Skipped dropped, Error folded into Failed. */
function judged(recent: string, window: number): string {
  return recent.slice(0, window).replace(/S/g, '').replace(/E/g, 'F');
}

/** Flips between consecutive judged outcomes in the window. */
export function flipsOf(recent: string, window: number): number {
  const s = judged(recent, window);
  let flips = 0;
  for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]) flips++;
  return flips;
}

/** flips / (outcomes − 1) over the window; 0 with fewer than two outcomes. */
export function flakinessOf(recent: string, window: number): number {
  const n = judged(recent, window).length;
  return n < 2 ? 0 : flipsOf(recent, window) / (n - 1);
}

/** Passed / (Passed + Failed + Error) over the window; null when there is none. */
export function passRateOf(recent: string, window: number): number | null {
  const s = judged(recent, window);
  if (s.length === 0) return null;
  return [...s].filter((c) => c === 'P').length / s.length;
}

/** Flipped at least twice in the window. */
export function flippedTwice(recent: string, window: number): boolean {
  return flipsOf(recent, window) >= 2;
}

/** A nearest-rank percentile (p in 0..1) of the values; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * The SQL twin of `flippedTwice` over a `recent` column (the window bound as `$n`):
 * collapsing repeated letters leaves one letter per streak, flips = streaks − 1.
 */
export function flippedTwiceSql(column: string, windowParam: string): string {
  return `length(regexp_replace(translate(replace(left(${column}, ${windowParam}::int), 'S', ''), 'E', 'F'), '(.)\\1+', '\\1', 'g')) >= 3`;
}
