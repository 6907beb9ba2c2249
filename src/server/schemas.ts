/**
 * The API's shapes, as zod schemas. The same schemas validate requests and
 * generate the OpenAPI 3.1 document, so the two cannot drift apart. Messages are
 * written for people: the error handler prefixes them with the field path
 * (`timeoutSeconds: must be an integer from 1 to 86400, got 0`).
 */
import { z } from '@hono/zod-openapi';
import { RUN_PHASES } from '../core/run-phase.js';
import { RUN_ORIGINS, RUN_REASONS, type RunFilter } from '../core/run.js';
import { MAX_LABELS, parseLabelFilter } from '../core/schemas/labels.js';
import { DefinitionRefSchema } from '../core/schemas/names.js';
import { got, intRange, string, textUpTo } from '../core/schemas/text.js';

export { intRange };
import { RunProfileSchema } from '../core/schemas/run-completion.js';
export { CreateRunSchema, RunFromDefinitionSchema, RerunSchema, OriginSchema, CLIENT_ORIGINS } from '../core/schemas/run-request.js';
export { CreateDefinitionSchema, PatchDefinitionSchema } from '../core/schemas/definition.js';

const IsoTime = z.string().openapi({ description: 'ISO-8601 timestamp.', example: '2025-01-31T12:00:00.000Z' });

const SummarySchema = z
  .object({
    stepsPassed: z.number().int(),
    stepsFailed: z.number().int(),
    stepsSkipped: z.number().int(),
    assertionsPassed: z.number().int(),
    assertionsFailed: z.number().int(),
    quarantinedFailures: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Failed test cases that were quarantined: recorded, but they did not fail the run. Set when the run ends.' }),
  })
  .openapi('RunSummary', { description: 'Counts of what the run recorded; live while it runs, final once it ends.' });

const RunSourceSchema = z
  .union([
    z.object({ type: z.literal('inline'), script: z.string(), fileName: z.string().optional(), files: z.record(z.string(), z.string()).optional() }),
    z.object({ type: z.literal('definition'), definitionId: z.string(), script: z.string(), fileName: z.string().optional(), files: z.record(z.string(), z.string()).optional() }),
    z.object({ type: z.literal('git'), url: z.string(), path: z.string(), revision: z.string(), commit: z.string().optional().openapi({ description: 'The full SHA the revision resolved to, once checked out (a re-run checks the revision out again).' }), script: z.string().optional(), files: z.record(z.string(), z.string()).optional() }),
  ])
  .openapi('RunSource', { description: 'What the run executes. An inline or definition script is snapshotted onto the run when it is created; a git source is checked out when the run executes.' });

