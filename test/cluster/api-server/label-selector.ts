/**
 * A `metav1.LabelSelector` object (`matchLabels` + `matchExpressions`) applied to
 * labels, as controllers and workload validation use it (the `?labelSelector=`
 * query string has its own parser in `selectors.ts`).
 */
import type { JsonObject } from './errors.js';

/** Whether `labels` match `selector`; an empty selector matches everything, a missing one nothing. */
export function matchesLabelSelector(selector: JsonObject | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries<string>(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as JsonObject[]) {
    const values: string[] = e.values ?? [];
    const present = Object.hasOwn(have, e.key);
    switch (e.operator) {
      case 'In':
        if (!present || !values.includes(have[e.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[e.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Whether a selector selects nothing at all (`{}` is "everything" for most kinds, but workloads reject it). */
export function isEmptySelector(selector: JsonObject | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}
