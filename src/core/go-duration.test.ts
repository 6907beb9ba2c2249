import { describe, expect, it } from 'vitest';
import { formatGoDuration, humanDuration, parseGoDuration } from './go-duration.js';

describe('Go durations', () => {
  it('reads whole hours, minutes and seconds as Kubernetes users write them', () => {
    expect(parseGoDuration('90s')).toBe(90);
    expect(parseGoDuration('10m')).toBe(600);
    expect(parseGoDuration('1h30m')).toBe(5400);
    expect(parseGoDuration('1h0m5s')).toBe(3605);
    expect(parseGoDuration('1m90s')).toBe(150);
  });

  it('refuses what is not of that form', () => {
    for (const bad of ['', '10', '1.5h', '5m1h', '10 m', '-1s', '1d', '100ms', 'h']) expect(parseGoDuration(bad), bad).toBeNull();
  });

  it('writes seconds back in the shortest form', () => {
    expect([0, 45, 90, 600, 3600, 5405].map(formatGoDuration)).toEqual(['0s', '45s', '1m30s', '10m', '1h', '1h30m5s']);
    for (const s of [1, 59, 61, 3599, 86400]) expect(parseGoDuration(formatGoDuration(s))).toBe(s);
  });
});

describe('humanDuration', () => {
  it('is precise while short and coarser as it grows, as kubectl shows durations', () => {
    expect([850, 1400, 9999, 10_000, 85_000, 190_000, 3_600_000, 3_720_000].map(humanDuration)).toEqual(['850ms', '1.4s', '9.9s', '10s', '85s', '3m10s', '1h', '1h2m']);
  });
});
