/** The Tests API's shapes (issue 12): test cases across runs, their history, flakiness and quarantine. */
import { z } from '@hono/zod-openapi';
import { RUN_ORIGINS } from '../core/run.js';
import { TEST_OUTCOMES } from '../core/test-case.js';
import { got, intRange, textUpTo } from '../core/schemas/text.js';

const OutcomeSchema = z.enum(TEST_OUTCOMES).openapi('TestOutcome', { description: 'How a test case ended in one run.' });

const limitParam = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? 50 : Number(v)))
  .pipe(intRange(1, 1000))
  .openapi({ description: 'Page size, 1..1000 (default 50).', type: 'integer' });
const cursorParam = textUpTo(1024).optional().meta({ description: 'The `nextCursor` of the previous page.' });
const textParam = (description: string, max = 200) => textUpTo(max).optional().meta({ description });
const flagParam = (description: string) =>
  z
    .enum(['true', 'false', '1', '0'], { error: (iss) => `must be true or false, got ${got(iss.input)}` })
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .openapi({ description, type: 'boolean' });

export const ListTestsQuery = z
  .strictObject({
    text: textParam('Case-insensitive text contained in the test key (`classname::name`).'),
    definition: textParam('Only tests of this definition id.'),
    app: textParam('Only tests of this App.', 253),
    origin: z
      .enum(RUN_ORIGINS, { error: (iss) => `must be one of ${RUN_ORIGINS.join(', ')}, got ${got(iss.input)}` })
      .optional()
      .openapi({ description: 'Only tests whose last run came from this origin.' }),
    category: textParam('Only tests whose last failure has this category.'),
    outcome: z
      .enum(TEST_OUTCOMES, { error: (iss) => `must be one of ${TEST_OUTCOMES.join(', ')}, got ${got(iss.input)}` })
      .optional()
      .openapi({ description: 'Only tests whose last outcome is this.' }),
    flaky: flagParam('`true`: only flaky tests.'),
    quarantined: flagParam('`true`: only quarantined tests.'),
    limit: limitParam,
    cursor: cursorParam,
  })
  .openapi({ description: 'Filters, combined with AND.' });

export const TestIdParam = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, { error: (iss) => `must be a test id (16 hex digits, the start of the MD5 of its key), got ${got(iss.input)}` })
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The test id: 16 hex digits of the MD5 of its key.', example: '5d41402abc4b2a76' }),
});

export const HistoryQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });

export const QuarantineBody = z
  .strictObject({
    reason: z
      .string({ error: (iss) => `must be a text of 1 to 500 characters, got ${got(iss.input)}` })
      .trim()
      .min(1, { error: 'must not be empty: say why the test is quarantined' })
      .max(500, { error: (iss) => `must be at most 500 characters, got ${String((iss.input as string).length)}` })
      .openapi({ description: 'Why (shown next to the test).', example: 'payment sandbox flaps; tracked in PAY-123' }),
  })
  .openapi('QuarantineRequest');

export const TestSummarySchema = z
  .object({
    id: z.string().openapi({ description: '16 hex digits of the MD5 of the key: stable, for URLs.' }),
    key: z.string().openapi({ description: 'The identity of the test across runs: `classname::name`.', example: 'checkout::pays / by card' }),
    classname: z.string().openapi({ description: "The definition's name, else the script's file; an imported testcase's classname." }),
    name: z.string().openapi({ description: 'The path of test names, `outer / inner`.' }),
    definitionId: z.string().nullable(),
    appName: z.string().nullable(),
    firstSeenAt: z.string().openapi({ format: 'date-time' }),
    lastRunAt: z.string().openapi({ format: 'date-time', description: 'When the last run with this test was created.' }),
    lastRunId: z.string(),
    lastOutcome: OutcomeSchema,
    recent: z.array(OutcomeSchema).openapi({ description: 'The last outcomes, newest first, at most 20.' }),
    runs: z.number().int().openapi({ description: 'Results recorded.' }),
    passRate: z.number().nullable().openapi({ description: 'Passed / (Passed + Failed + Error) over the flaky window; null when none.' }),
    flaky: z.boolean().openapi({ description: 'Flipped Passed↔(Failed|Error) at least twice in the window (Skipped ignored), or passed and failed on the same `revision` label.' }),
    flakiness: z.number().openapi({ description: '0..1: flips / (outcomes − 1) over the window.' }),
    medianMs: z.number().nullable().openapi({ description: 'Median duration over the last 100 results (Skipped ignored).' }),
    p95Ms: z.number().nullable().openapi({ description: '95th percentile duration over the last 100 results (Skipped ignored).' }),
    lastFailure: z
      .object({ runId: z.string(), at: z.string().openapi({ format: 'date-time' }), message: z.string().nullable(), category: z.string().nullable() })
      .nullable()
      .openapi({ description: 'The last Failed or Error result.' }),
    quarantine: z
      .object({ at: z.string().openapi({ format: 'date-time' }), by: z.string().nullable(), reason: z.string() })
      .nullable()
      .openapi({ description: 'Set while quarantined: its failures are recorded but do not fail runs.' }),
  })
  .openapi('TestSummary');

export const TestDetailSchema = TestSummarySchema.extend({
  window: z.number().int().openapi({ description: 'Outcomes the flakiness and pass rate are judged on (`TOPAS_FLAKY_WINDOW`).' }),
  flakyEvidence: z.object({
    flips: z.number().int().openapi({ description: 'Passed↔failed flips in the window.' }),
    runIds: z.array(z.string()).openapi({ description: 'Runs (newest first) whose outcome differed from the run before.' }),
    revision: z
      .object({ revision: z.string(), passedRunId: z.string().nullable(), failedRunId: z.string().nullable() })
      .nullable()
      .openapi({ description: 'A `revision` label the test both passed and failed on, with a run of each.' }),
  }),
}).openapi('TestDetail');

export const TestResultItemSchema = z
  .object({
    runId: z.string(),
    runName: z.string(),
    runPhase: z.string(),
    createdAt: z.string().openapi({ format: 'date-time', description: "The run's creation time." }),
    outcome: OutcomeSchema,
    durationMs: z.number().nullable(),
    message: z.string().nullable().openapi({ description: 'Failed/Error: the first line of the failure; Skipped: why.' }),
    failureType: z.string().nullable().openapi({ description: '`AssertionFailed`, or the run reason (`ScriptError`, `Timeout`, …).' }),
    detail: z.string().nullable().openapi({ description: 'The whole failure: message, location, expected and actual.' }),
    category: z.string().nullable(),
    categoryRule: z.string().nullable(),
    quarantined: z.boolean().openapi({ description: 'Failed while the test was quarantined (did not fail the run).' }),
    flaky: z.boolean().openapi({ description: 'Failed first and passed on a rerun (imported reports).' }),
    file: z.string().nullable(),
    line: z.number().int().nullable(),
    revision: z.string().nullable().openapi({ description: "The run's `revision` label." }),
  })
  .openapi('TestResultItem');

export const TestPageSchema = z
  .object({ items: z.array(TestSummarySchema), nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }) })
  .openapi('TestPage');

export const TestHistoryPageSchema = z
  .object({ items: z.array(TestResultItemSchema), nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }) })
  .openapi('TestHistoryPage');
