/**
 * How a run ended, as a runner reports it outside the runner protocol: the JSON a
 * runner container writes to its termination message (`/topas/termination-log`) as a
 * last resort, read back from the Pod's status when the server never got the end.
 */
import { z } from 'zod';
import { RUN_REASONS, type RunCompletion } from '../run.js';
import { intRange, textUpTo } from './text.js';

const count = intRange(0, Number.MAX_SAFE_INTEGER);

/** What a run used (`core/run.ts` RunProfile); optional everywhere, so older runners keep working. */
export const RunProfileSchema = z
  .object({
    cpuMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).meta({ description: 'CPU time in milliseconds (fractional).' }),
    peakMemoryBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).meta({ description: 'The highest memory held at once, in bytes.' }),
  })
  .meta({
    id: 'RunProfile',
    description:
      "What the run used: a local run's Lua CPU time and its Lua state's peak memory; a runner Pod's container CPU time and peak memory (cgroup) when its cgroup shows them.",
  });

export const RunCompletionSchema = z.object({
  phase: z.enum(['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']),
  reason: z.enum(RUN_REASONS).nullable(),
  message: textUpTo(32768).nullable(),
  summary: z.object({ stepsPassed: count, stepsFailed: count, stepsSkipped: count, assertionsPassed: count, assertionsFailed: count }),
  profile: RunProfileSchema.optional(),
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
