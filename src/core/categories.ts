/**
 * Failure categories: ordered rules that say what kind of failure a failed test case
 * (or run) is, so a team looks at real regressions first and known gaps last (the
 * Streamstress table). The first rule whose every matcher matches wins; a failure no
 * rule matches is a `Regression`.
 */
import { z } from 'zod';

/** The category of a failure that no rule matches: the one to look at first. */
export const DEFAULT_CATEGORY = 'Regression';

/**
 * A matcher on one text: a plain string matches as a case-insensitive substring;
 * `{ regex }` as a JavaScript regular expression (flags `i` unless `caseSensitive`).
 */
export const TextMatcherSchema = z.union([
  z.string().min(1).max(1000),
  z
    .object({
      regex: z
        .string()
        .min(1)
        .max(1000)
        .refine((source) => {
          try {
            new RegExp(source);
            return true;
          } catch {
            return false;
          }
        }, 'is not a valid regular expression'),
      caseSensitive: z.boolean().optional(),
    })
    .strict(),
]);
export type TextMatcher = z.infer<typeof TextMatcherSchema>;

/** What a rule looks at. Every matcher given must match; `anyOf` lists alternatives for one field. */
export const RuleMatchSchema = z
  .object({
    /** The test case's key or name (`smoke.lua::login / bad password`). */
    test: z.array(TextMatcherSchema).min(1).max(50).optional(),
    /** The failure message (and its detail: expected/actual, location). */
    message: z.array(TextMatcherSchema).min(1).max(50).optional(),
    /** The log lines of the test case (or of the run, for the run itself). */
    log: z.array(TextMatcherSchema).min(1).max(50).optional(),
    /** The definition's name, else the script's file (the case's classname). */
    definition: z.array(TextMatcherSchema).min(1).max(50).optional(),
    /** The run's App. */
    app: z.array(TextMatcherSchema).min(1).max(50).optional(),
    /** Label key → matchers on its value; a label the run lacks never matches. */
    labels: z.record(z.string().min(1).max(317), z.array(TextMatcherSchema).min(1).max(50)).optional(),
  })
  .strict();

/** One rule: a name, the category it gives, and what it matches (each field: any of its matchers). */
export const CategoryRuleSchema = z
  .object({
    name: z.string().min(1).max(200),
    category: z.string().min(1).max(100),
    match: RuleMatchSchema.refine((m) => Object.keys(m).length > 0, 'needs at least one matcher'),
  })
  .strict();
export type CategoryRule = z.infer<typeof CategoryRuleSchema>;

