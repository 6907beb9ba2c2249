/** Shapes of trends and top lists (request queries and answers). */
import { z } from '@hono/zod-openapi';
import { FINISHED_PHASES, MAX_TREND_BUCKETS, TREND_BUCKETS } from '../core/insights.js';
import { textUpTo } from '../core/schemas/text.js';
import { intRange, isoParam, labelsParam } from './schemas.js';

const rangeParams = {
  from: isoParam('Start of the range (inclusive). Default: 14 days before `to`.'),
  to: isoParam('End of the range (exclusive). Default: the end of today (UTC midnight).'),
  appName: textUpTo(253).optional().meta({ description: 'Only runs of this App.' }),
  labels: labelsParam('Only runs with this label, as `key=value`; repeat for several (all must match).'),
};

export const TrendsQuery = z
  .strictObject({
    ...rangeParams,
    bucket: z
      .enum(TREND_BUCKETS, { error: (iss) => `must be one of ${TREND_BUCKETS.join(', ')}, got ${JSON.stringify(iss.input)}` })
      .optional()
      .openapi({ description: `Bucket length (default \`day\`). Buckets start at \`from\`; at most ${MAX_TREND_BUCKETS} per request.` }),
    definitionId: textUpTo(200).optional().meta({ description: 'Only runs of this definition (id).' }),
  })
  .openapi({ description: 'Filters, combined with AND.' });

export const TopQuery = z.strictObject({
  ...rangeParams,
  limit: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 10 : Number(v)))
    .pipe(intRange(1, 100))
    .openapi({ description: 'Entries per list, 1..100 (default 10).', type: 'integer' }),
});

const Rate = z.number().openapi({ description: 'A fraction from 0 to 1.' });
const Ms = (description: string) => z.number().int().openapi({ description });

const TrendPointSchema = z
  .object({
    start: z.string().openapi({ description: 'Start of the bucket (ISO-8601); it lasts one `bucket`, the last one ends at `to`.' }),
    total: z.number().int().openapi({ description: 'Finished runs created in the bucket.' }),
    byPhase: z.object(Object.fromEntries(FINISHED_PHASES.map((p) => [p, z.number().int()])) as Record<(typeof FINISHED_PHASES)[number], z.ZodNumber>),
    passRate: Rate.nullable().openapi({ description: 'Passed / (total − Cancelled); null when no run ran to an end.' }),
    p50Ms: Ms('Median duration of the runs that were not Cancelled.').nullable(),
    p95Ms: Ms('95th percentile duration of the runs that were not Cancelled.').nullable(),
  })
  .openapi('TrendPoint');

export const TrendsSchema = z
  .object({
    bucket: z.enum(TREND_BUCKETS),
    from: z.string(),
    to: z.string(),
    points: z.array(TrendPointSchema).openapi({ description: 'One per bucket, oldest first; empty buckets have zeros and nulls.' }),
  })
  .openapi('Trends', { description: 'Finished runs per time bucket, by the time they were created.' });

const topTest = {
  name: z.string().openapi({ description: 'The definition\'s name, or the runs\' name when they have no definition.' }),
  definitionId: z.string().nullable(),
  runs: z.number().int().openapi({ description: 'Finished runs in the range.' }),
};

export const TopSchema = z
  .object({
    mostFailing: z
      .array(
        z
          .object({
            ...topTest,
            failed: z.number().int().openapi({ description: 'Runs that ended Failed, Error or TimedOut.' }),
            failRate: Rate.openapi({ description: 'failed / (runs − Cancelled).' }),
            lastFailedRunId: z.string(),
            lastFailedAt: z.string().openapi({ description: 'When that run finished (ISO-8601).' }),
          })
          .openapi('FailingTest'),
      )
      .openapi({ description: 'Most failures first, then the higher fail rate.' }),
    slowest: z
      .array(
        z
          .object({
            ...topTest,
            p50Ms: Ms('Median duration of its runs that were not Cancelled.'),
            p95Ms: Ms('95th percentile duration.'),
            maxMs: Ms('Longest duration.'),
            slowestRunId: z.string().openapi({ description: 'The run that took `maxMs`.' }),
          })
          .openapi('SlowTest'),
      )
      .openapi({ description: 'Highest p95 first, then the higher p50.' }),
  })
  .openapi('TopTests', { description: 'Tests grouped by definition (or by name without one), over finished runs in the range.' });
