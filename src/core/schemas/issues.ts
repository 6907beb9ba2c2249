/**
 * Zod issues as field issues, in one place: every entry point (API, engine, App
 * files, CRDs) names a bad field the same way, e.g.
 * `spec.services[1].port: must be an integer from 1 to 65535, got 0`.
 */
import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.js';

/** `['spec','services',1,'port']` → `spec.services[1].port`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export interface IssueOptions {
  /** Prepended to every path (`['spec']` when a bare spec is validated). */
  prefix?: (string | number)[];
  /** What an unknown key is called: `field` (default) or `query parameter`. */
  unknown?: string;
  /** The field named when the path is empty. Default `body`. */
  root?: string;
  /** Name only the top-level key (query parameters: `label`, not `label[1]`). */
  topLevel?: boolean;
}

/** Every zod issue as `{ field, message }`; unknown keys become one issue each. */
export function fieldIssues(error: z.ZodError, options: IssueOptions = {}): FieldIssue[] {
  const prefix = options.prefix ?? [];
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const full = [...prefix, ...(issue.path as (string | number)[])];
    const path = options.topLevel ? full.slice(0, 1) : full;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ field: fieldPath([...path, key]), message: `unknown ${options.unknown ?? 'field'} (check the spelling)` });
    } else if (issue.code === 'invalid_key') {
      issues.push({ field: fieldPath(path), message: `key ${issue.issues[0]?.message ?? 'is not valid'}` });
    } else {
      issues.push({ field: fieldPath(path) || (options.root ?? 'body'), message: issue.message });
    }
  }
  return issues;
}

/** Parses `input` with `schema`; throws ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, options?: IssueOptions): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error, options));
  return result.data;
}
