/**
 * Durations as Kubernetes users write them (`90s`, `10m`, `1h30m`): the subset of
 * Go's `time.ParseDuration` that fits a timeout in whole seconds — whole numbers of
 * hours, minutes and seconds, each at most once and in that order. The pattern is also
 * the CRD's, so the API server refuses what topas would.
 */

/** The accepted form (RE2-compatible: the CRD's `pattern`). */
export const GO_DURATION_PATTERN = '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$';
const GO_DURATION = new RegExp(GO_DURATION_PATTERN);

/** Whole seconds of `text`, or null when it is not of the accepted form (`""`, `1.5h`, `10`, `5m1h`). */
export function parseGoDuration(text: string): number | null {
  if (text === '') return null;
  const m = GO_DURATION.exec(text);
  if (!m) return null;
  const n = (part: string | undefined) => (part ? Number(part.slice(0, -1)) : 0);
  const seconds = n(m[1]) * 3600 + n(m[2]) * 60 + n(m[3]);
  return Number.isSafeInteger(seconds) ? seconds : null;
}

/** Seconds as the shortest Go duration (`90` → `1m30s`, `3600` → `1h`, `0` → `0s`). */
export function formatGoDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return out || '0s';
}

/**
 * A run's duration as `kubectl get` shows durations: `850ms`, `4.2s`, `85s`, `3m10s`,
 * `1h2m` — precise while short, coarser as it grows.
 */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}
