/**
 * How a run ended, as a runner reports it outside the runner protocol: the JSON a
 * runner container writes to its termination message (`/topas/termination-log`) as a
 * last resort, read back from the Pod's status when the server never got the end.
 */
import { z } from 'zod';
import { RUN_REASONS, type RunCompletion } from '../run.js';
import { intRange, textUpTo } from './text.js';

const count = intRange(0, Number.MAX_SAFE_INTEGER);

export const RunCompletionSchema = z.object({
  phase: z.enum(['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']),
  reason: z.enum(RUN_REASONS).nullable(),
  message: textUpTo(32768).nullable(),
  summary: z.object({ stepsPassed: count, stepsFailed: count, stepsSkipped: count, assertionsPassed: count, assertionsFailed: count }),
}) satisfies z.ZodType<RunCompletion>;

/** The completion in a termination message, or null when it holds none (empty, log lines, bad JSON). */
export function parseRunCompletion(text: string | null | undefined): RunCompletion | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const result = RunCompletionSchema.safeParse(value);
  return result.success ? result.data : null;
}