/** The rule list, as in `categories.yaml` and `PUT /api/categories`. Rule names are unique. */
export const CategoryRulesSchema = z
  .object({
    rules: z
      .array(CategoryRuleSchema)
      .max(500)
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        rules.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicates rule "${r.name}"` });
          seen.add(r.name);
        });
      }),
  })
  .strict();
export type CategoryRules = z.infer<typeof CategoryRulesSchema>;

/** What a failure is judged on. */
export interface FailureSubject {
  testKey: string;
  testName: string;
  message: string;
  log: string;
  /** The case's classname (the definition's name, else the script's file). */
  definition: string;
  app: string | null;
  labels: Record<string, string>;
}

/** A failure's category and the rule that gave it (null: no rule matched). */
export interface Categorization {
  category: string;
  rule: string | null;
}

/** The rules topas ships, after the Streamstress table. Teams replace them (`categories.yaml`, `PUT /api/categories`). */
export const DEFAULT_CATEGORY_RULES: CategoryRules = {
  rules: [
    // First: an upgrade test whose setup is missing is not a missing component of the product.
    {
      name: 'upgrade-prerequisite',
      category: 'Upgrade Prerequisite',
      match: { test: ['upgrade'], message: [{ regex: '\\b(namespace|setup|prerequisite|not (yet )?migrated|schema version)\\b' }] },
    },
    {
      name: 'missing-component',
      category: 'Missing Component',
      match: {
        message: [
          { regex: '(no such host|ENOTFOUND|ECONNREFUSED|connection refused|not deployed|unknown (service|component)|App "[^"]+" (does not exist|has no service))' },
          { regex: '\\bnamespace( "[^"]+")? not found\\b' },
          { regex: '\\b(is not installed|not found in (the )?cluster|the server could not find the requested resource)\\b' },
        ],
      },
    },
    {
      name: 'platform-issue',
      category: 'Platform Issue',
      match: {
        message: [
          { regex: '\\b(uid_map|OOMKilled|Evicted|ImagePullBackOff|ErrImagePull|node pressure|no space left on device|too many open files)\\b' },
        ],
      },
    },
    {
      name: 'config-gap',
      category: 'Config Gap',
      match: {
        message: [
          { regex: '\\b(401|403|unauthori[sz]ed|forbidden|permission denied|missing (secret|credentials?|env(ironment)? variable)|secret "[^"]+" not found)\\b' },
        ],
      },
    },
  ],
};

function compile(m: TextMatcher): (text: string) => boolean {
  if (typeof m === 'string') {
    const needle = m.toLowerCase();
    return (text) => text.toLowerCase().includes(needle);
  }
  const re = new RegExp(m.regex, m.caseSensitive ? '' : 'i');
  return (text) => re.test(text);
}

function anyOf(matchers: readonly TextMatcher[]): (text: string) => boolean {
  const tests = matchers.map(compile);
  return (text) => tests.some((t) => t(text));
}

/** A rule list compiled once, to judge many failures. */
export type Categorizer = (subject: FailureSubject) => Categorization;

/** Compiles ordered rules into a function: the first rule whose every matcher matches wins, else `Regression`. */
export function categorizer(rules: CategoryRules): Categorizer {
  const compiled = rules.rules.map((rule) => {
    const m = rule.match;
    const checks: ((s: FailureSubject) => boolean)[] = [];
    if (m.test) {
      const t = anyOf(m.test);
      checks.push((s) => t(s.testKey) || t(s.testName));
    }
    if (m.message) {
      const t = anyOf(m.message);
      checks.push((s) => t(s.message));
    }
    if (m.log) {
      const t = anyOf(m.log);
      checks.push((s) => t(s.log));
    }
    if (m.definition) {
      const t = anyOf(m.definition);
      checks.push((s) => t(s.definition));
    }
    if (m.app) {
      const t = anyOf(m.app);
      checks.push((s) => s.app !== null && t(s.app));
    }
    for (const [key, matchers] of Object.entries(m.labels ?? {})) {
      const t = anyOf(matchers);
      checks.push((s) => s.labels[key] !== undefined && t(s.labels[key]));
    }
    return { rule, checks };
  });
  return (subject) => {
    for (const { rule, checks } of compiled) if (checks.every((c) => c(subject))) return { category: rule.category, rule: rule.name };
    return { category: DEFAULT_CATEGORY, rule: null };
  };
}

/** The text `message` matchers see: the failure's message, then its detail (expected/actual, location) when that adds something. */
export function failureText(message: string | null, detail: string | null): string {
  const m = message ?? '';
  if (!detail || detail === m) return m;
  return detail.startsWith(m) ? detail : `${m}\n${detail}`;
}

/** Whether two rule lists say the same (key order aside: stored JSON may reorder keys). */
export function sameRules(a: readonly CategoryRule[], b: readonly CategoryRule[]): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A re-categorization, as `GET /api/categories/apply/{id}` shows it. */
export interface CategoryApplyJob {
  id: string;
  state: 'running' | 'done' | 'failed';
  /** Failed test cases of runs created at or after this time; null: all. */
  since: string | null;
  processed: number;
  changed: number;
  startedAt: string;
  finishedAt: string | null;
  /** Why a failed job stopped. */
  error?: string;
}
