/** Shapes of the failure-category API: rules, previews, re-categorization jobs, the breakdown over time, results.json. */
import { z } from '@hono/zod-openapi';
import { CategoryRulesSchema } from '../core/categories.js';
import { MAX_TREND_BUCKETS, TREND_BUCKETS } from '../core/insights.js';
import { RUN_PHASES } from '../core/run-phase.js';
import { TEST_OUTCOMES } from '../core/test-case.js';
import { textUpTo } from '../core/schemas/text.js';
import { intRange, isoParam } from './schemas.js';

const Categorization = z
  .object({
    category: z.string().openapi({ description: '`Regression` when no rule matches.' }),
    rule: z.string().nullable().openapi({ description: 'The rule that matched; null for the default category.' }),
  })
  .openapi('Categorization');

/** The rules document: what `PUT /api/categories` takes and `categories.yaml` holds. */
export const CategoryRulesBody = CategoryRulesSchema;

export const CategoryRulesStateSchema = z
  .object({
    rules: CategoryRulesSchema.shape.rules.meta({
      description:
        'Ordered rules; the first whose every matcher matches wins. Each: `name` (unique), `category`, `match` with any of `test`, `message`, `log`, `definition`, `app` (lists of matchers: a string is a case-insensitive substring, `{ regex, caseSensitive? }` a regular expression; any one in a list may match) and `labels` (key → matchers).',
    }),
    version: z.number().int().openapi({ description: 'Goes up by one on every change; 0 while the shipped defaults are in force.' }),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable().openapi({ description: 'The token name that changed the rules last.' }),
    defaults: z.boolean().openapi({ description: 'True while no rules were ever stored: the shipped defaults are in force.' }),
  })
  .openapi('CategoryRules', { description: 'The failure-category rules in force.' });

export const PreviewBody = z
  .strictObject({
    rules: CategoryRulesSchema.shape.rules,
    limit: z.number().int().min(1, 'must be an integer from 1 to 1000').max(1000, 'must be an integer from 1 to 1000').optional().openapi({ description: 'How many of the last failed test cases to judge, 1..1000 (default 100).' }),
  })
  .openapi('CategoryPreviewRequest');

export const PreviewSchema = z
  .object({
    items: z.array(
      z.object({
        runId: z.string(),
        testKey: z.string(),
        testId: z.string().openapi({ description: 'The test\'s id (`/api/tests/{id}`).' }),
        message: z.string().nullable(),
        before: Categorization.openapi({ description: 'The category it carries now.' }),
        after: Categorization.openapi({ description: 'The category the given rules would give.' }),
      }),
    ),
    changed: z.number().int().openapi({ description: 'Items whose category or rule would change.' }),
  })
  .openapi('CategoryPreview', { description: 'The last failed test cases, newest first, judged by the given rules; nothing is stored.' });

export const ApplyQuery = z.strictObject({
  since: isoParam('Re-judge failed test cases of runs created at or after this time. Default: all of them.'),
});

export const ApplyJobSchema = z
  .object({
    job: z.object({
      id: z.string(),
      state: z.enum(['running', 'done', 'failed']),
      since: z.string().nullable(),
      processed: z.number().int().openapi({ description: 'Failed test cases judged so far.' }),
      changed: z.number().int().openapi({ description: 'Of those, the ones whose category or rule changed.' }),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
      error: z.string().optional().openapi({ description: 'Why a failed job stopped.' }),
    }),
  })
  .openapi('CategoryApplyJob');

export const JobIdParam = z.object({
  id: textUpTo(100).meta({ param: { name: 'id', in: 'path' }, description: 'The job id from `POST /api/categories/apply`.' }),
});

export const CategoryTrendsQuery = z.strictObject({
  from: isoParam('Start of the range (inclusive). Default: 14 days before `to`.'),
  to: isoParam('End of the range (exclusive). Default: the end of today (UTC midnight).'),
  bucket: z
    .enum(TREND_BUCKETS, { error: (iss) => `must be one of ${TREND_BUCKETS.join(', ')}, got ${JSON.stringify(iss.input)}` })
    .optional()
    .openapi({ description: `Bucket length (default \`day\`). At most ${MAX_TREND_BUCKETS} buckets per request.` }),
});

export const CategoryTrendsSchema = z
  .object({
    points: z.array(
      z.object({
        start: z.string().openapi({ description: 'Start of the bucket (ISO-8601).' }),
        counts: z.record(z.string(), z.number().int()).openapi({ description: 'Failed test cases per category; categories without failures are left out.' }),
      }),
    ),
    categories: z.array(z.string()).openapi({ description: 'Every category that has failures in the range, most failures first.' }),
  })
  .openapi('CategoryTrends', { description: 'Failed test cases per category per bucket of their run\'s creation time.' });

export const ResultsJsonSchema = z
  .object({
    run: z.object({
      id: z.string(),
      name: z.string(),
      phase: z.enum(RUN_PHASES),
      category: z.string().nullable(),
      categoryRule: z.string().nullable(),
      createdAt: z.string(),
      finishedAt: z.string().nullable(),
      durationMs: z.number().nullable(),
      appName: z.string().nullable(),
      labels: z.record(z.string(), z.string()),
    }),
    results: z.array(
      z.object({
        key: z.string().openapi({ description: '`classname::name`, the test\'s identity across runs.' }),
        classname: z.string(),
        name: z.string(),
        outcome: z.enum(TEST_OUTCOMES),
        durationMs: z.number().nullable(),
        message: z.string().nullable().openapi({ description: 'The failure (or skip reason), first line.' }),
        category: z.string().nullable().openapi({ description: 'Failed and Error cases: their failure category.' }),
        categoryRule: z.string().nullable(),
        quarantined: z.boolean(),
      }),
    ),
  })
  .openapi('RunResults', { description: 'A run and its test cases (the Streamstress results.json).' });

export { intRange };
