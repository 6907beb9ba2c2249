/**
 * Applying fresh copies of runs to a list already on screen (the Runs page polls
 * its first page and re-reads the active runs it shows). Runs are replaced by id;
 * a copy that is behind the one shown (a phase earlier in the state machine) is
 * stale and dropped, so a slow answer never moves a finished run back to Running.
 */
import type { RunListItem, RunPhase } from '../api/types';
import { isTerminal } from './domain';

/** How far along the state machine a phase is: Queued < Running < terminal. */
export function phaseRank(phase: RunPhase): number {
  if (phase === 'Queued') return 0;
  if (phase === 'Running') return 1;
  return isTerminal(phase) ? 2 : 0;
}

/** Newest first: by createdAt, then by id (UUIDv7, time-ordered) for runs created in the same millisecond. */
export function compareNewestFirst(a: RunListItem, b: RunListItem): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export interface MergeOptions {
  /** Ids to remove (e.g. runs that no longer match the filters). */
  remove?: Iterable<string>;
}

/**
 * `current` with `incoming` applied: new runs inserted in order, known runs replaced
 * unless the incoming copy is stale. Returns `current` itself when nothing changed,
 * so React can skip the render.
 */
export function mergeRuns(current: readonly RunListItem[], incoming: readonly RunListItem[], options: MergeOptions = {}): RunListItem[] {
  const remove = new Set(options.remove ?? []);
  const byId = new Map<string, RunListItem>();
  for (const run of current) if (!remove.has(run.id)) byId.set(run.id, run);
  let changed = byId.size !== current.length;
  for (const run of incoming) {
    if (remove.has(run.id)) continue;
    const known = byId.get(run.id);
    if (known && (phaseRank(run.phase) < phaseRank(known.phase) || sameRun(known, run))) continue;
    byId.set(run.id, run);
    changed = true;
  }
  if (!changed) return current as RunListItem[];
  return [...byId.values()].sort(compareNewestFirst);
}

/** The fields a list row shows; equal ones need no re-render. */
function sameRun(a: RunListItem, b: RunListItem): boolean {
  return (
    a.phase === b.phase &&
    a.finishedAt === b.finishedAt &&
    a.startedAt === b.startedAt &&
    a.durationMs === b.durationMs &&
    a.summary.stepsPassed === b.summary.stepsPassed &&
    a.summary.stepsFailed === b.summary.stepsFailed &&
    a.summary.assertionsPassed === b.summary.assertionsPassed &&
    a.summary.assertionsFailed === b.summary.assertionsFailed
  );
}

/** Runs shown that are still Queued or Running but were not in the latest first page: they need a refresh by id. */
export function staleActiveIds(shown: readonly RunListItem[], freshIds: ReadonlySet<string>, max: number): string[] {
  const out: string[] = [];
  for (const run of shown) {
    if (out.length >= max) break;
    if (!isTerminal(run.phase) && !freshIds.has(run.id)) out.push(run.id);
  }
  return out;
}
