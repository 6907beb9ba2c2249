/** Shapes of the resource-profile insight (`GET /api/insights/profile`, `core/resource-profile.ts`). */
import { z } from '@hono/zod-openapi';
import { DEFAULT_PROFILE_LAST, MAX_PROFILE_LAST } from '../core/resource-profile.js';
import { intRange, isoParam } from './schemas.js';

const countParam = (fallback: number, max: number, description: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : Number(v)))
    .pipe(intRange(1, max))
    .openapi({ description, type: 'integer' });

export const ProfileQuery = z.strictObject({
  from: isoParam('Start of the range of creation times (inclusive). Default: 14 days before `to`.'),
  to: isoParam('End of the range (exclusive). Default: the end of today (UTC midnight).'),
  last: countParam(DEFAULT_PROFILE_LAST, MAX_PROFILE_LAST, `The newest this many finished runs with a profile of each test are considered, 1..${MAX_PROFILE_LAST} (default ${DEFAULT_PROFILE_LAST}).`),
  limit: countParam(50, 500, 'Tests listed, 1..500 (default 50), heaviest p95 CPU first; the recommendation counts all.'),
});

const pct = (unit: string) =>
  z.object({ p50: z.number().openapi({ description: `Median, ${unit}.` }), p95: z.number().openapi({ description: `95th percentile, ${unit}.` }) });

const ProfileItemSchema = z
  .object({
    definitionId: z.string().nullable(),
    name: z.string().openapi({ description: "The definition's name, or the runs' name when they have none." }),
    runs: z.number().int().openapi({ description: 'Runs considered (finished with a profile, not Cancelled; the newest `last`).' }),
    cpuMs: pct('CPU time in ms'),
    peakMemoryBytes: pct('peak memory in bytes'),
    durationMs: pct('wall time in ms'),
    cpuCores: pct("CPU share in cores: each run's cpuMs / durationMs")
      .nullable()
      .openapi({ description: "Each run's CPU time over its wall time (1 = one core kept busy); null when every run took 0 ms." }),
  })
  .openapi('TestProfile');

export const ProfileSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    items: z.array(ProfileItemSchema).openapi({ description: 'Per test (definition, or name without one), heaviest p95 CPU first.' }),
    basis: z
      .object({
        runs: z.number().int().openapi({ description: 'Runs considered, all tests pooled.' }),
        cpuCoresP95: z.number().nullable().openapi({ description: "p95 of each run's CPU share (cores)." }),
        peakMemoryBytesP95: z.number().nullable().openapi({ description: 'p95 of the runs\' peak memory (bytes).' }),
      })
      .openapi({ description: 'The pooled p95 profile the recommendation is computed from.' }),
    budget: z
      .object({
        cpuCores: z.number(),
        memoryBytes: z.number().int(),
        source: z.enum(['machine', 'configured', 'mixed']).openapi({
          description: "`machine`: this machine's cores and half its memory; `configured`: TOPAS_PROFILE_BUDGET_CPU and TOPAS_PROFILE_BUDGET_MEMORY; `mixed`: one of each.",
        }),
      })
      .openapi({ description: 'The CPU and memory runs may use at once.' }),
    recommendation: z
      .object({
        parallelism: z.number().int().min(1).openapi({ description: 'Runs of the p95 profile that fit at once in the budget, within the concurrency limit.' }),
        limitedBy: z.enum(['cpu', 'memory', 'concurrency']),
        explanation: z.string().openapi({ description: 'How the number was computed, in words.' }),
        fits: z.object({
          cpu: z.number().int().nullable().openapi({ description: '⌊budget cores ÷ p95 CPU share⌋; null when the share is unknown or 0.' }),
          memory: z.number().int().nullable().openapi({ description: '⌊budget memory ÷ p95 peak memory⌋; null when unknown or 0.' }),
        }),
        concurrency: z.number().int().openapi({ description: 'The server\'s limit on runs at once (TOPAS_CONCURRENCY).' }),
      })
      .openapi('ParallelismRecommendation'),
  })
  .openapi('ResourceProfile', { description: 'What runs use, per test, and how many fit at once.' });
