/**
 * `metav1.Condition` lists, changed as apimachinery's `meta.SetStatusCondition` does:
 * one condition per type; `lastTransitionTime` moves only when the status changes, so
 * it says since when a condition has been what it is.
 */
import type { Condition } from '../../core/testrun.js';

/** A condition to set; `lastTransitionTime` defaults to `now`. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** `conditions` with `update` applied (a new list; the input is not changed). */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === update.type);
  const existing = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    existing && existing.status === update.status ? existing.lastTransitionTime : (update.lastTransitionTime ?? now.toISOString());
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime,
    reason: update.reason,
    message: update.message,
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** The condition of that type, if any. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** A condition is met only when it is present with status `True`. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
