/** How numbers, times and durations read on the dashboard. */
import type { LocationLike } from '../api/types';

/** `850 ms`, `1.2 s`, `3 m 05 s`, `1 h 02 m`; `—` for null. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 2 : 1).replace(/\.?0+$/, '')} s`;
  const totalSeconds = Math.round(abs / 1000);
  if (totalSeconds < 3600) return `${sign}${Math.floor(totalSeconds / 60)} m ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(totalSeconds / 60);
  return `${sign}${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** A change in duration with its sign: `+1.2 s`, `-850 ms`, `±0 ms`. */
export function formatDurationChange(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '±0 ms';
  return ms > 0 ? `+${formatDuration(ms)}` : formatDuration(ms);
}

/** `3 s ago`, `5 min ago`, `2 h ago`, `4 d ago`; future times read `in …`. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '—';
  const diff = now - Date.parse(iso);
  if (!Number.isFinite(diff)) return '—';
  const abs = Math.abs(diff);
  const [n, unit] =
    abs < 45_000 ? [Math.max(1, Math.round(abs / 1000)), 's'] :
    abs < 3_600_000 ? [Math.round(abs / 60_000), 'min'] :
    abs < 86_400_000 ? [Math.round(abs / 3_600_000), 'h'] :
    [Math.round(abs / 86_400_000), 'd'];
  if (abs < 1500) return 'just now';
  return diff >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** Local date and time with seconds, e.g. `2025-01-31 14:05:09`. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Local time of day with milliseconds, for log lines: `14:05:09.123`. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A 0..1 ratio as a percentage: `92.5%`; `—` for null. */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(digits).replace(/\.0+$/, '')}%`;
}

const integer = new Intl.NumberFormat('en-US');
/** `1,000,000`. */
export const formatCount = (n: number): string => integer.format(n);

/** `file.lua:12`, from either spelling of a location; null when unknown. */
export function formatLocation(location: LocationLike): string | null {
  if (!location) return null;
  if (typeof location === 'string') return location || null;
  if (!location.file) return null;
  return location.line ? `${location.file}:${location.line}` : location.file;
}

/** `file.lua:12` from a record's `file`/`line` columns. */
export const locationOf = (record: { file: string | null; line: number | null }): string | null => formatLocation(record);

/** The first 8 characters of a UUID, enough to tell runs apart on screen. */
export const shortId = (id: string): string => id.slice(0, 8);

/** A message followed by its `file:line`, unless the message already says where (Lua errors start with it). */
export function withLocation(message: string, location: string | null): string {
  return location && !message.includes(location) ? `${message} (${location})` : message;
}
