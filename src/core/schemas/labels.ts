/**
 * Labels as Kubernetes defines them, on every object that has them (runs,
 * definitions, re-runs, query filters, Apps): a key is a name of at most 63
 * characters (alphanumeric at both ends, `-_.` inside) with an optional DNS-1123
 * subdomain prefix of at most 253 (`app.kubernetes.io/name`); a value is at most 63
 * such characters or empty; at most 64 labels per object. The limits also keep a
 * run's labels small enough for the store's indexes.
 */
import { z } from 'zod';
import { got, key, string } from './text.js';

export const MAX_LABELS = 64;
export const MAX_LABEL_NAME = 63;
export const MAX_LABEL_PREFIX = 253;
export const MAX_LABEL_VALUE = 63;

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** A DNS-1123 subdomain: dot-separated lower-case labels. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `k` is not a label key, or null. */
export function labelKeyProblem(k: string): string | null {
  const slash = k.indexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : null;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== null && (prefix.length === 0 || prefix.length > MAX_LABEL_PREFIX || !DNS_SUBDOMAIN.test(prefix)))
    return `is not a valid label key: the prefix before "/" must be a DNS subdomain of at most ${MAX_LABEL_PREFIX} characters (like app.kubernetes.io)`;
  if (name.length === 0 || name.length > MAX_LABEL_NAME || !NAME.test(name))
    return `is not a valid label key: the name must be 1 to ${MAX_LABEL_NAME} letters, digits, "-", "_" or ".", starting and ending with a letter or digit (like app.kubernetes.io/name)`;
  return null;
}

/** Why `v` is not a label value, or null. */
export function labelValueProblem(v: string): string | null {
  if (v === '') return null;
  if (v.length > MAX_LABEL_VALUE || !NAME.test(v))
    return `is not a valid label value: at most ${MAX_LABEL_VALUE} letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)`;
  return null;
}

const LabelKeySchema = key().superRefine((k, ctx) => {
  const problem = labelKeyProblem(k);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: k });
});

const LabelValueSchema = string().superRefine((v, ctx) => {
  const problem = labelValueProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: v });
});

/** Key → value tags to filter by (`team=payments`). */
export const LabelsSchema = z
  .record(LabelKeySchema, LabelValueSchema, { error: (iss) => `must be an object of key: "value" pairs, got ${got(iss.input)}` })
  .superRefine((labels, ctx) => {
    const n = Object.keys(labels).length;
    if (n > MAX_LABELS) ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_LABELS} labels, got ${n}`, input: labels });
  })
  .meta({
    description: `Key/value tags to filter by, with Kubernetes' rules: keys are a name of at most ${MAX_LABEL_NAME} characters (letters, digits, \`-_.\`, alphanumeric at both ends) with an optional DNS prefix (\`app.kubernetes.io/name\`); values at most ${MAX_LABEL_VALUE} such characters or empty; at most ${MAX_LABELS} labels.`,
    example: { team: 'payments' },
  });

/**
 * `key=value` pairs of a query filter (`?label=team=payments&label=tier=`), with the
 * same rules as stored labels. Returns the labels, or the problems by pair.
 */
export function parseLabelFilter(pairs: readonly string[]): { labels: Record<string, string>; problems: string[] } {
  const labels: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`must be key=value, got ${got(pair)}`);
      continue;
    }
    const k = pair.slice(0, eq);
    const v = pair.slice(eq + 1);
    const problem = labelKeyProblem(k) ?? labelValueProblem(v);
    if (problem) problems.push(`${got(pair)} ${problem}`);
    else labels[k] = v;
  }
  if (pairs.length > MAX_LABELS) problems.push(`must hold at most ${MAX_LABELS} labels, got ${pairs.length}`);
  return { labels, problems };
}