export const RunSchema = z
  .object({
    id: z.string().openapi({ description: 'UUIDv7 (time-ordered).', example: '01935c1e-7b7a-7cc0-8a1d-5f4f0c2e9b11' }),
    name: z.string(),
    phase: z.enum(RUN_PHASES).openapi({ description: 'Queued → Running → Passed | Failed | Error | TimedOut | Cancelled. The last five are terminal.' }),
    origin: z.enum(RUN_ORIGINS).openapi({ description: 'Where the run was started from.' }),
    k8sRef: z
      .object({ namespace: z.string(), name: z.string(), uid: z.string().optional() })
      .nullable()
      .openapi({ description: 'The TestRun custom resource this run mirrors (origin `crd`).' }),
    appName: z.string().nullable(),
    appReadOnly: z.boolean().openapi({ description: 'The run declared it only reads its App.' }),
    source: RunSourceSchema,
    env: z.record(z.string(), z.string()).openapi({
      description: 'The env the script runs with. Values of secret-looking names (PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE, CREDENTIAL) read `***`, URL passwords read `scheme://user:***@host`, and a secret (or its base64 / URL-encoded form) inside another value reads `***`; the run keeps the real values.',
    }),
    timeoutSeconds: z.number().int(),
    labels: z.record(z.string(), z.string()),
    createdAt: IsoTime,
    startedAt: IsoTime.nullable().openapi({ description: 'When it started Running; null while Queued.' }),
    finishedAt: IsoTime.nullable().openapi({ description: 'When it reached a terminal phase.' }),
    durationMs: z.number().nullable().openapi({ description: 'Wall time from start to finish in milliseconds; null until finished.' }),
    summary: SummarySchema,
    reason: z
      .enum(RUN_REASONS)
      .nullable()
      .openapi({ description: 'Why the run did not pass, as a stable CamelCase word (AssertionFailed, ScriptError, Timeout, ...).' }),
    message: z.string().nullable().openapi({ description: 'Human-readable detail of the reason.' }),
    executor: z.string().nullable().openapi({ description: 'The topas instance that executes (or executed) the run.' }),
    category: z.string().nullable().openapi({ description: "A failed run's failure category (that of its first failed test case, by the ordered rules of `/api/categories`); null unless failed." }),
    categoryRule: z.string().nullable().openapi({ description: 'The rule that gave the category; null when none matched (the default category, `Regression`).' }),
    profile: RunProfileSchema.nullable().openapi({
      description:
        "What the run used, once finished: `cpuMs` (CPU time, ms) and `peakMemoryBytes`. Local runs: the Lua worker thread's CPU time on this run's Lua code and its Lua state's peak memory; runner Pods: the container's (cgroup) figures when present. Null when not measured (older runners, runs that never ran or were killed).",
    }),
    logsExpiredAt: z
      .string()
      .nullable()
      .openapi({ description: 'When log retention (`TOPAS_LOG_RETENTION_DAYS`) deleted the log lines of this finished run; its steps, assertions and results are kept. Null: the run has every line it logged.' }),
  })
  .openapi('Run', { description: 'One test execution. The same shape in the database, the API, the CLI and the UI.' });

const StepSchema = z
  .object({
    runId: z.string(),
    seq: z.number().int().openapi({ description: '1-based, in start order.' }),
    parentSeq: z.number().int().nullable().openapi({ description: 'The enclosing step; null at top level.' }),
    kind: z.enum(['test', 'step', 'hook']),
    name: z.string(),
    status: z.enum(['running', 'passed', 'failed', 'skipped']),
    startedAt: IsoTime,
    finishedAt: IsoTime.nullable(),
    durationMs: z.number().nullable().openapi({ description: 'Milliseconds; null while running.' }),
    message: z.string().nullable().openapi({ description: 'Why it failed or was skipped.' }),
    file: z.string().nullable(),
    line: z.number().int().nullable(),
  })
  .openapi('Step', { description: 'A `test`, `step` or hook block of the script.' });

const AssertionSchema = z
  .object({
    runId: z.string(),
    seq: z.number().int(),
    stepSeq: z.number().int().nullable(),
    passed: z.boolean(),
    message: z.string(),
    expected: z.string().nullable().openapi({ description: 'Rendered expected value, when the matcher knows it.' }),
    actual: z.string().nullable().openapi({ description: 'Rendered actual value, when the matcher knows it.' }),
    file: z.string().nullable(),
    line: z.number().int().nullable(),
    ts: IsoTime,
  })
  .openapi('Assertion');

export const RunDetailSchema = RunSchema.extend({
  steps: z.array(StepSchema).openapi({ description: 'Every step, in start order; build the tree with `parentSeq`.' }),
  assertions: z.array(AssertionSchema).openapi({ description: 'Every assertion the run made, in order.' }),
}).openapi('RunDetail', { description: 'A run with its steps and assertions: what a CLI or dashboard shows for one run.' });

export const LogLineSchema = z
  .object({
    runId: z.string(),
    seq: z.number().int().openapi({ description: '1-based and gap-free within a run; use it as the `after` cursor.' }),
    ts: IsoTime,
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    stepSeq: z.number().int().nullable().openapi({ description: 'The step that was running when the line was logged.' }),
  })
  .openapi('LogLine');

