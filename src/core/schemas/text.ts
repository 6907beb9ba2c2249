/**
 * Strings as every core schema accepts them. PostgreSQL text cannot hold a NUL
 * character and refuses invalid UTF-8 (which a lone UTF-16 surrogate becomes), so a
 * string that would break the store is refused here, naming the field, before
 * anything is stored or touches the file system.
 */
import { z } from 'zod';

declare global {
  interface String {
    /** ES2024: false when the string holds a lone surrogate (Node ≥ 20). */
    isWellFormed(): boolean;
  }
}

/** Why a string cannot be stored as text, or null when it can. */
export function textProblem(value: string): string | null {
  if (value.includes('\0')) return 'must not contain NUL characters (\\u0000)';
  if (!value.isWellFormed()) return 'must be well-formed Unicode text (it holds a lone UTF-16 surrogate such as \\ud800)';
  return null;
}

/** A short, bounded rendering of a bad input for messages (`got 0`, `got "x"`, `got a list`). */
export function got(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'string') return JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input);
  return String(input);
}

/** The one refinement every core string carries: storable text. */
function storable(value: string, ctx: z.core.$RefinementCtx<string>): void {
  const problem = textProblem(value);
  // Later checks would only repeat the problem in other words.
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value, continue: false });
}

/** Any storable string; `expected` words the type error (`must be a string, got 1`). */
export function string(expected = 'must be a string') {
  return z.string({ error: (iss) => `${expected}, got ${got(iss.input)}` }).superRefine(storable);
}

/** A storable string of at most `max` characters (empty allowed). */
export function textUpTo(max: number) {
  return string().max(max, { error: `must be at most ${max} characters` });
}

/** A storable string of 1..`max` characters. */
export function text(max: number) {
  return string().min(1, { error: 'must not be empty' }).max(max, { error: `must be at most ${max} characters` });
}

/** A key of a record: storable; record keys have no type error of their own. */
export function key() {
  return z.string().superRefine(storable);
}

/** An integer in [min, max]; one message for every way it can be wrong. */
export function intRange(min: number, max: number) {
  const error = (iss: { input?: unknown }) => `must be an integer from ${min} to ${max}, got ${got(iss.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** true or false. */
export function boolean() {
  return z.boolean({ error: (iss) => `must be true or false, got ${got(iss.input)}` });
}
