/**
 * How long finished runs and their log lines are kept (issue 12 §6). Runs that are
 * Queued or Running are never touched; a finished run's age counts from `finishedAt`.
 *
 * - `days`: a finished run (with its steps, assertions, logs and test results) is
 *   deleted this many days after it finished. Null: runs are kept forever.
 * - `overrides`: runs with a label keep longer (`env=prod:90`, `release=true:forever`).
 *   A run's retention is the longest that applies to it: the default, or any override
 *   whose label it carries. So an override only ever keeps runs longer.
 * - `logDays`: a finished run's log lines are deleted this many days after it finished;
 *   the run, its steps, assertions and test results stay, and the run says when its
 *   logs expired (`Run.logsExpiredAt`). Null: logs live as long as their run.
 */
export interface RetentionPolicy {
  days: number | null;
  logDays: number | null;
  overrides: RetentionOverride[];
}

/** Runs whose label `label` has the value `value` are kept `days` days after they finished (null: forever). */
export interface RetentionOverride {
  label: string;
  value: string;
  days: number | null;
}

/** No retention: everything is kept forever (the default). */
export const KEEP_FOREVER: RetentionPolicy = { days: null, logDays: null, overrides: [] };

/** The most days a retention may say (100 years); more is a typo. */
export const MAX_RETENTION_DAYS = 36_500;

/** True when the policy deletes anything at all. */
export function retentionEnabled(policy: RetentionPolicy): boolean {
  return policy.days !== null || policy.logDays !== null;
}

/** `label=value:days`, days an integer or `forever`. The label key follows Kubernetes (an optional DNS prefix, then a name). */
const OVERRIDE = /^([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)=([^:=]*):([^:]*)$/;

/**
 * Parses overrides as `topas up --retention env=prod:90` (one each) or
 * `TOPAS_RETENTION_OVERRIDES="env=prod:90,release=true:forever"` (a comma list) write
 * them. Returns the overrides and one message per bad item (saying what a good one looks like).
 */
export function parseRetentionOverrides(items: readonly string[]): { overrides: RetentionOverride[]; errors: string[] } {
  const overrides: RetentionOverride[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    const m = OVERRIDE.exec(item);
    if (!m) {
      errors.push(`${JSON.stringify(raw)} is not label=value:days (e.g. env=prod:90, or release=true:forever to keep those runs)`);
      continue;
    }
    const [, label, , value, daysText] = m as unknown as [string, string, string | undefined, string, string];
    let days: number | null;
    if (daysText.trim().toLowerCase() === 'forever') days = null;
    else {
      days = Number(daysText);
      if (daysText.trim() === '' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
        errors.push(`${JSON.stringify(raw)}: days must be an integer from 1 to ${MAX_RETENTION_DAYS} or "forever", got ${JSON.stringify(daysText)}`);
        continue;
      }
    }
    const key = `${label}=${value}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push(`${JSON.stringify(raw)}: ${key} is already given (${JSON.stringify(earlier)}); give each label=value once`);
      continue;
    }
    seen.set(key, raw);
    overrides.push({ label, value, days });
  }
  return { overrides, errors };
}

/** The cut-off instants of a policy at `now`, as the store's retention methods take them. */
export interface RetentionCutoffs {
  /** Finished runs that finished before this (ISO-8601) are deleted, unless an override keeps them; null: none. */
  runsBefore: string | null;
  /** The overrides with their own cut-offs (null: kept forever). */
  overrides: { label: string; value: string; before: string | null }[];
  /** Log lines of runs that finished before this are deleted; null: none. */
  logsBefore: string | null;
}

const DAY_MS = 86_400_000;

export function retentionCutoffs(policy: RetentionPolicy, now: Date): RetentionCutoffs {
  const before = (days: number | null) => (days === null ? null : new Date(now.getTime() - days * DAY_MS).toISOString());
  return {
    runsBefore: before(policy.days),
    overrides: policy.overrides.map((o) => ({ label: o.label, value: o.value, before: before(o.days) })),
    logsBefore: before(policy.logDays),
  };
}

/** `30 days`, `forever`: how a retention reads in messages. */
export function describeDays(days: number | null): string {
  return days === null ? 'forever' : `${days} day${days === 1 ? '' : 's'}`;
}