export const LogPageSchema = z
  .object({
    items: z.array(LogLineSchema),
    nextSeq: z.number().int().openapi({ description: 'Pass as `after` to read the lines that follow.' }),
    logsExpiredAt: z
      .string()
      .nullable()
      .openapi({ description: "When log retention deleted this run's log lines (then `items` is empty and `notice` says why); null otherwise." }),
    notice: z.string().nullable().openapi({ description: 'Why there are no log lines, in words for a person, when retention deleted them; null otherwise.' }),
  })
  .openapi('LogPage');

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    })
    .openapi(name);
}

// --- query strings -----------------------------------------------------------

/** A query parameter that may repeat (`?phase=A&phase=B`) or hold a comma-separated list. */
function listParam<T extends readonly [string, ...string[]]>(values: T, description: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((raw) => (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values, { error: (iss) => `must be one of ${values.join(', ')}, got ${got(iss.input)}` })))
    .optional()
    .openapi({ description, type: 'string' });
}

/** Years PostgreSQL timestamps and ISO-8601 strings share. */
const inStoreRange = (d: Date): boolean => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

export const isoParam = (description: string) =>
  z
    .string()
    .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)) && inStoreRange(new Date(v)), {
      error: (iss) => `must be an ISO-8601 timestamp such as 2025-01-31T12:00:00Z, got ${got(iss.input)}`,
    })
    .transform((v) => new Date(v).toISOString())
    .optional()
    .openapi({ description, type: 'string', format: 'date-time' });

const limitParam = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? 50 : Number(v)))
  .pipe(intRange(1, 1000))
  .openapi({ description: 'Page size, 1..1000 (default 50).', type: 'integer' });

const cursorParam = textUpTo(1024).optional().meta({ description: 'The `nextCursor` of the previous page.' });

/** A free-text query parameter (storable text, at most `max` characters). */
const textParam = (description: string, max = 200) => textUpTo(max).optional().meta({ description });

/**
 * A query parameter of `key=value` labels that may repeat (`?label=a=1&label=b=2`);
 * all must match. Keys and values follow the label rules of stored labels.
 */
export function labelsParam(description: string) {
  return z
    .union([string(), z.array(string())])
    .transform((raw, ctx) => {
      const { labels, problems } = parseLabelFilter(Array.isArray(raw) ? raw : [raw]);
      for (const message of problems) ctx.addIssue({ code: 'custom', message, input: raw });
      return problems.length ? z.NEVER : labels;
    })
    .optional()
    .meta({ description: `${description} At most ${MAX_LABELS}.`, type: 'string' });
}

/** `?category=Regression&category=Config%20Gap`: failure categories (free words; a category may hold a comma). */
const categoryParam = z
  .union([textUpTo(100), z.array(textUpTo(100))])
  .transform((raw) => {
    const list = (Array.isArray(raw) ? raw : [raw]).map((v) => v.trim()).filter(Boolean);
    return list.length ? list : undefined;
  })
  .optional()
  .meta({ description: 'Only failed runs with one of these failure categories (`Regression`, `Config Gap`, …, see `/api/categories`); repeat for several.', type: 'string' });

export const ListRunsQuery = z
  .strictObject({
    phase: listParam(RUN_PHASES, 'Only runs in these phases; repeat or comma-separate (`Failed,Error`).'),
    origin: listParam(RUN_ORIGINS, 'Only runs from these origins (`api`, `cli`, `ui`, `crd`, `schedule`, `import`).'),
    app: textParam('Only runs of this App.', 253),
    label: labelsParam('Only runs with this label, as `key=value`; repeat for several (all must match).'),
    q: textParam('Case-insensitive text contained in the run name.'),
    since: isoParam('Only runs created at or after this time.'),
    until: isoParam('Only runs created before this time.'),
    definition: textParam('Only runs started from this definition id.'),
    category: categoryParam,
    limit: limitParam,
    cursor: cursorParam,
  })
  .openapi({ description: 'Filters, combined with AND.' });

