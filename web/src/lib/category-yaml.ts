/**
 * The category rules as the dashboard edits them: YAML text in the shape of
 * `categories.yaml` (`rules:` then the ordered list). The server validates the
 * rules (its 400 names the field, e.g. `rules.3.match.message.0.regex`); here we
 * only turn text into a list and back, and move rules around in it.
 */
import { parse, stringify } from 'yaml';
import type { CategoryRule } from '../api/types';

export function rulesToYaml(rules: readonly CategoryRule[]): string {
  return stringify({ rules }, { lineWidth: 0 });
}

/** The rules in the text, or the problem with it (said with its line). */
export function yamlToRules(text: string): { rules: CategoryRule[] } | { error: string } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return { error: `The YAML does not parse: ${(error as Error).message}` };
  }
  const rules = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as { rules?: unknown }).rules : undefined;
  if (doc === null || doc === undefined) return { rules: [] };
  if (!Array.isArray(rules)) return { error: 'Write the rules as a list under `rules:` (as in categories.yaml).' };
  return { rules: rules as CategoryRule[] };
}

/** The rules with the one at `index` moved by `by` places (kept inside the list). */
export function moveRule<T>(rules: readonly T[], index: number, by: number): T[] {
  const to = Math.max(0, Math.min(rules.length - 1, index + by));
  const next = [...rules];
  const [rule] = next.splice(index, 1);
  next.splice(to, 0, rule!);
  return next;
}

/** A starting point for a new rule. */
export const NEW_RULE: CategoryRule = { name: 'new-rule', category: 'Config Gap', match: { message: ['text in the failure message'] } };

/** One line per matcher field, for the rule list: `message ~ /timeout/, "refused"`. */
export function describeMatch(rule: CategoryRule): string[] {
  const text = (m: unknown) => (typeof m === 'string' ? JSON.stringify(m) : m && typeof m === 'object' && 'regex' in m ? `/${(m as { regex: string }).regex}/` : String(m));
  const out: string[] = [];
  for (const [field, value] of Object.entries(rule.match ?? {})) {
    if (field === 'labels' && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, ms] of Object.entries(value as Record<string, unknown[]>)) out.push(`label ${key} ~ ${(Array.isArray(ms) ? ms : [ms]).map(text).join(', ')}`);
    } else {
      out.push(`${field} ~ ${(Array.isArray(value) ? value : [value]).map(text).join(', ')}`);
    }
  }
  return out;
}
