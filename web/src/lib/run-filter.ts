/**
 * The Runs page's filters and their two spellings: the page URL (shareable,
 * survives reload) and the API query of `GET /api/runs`. The URL is the only
 * state: the page reads its filters from it and writes changes back to it.
 *
 * URL: `?phase=Failed,Error&origin=crd&app=shop&label=team=core&q=checkout&since=24h&category=Regression&category=Config%20Gap`
 * `since` is relative (`1h`, `24h`, `7d`, `30d`: "the last …", resolved when the
 * query runs) or an ISO time; `until` is an ISO time.
 */
import type { RunListItem, RunOrigin, RunPhase } from '../api/types';
import { RUN_ORIGINS, RUN_PHASES } from './domain';

export interface RunFilters {
  phase: RunPhase[];
  origin: RunOrigin[];
  app: string;
  /** `key=value` pairs; all must match. */
  labels: string[];
  /** Case-insensitive text in the run name. */
  q: string;
  /** A relative range (`24h`) or an ISO time; '' for no lower bound. */
  since: string;
  /** An ISO time; '' for no upper bound. */
  until: string;
  /** Only runs of this definition id. */
  definition: string;
  /** Failure categories (`category`, repeatable): runs with any of them. */
  category: string[];
}

export const EMPTY_FILTERS: RunFilters = { phase: [], origin: [], app: '', labels: [], q: '', since: '', until: '', definition: '', category: [] };

/** The relative ranges the page offers, in milliseconds. */
export const RELATIVE_RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type RelativeRange = keyof typeof RELATIVE_RANGES;

export const isRelativeRange = (value: string): value is RelativeRange => Object.hasOwn(RELATIVE_RANGES, value);

const isIsoTime = (value: string) => /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));

/** Values of a repeatable, comma-separable parameter, trimmed and de-duplicated. */
function listValues(params: URLSearchParams, key: string): string[] {
  const out: string[] = [];
  for (const raw of params.getAll(key)) {
    for (const v of raw.split(',')) {
      const t = v.trim();
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** Reads filters from a page URL's search params. Unknown phases/origins and malformed values are dropped. */
export function filtersFromSearch(params: URLSearchParams): RunFilters {
  const since = params.get('since')?.trim() ?? '';
  const until = params.get('until')?.trim() ?? '';
  return {
    // Kept in the canonical order of the domain lists, whatever order the URL had.
    phase: RUN_PHASES.filter((p) => listValues(params, 'phase').includes(p)),
    origin: RUN_ORIGINS.filter((o) => listValues(params, 'origin').includes(o)),
    app: params.get('app')?.trim() ?? '',
    labels: params.getAll('label').map((l) => l.trim()).filter((l, i, all) => l.indexOf('=') > 0 && all.indexOf(l) === i),
    q: params.get('q') ?? '',
    since: isRelativeRange(since) || isIsoTime(since) ? since : '',
    until: isIsoTime(until) ? until : '',
    definition: params.get('definition')?.trim() ?? '',
    // Repeated, not comma-separated: a category name may hold a comma.
    category: params.getAll('category').map((c) => c.trim()).filter((c, i, all) => c !== '' && all.indexOf(c) === i),
  };
}

/** Writes filters as page URL search params, leaving out empty ones, in a fixed order. */
export function filtersToSearch(filters: RunFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.phase.length) params.set('phase', filters.phase.join(','));
  if (filters.origin.length) params.set('origin', filters.origin.join(','));
  if (filters.app) params.set('app', filters.app);
  for (const label of filters.labels) params.append('label', label);
  if (filters.q) params.set('q', filters.q);
  if (filters.since) params.set('since', filters.since);
  if (filters.until) params.set('until', filters.until);
  if (filters.definition) params.set('definition', filters.definition);
  for (const category of filters.category) params.append('category', category);
  return params;
}

/** The ISO lower bound of `since` at time `now`; '' when there is none. */
export function resolveSince(since: string, now: Date): string {
  if (!since) return '';
  if (isRelativeRange(since)) return new Date(now.getTime() - RELATIVE_RANGES[since]).toISOString();
  return new Date(since).toISOString();
}

/** The `GET /api/runs` query for these filters (without `limit`/`cursor`). */
export function filtersToApiQuery(filters: RunFilters, now: Date): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.phase.length) params.set('phase', filters.phase.join(','));
  if (filters.origin.length) params.set('origin', filters.origin.join(','));
  if (filters.app) params.set('app', filters.app);
  for (const label of filters.labels) params.append('label', label);
  if (filters.q) params.set('q', filters.q);
  const since = resolveSince(filters.since, now);
  if (since) params.set('since', since);
  if (filters.until) params.set('until', new Date(filters.until).toISOString());
  if (filters.definition) params.set('definition', filters.definition);
  for (const category of filters.category) params.append('category', category);
  return params;
}

/** Whether a run (e.g. one refreshed by id) still belongs in a list with these filters. Mirrors the API's rules. */
export function matchesFilters(run: RunListItem, filters: RunFilters, now: Date): boolean {
  if (filters.phase.length && !filters.phase.includes(run.phase)) return false;
  if (filters.origin.length && !filters.origin.includes(run.origin)) return false;
  if (filters.app && run.appName !== filters.app) return false;
  for (const label of filters.labels) {
    const eq = label.indexOf('=');
    if (run.labels[label.slice(0, eq)] !== label.slice(eq + 1)) return false;
  }
  if (filters.q && !run.name.toLowerCase().includes(filters.q.toLowerCase())) return false;
  const since = resolveSince(filters.since, now);
  if (since && run.createdAt < since) return false;
  if (filters.until && run.createdAt >= new Date(filters.until).toISOString()) return false;
  if (filters.definition && (run.source.type !== 'definition' || run.source.definitionId !== filters.definition)) return false;
  if (filters.category.length && (run.category === null || !filters.category.includes(run.category))) return false;
  return true;
}

/** How many filters are set (a label counts once per pair). */
export function countFilters(filters: RunFilters): number {
  return (
    (filters.phase.length ? 1 : 0) +
    (filters.origin.length ? 1 : 0) +
    (filters.app ? 1 : 0) +
    filters.labels.length +
    (filters.q ? 1 : 0) +
    (filters.since ? 1 : 0) +
    (filters.until ? 1 : 0) +
    (filters.definition ? 1 : 0) +
    (filters.category.length ? 1 : 0)
  );
}

/** The filters with one value of a list toggled. */
export function toggle<T extends string>(values: readonly T[], value: T, order: readonly T[]): T[] {
  const next = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
  return order.filter((v) => next.includes(v));
}