/** The store's run filter for a run-list query (the run list and the JUnit report of a set of runs). */
export function runFilterOf(q: Omit<z.infer<typeof ListRunsQuery>, 'limit' | 'cursor'>): RunFilter {
  return {
    phase: q.phase,
    origin: q.origin,
    appName: q.app,
    labels: q.label,
    text: q.q,
    createdAfter: q.since,
    createdBefore: q.until,
    definitionId: q.definition,
    category: q.category,
  };
}

export const ListDefinitionsQuery = z.strictObject({
  q: textParam('Case-insensitive text contained in the name.'),
  limit: limitParam,
  cursor: cursorParam,
});

export const LogsQuery = z.strictObject({
  after: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : Number(v)))
    .pipe(intRange(0, Number.MAX_SAFE_INTEGER).optional())
    .openapi({ description: 'Return lines with `seq` greater than this (default 0). Streaming resumes from `Last-Event-ID` too.', type: 'integer' }),
  limit: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 1000 : Number(v)))
    .pipe(intRange(1, 10_000))
    .openapi({ description: 'At most this many lines (1..10000, default 1000). Ignored when following.', type: 'integer' }),
  follow: z
    .enum(['true', 'false', '1', '0'], { error: (iss) => `must be true or false, got ${got(iss.input)}` })
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .openapi({
      description: 'Stream as Server-Sent Events (also chosen by `Accept: text/event-stream`): existing lines, then new ones, then `end`.',
      type: 'boolean',
    }),
});

export const RunIdParam = z.object({
  id: textUpTo(200).meta({ param: { name: 'id', in: 'path' }, description: 'Run id (UUID).' }),
});

export const DefinitionRefParam = z.object({
  idOrName: DefinitionRefSchema.meta({ param: { name: 'idOrName', in: 'path' }, description: 'Definition id or name.' }),
});

// --- definitions -------------------------------------------------------------

export const DefinitionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    script: z.string(),
    files: z.record(z.string(), z.string()).openapi({ description: 'Other files of the test folder by relative path; copied onto each run.' }),
    env: z.record(z.string(), z.string()).openapi({ description: 'Defaults every run starts with (overridable per run).' }),
    timeoutSeconds: z.number().int().openapi({ description: 'Seconds.' }),
    labels: z.record(z.string(), z.string()),
    appName: z.string().nullable(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  })
  .openapi('Definition', { description: 'A stored, named test that runs can be started from.' });

/** A definition in the list, with its last result. */
export const DefinitionListItemSchema = DefinitionSchema.extend({
  lastRun: z
    .object({
      id: z.string(),
      phase: z.enum(RUN_PHASES),
      finishedAt: IsoTime.nullable(),
      category: z.string().nullable().openapi({ description: 'The failure category of a failed run; null when it passed.' }),
    })
    .nullable()
    .openapi({ description: "The definition's newest finished run (by creation; Queued and Running runs are skipped); null when none has finished." }),
}).openapi('DefinitionListItem', { description: 'A stored test as the list shows it: the definition and its last result.' });

// --- system ------------------------------------------------------------------

export const StatsSchema = z
  .object({
    queueDepth: z.number().int().openapi({ description: 'Queued runs, across all instances.' }),
    activeRunners: z.number().int().openapi({ description: 'Running runs, across all instances.' }),
    concurrency: z.number().int().openapi({ description: 'The global limit on runs executing at once.' }),
    runsByPhase: z.record(z.enum(RUN_PHASES), z.number().int()).openapi({ description: 'Number of runs in each phase.' }),
  })
  .openapi('Stats');

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'Stable error code: ValidationError, NotFound, Conflict, Internal, ...', example: 'ValidationError' }),
      message: z.string().openapi({ example: 'timeoutSeconds: must be an integer from 1 to 86400, got 0' }),
      details: z.record(z.string(), z.unknown()).optional().openapi({ description: 'For validation errors, `issues: [{field, message}]`.' }),
    }),
  })
  .openapi('Error');
