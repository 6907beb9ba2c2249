/**
 * The API's shapes, as zod schemas. The same schemas validate requests and
 * generate the OpenAPI 3.1 document, so the two cannot drift apart. Messages are
 * written for people: the error handler prefixes them with the field path
 * (`timeoutSeconds: must be an integer from 1 to 86400, got 0`).
 */
import { z } from '@hono/zod-openapi';
import { MAX_BUNDLE_BYTES, MAX_BUNDLE_FILES, isBundlePath } from '../core/validation.js';
import { RUN_PHASES } from '../core/run-phase.js';
import { MAX_TIMEOUT_SECONDS, RUN_ORIGINS, RUN_REASONS } from '../core/run.js';

const got = (input: unknown): string => (input === undefined ? 'nothing' : JSON.stringify(input));

/** An integer in [min, max]; one message for every way it can be wrong. */
export function intRange(min: number, max: number) {
  const error = (iss: { input?: unknown }) => `must be an integer from ${min} to ${max}, got ${got(iss.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A string of 1..max characters. */
function text(max: number) {
  return z
    .string({ error: (iss) => `must be a string, got ${got(iss.input)}` })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` });
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/;

/** Environment variables handed to the script: NAME → string value. */
export const EnvSchema = z
  .record(
    z.string().regex(ENV_KEY, { error: 'is not a valid variable name (letters, digits and _, not starting with a digit)' }),
    z.string({ error: (iss) => `must be a string, got ${got(iss.input)}` }),
    { error: (iss) => `must be an object of NAME: "value" pairs, got ${got(iss.input)}` },
  )
  .openapi({ description: 'Environment variables the script reads with `env.NAME`; values are strings.', example: { BASE_URL: 'http://localhost:8080' } });

/** The other files of a test's folder, by relative path (see core `RunFiles`). */
export const FilesSchema = z
  .record(
    z.string().refine(isBundlePath, { error: 'must be a relative path inside the test folder (no leading /, no ..)' }),
    z.string({ error: (iss) => `must be the file content as a string, got ${got(iss.input)}` }),
    { error: (iss) => `must be an object of "relative/path": "content" pairs, got ${got(iss.input)}` },
  )
  .superRefine((files, ctx) => {
    const entries = Object.values(files);
    const bytes = entries.reduce((n, content) => n + Buffer.byteLength(content), 0);
    if (entries.length > MAX_BUNDLE_FILES) ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_BUNDLE_FILES} files, got ${entries.length}` });
    if (bytes > MAX_BUNDLE_BYTES) ctx.addIssue({ code: 'custom', message: `must total at most ${MAX_BUNDLE_BYTES} bytes, got ${bytes}` });
  })
  .openapi({
    description:
      'Other files of the script\'s folder by path relative to it (Lua modules for `require`, Postman collections, `.proto` files). At most 500 files, 5 MiB. The CLI bundles them from the script\'s folder.',
    example: { 'lib/helpers.lua': 'return {}', 'postman/api.json': '{"info":{}}' },
  });

/** Free-form key → value tags used to filter runs (`team=payments`). */
export const LabelsSchema = z
  .record(
    z.string().regex(LABEL_KEY, { error: 'is not a valid label key (letters, digits, ".", "_", "-", "/"; at most 128)' }),
    z.string({ error: (iss) => `must be a string, got ${got(iss.input)}` }).max(256, { error: 'must be at most 256 characters' }),
    { error: (iss) => `must be an object of key: "value" pairs, got ${got(iss.input)}` },
  )
  .openapi({ description: 'Key/value tags to filter runs by, e.g. `{ "team": "payments" }`.', example: { team: 'payments' } });

export const TimeoutSchema = intRange(1, MAX_TIMEOUT_SECONDS).openapi({
  description: `Wall-clock limit of the run in seconds (1..${MAX_TIMEOUT_SECONDS}); the run ends TimedOut when exceeded.`,
  example: 600,
});

/** Entry points a client may claim; `crd` and `schedule` are set by topas itself. */
export const CLIENT_ORIGINS = ['api', 'cli', 'ui'] as const;

export const OriginSchema = z
  .enum(CLIENT_ORIGINS, { error: (iss) => `must be one of ${CLIENT_ORIGINS.join(', ')}, got ${got(iss.input)}` })
  .openapi({ description: 'Where the run was started from. Default `api`; the CLI sends `cli`, the dashboard `ui`.' });

const AppNameSchema = text(253).openapi({ description: 'The App (system under test) the run targets.' });

// --- runs ------------------------------------------------------------------

export const CreateRunSchema = z
  .strictObject({
    name: text(200).optional().openapi({ description: 'Display name. Defaults to the definition name, the file name, or "adhoc".' }),
    script: z
      .string({ error: (iss) => `must be a string, got ${got(iss.input)}` })
      .min(1, { error: 'must not be empty' })
      .max(1_000_000, { error: 'must be at most 1000000 characters' })
      .optional()
      .openapi({ description: 'Lua source of the test. Exactly one of `script` and `definitionId`.' }),
    fileName: text(255).optional().openapi({ description: 'Shown in error locations, e.g. `hello.lua` → `hello.lua:12`.' }),
    files: FilesSchema.optional(),
    definitionId: text(200).optional().openapi({ description: 'Id or name of a stored test definition to run. Exactly one of `script` and `definitionId`.' }),
    env: EnvSchema.optional(),
    timeoutSeconds: TimeoutSchema.optional(),
    labels: LabelsSchema.optional(),
    appName: AppNameSchema.optional(),
    appReadOnly: z
      .boolean({ error: (iss) => `must be true or false, got ${got(iss.input)}` })
      .optional()
      .openapi({ description: 'The run only reads its App (no `sut` changes), so it may run beside other read-only runs of the App. Runs that change their App (the default) run alone on it, in order.' }),
    origin: OriginSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const both = body.script !== undefined && body.definitionId !== undefined;
    const neither = body.script === undefined && body.definitionId === undefined;
    if (both || neither) {
      ctx.addIssue({
        code: 'custom',
        path: ['script'],
        message: both
          ? 'give exactly one of script and definitionId, not both'
          : 'give exactly one of script and definitionId (neither was given)',
      });
    }
  })
  .openapi('CreateRun', { description: 'Starts a run of an inline script or of a stored definition.' });

export const RunFromDefinitionSchema = z
  .strictObject({
    name: text(200).optional().openapi({ description: 'Display name; defaults to the definition name.' }),
    env: EnvSchema.optional().openapi({ description: 'Merged over the definition env.' }),
    timeoutSeconds: TimeoutSchema.optional(),
    labels: LabelsSchema.optional(),
    origin: OriginSchema.optional(),
  })
  .openapi('RunFromDefinition');

const IsoTime = z.string().openapi({ description: 'ISO-8601 timestamp.', example: '2025-01-31T12:00:00.000Z' });

const SummarySchema = z
  .object({
    stepsPassed: z.number().int(),
    stepsFailed: z.number().int(),
    stepsSkipped: z.number().int(),
    assertionsPassed: z.number().int(),
    assertionsFailed: z.number().int(),
  })
  .openapi('RunSummary', { description: 'Counts of what the run recorded; live while it runs, final once it ends.' });

const RunSourceSchema = z
  .union([
    z.object({ type: z.literal('inline'), script: z.string(), fileName: z.string().optional(), files: z.record(z.string(), z.string()).optional() }),
    z.object({ type: z.literal('definition'), definitionId: z.string(), script: z.string(), fileName: z.string().optional(), files: z.record(z.string(), z.string()).optional() }),
    z.object({ type: z.literal('git'), url: z.string(), path: z.string(), revision: z.string(), script: z.string().optional() }),
  ])
  .openapi('RunSource', { description: 'What the run executes. The script is snapshotted onto the run when it is created.' });

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

export const isoParam = (description: string) =>
  z
    .string()
    .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), {
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

const cursorParam = z.string().optional().openapi({ description: 'The `nextCursor` of the previous page.' });

/** A query parameter of `key=value` labels that may repeat (`?label=a=1&label=b=2`); all must match. */
export function labelsParam(description: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((raw, ctx) => {
      const labels: Record<string, string> = {};
      for (const pair of Array.isArray(raw) ? raw : [raw]) {
        const eq = pair.indexOf('=');
        if (eq <= 0) {
          ctx.addIssue({ code: 'custom', message: `must be key=value, got ${got(pair)}` });
          return z.NEVER;
        }
        labels[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return labels;
    })
    .optional()
    .openapi({ description, type: 'string' });
}

export const ListRunsQuery = z
  .strictObject({
    phase: listParam(RUN_PHASES, 'Only runs in these phases; repeat or comma-separate (`Failed,Error`).'),
    origin: listParam(RUN_ORIGINS, 'Only runs from these origins (`api`, `cli`, `ui`, `crd`, `schedule`).'),
    app: z.string().optional().openapi({ description: 'Only runs of this App.' }),
    label: labelsParam('Only runs with this label, as `key=value`; repeat for several (all must match).'),
    q: z.string().optional().openapi({ description: 'Case-insensitive text contained in the run name.' }),
    since: isoParam('Only runs created at or after this time.'),
    until: isoParam('Only runs created before this time.'),
    definition: z.string().optional().openapi({ description: 'Only runs started from this definition id.' }),
    limit: limitParam,
    cursor: cursorParam,
  })
  .openapi({ description: 'Filters, combined with AND.' });

export const ListDefinitionsQuery = z.strictObject({
  q: z.string().optional().openapi({ description: 'Case-insensitive text contained in the name.' }),
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
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'Run id (UUID).' }),
});

export const DefinitionRefParam = z.object({
  idOrName: z.string().openapi({ param: { name: 'idOrName', in: 'path' }, description: 'Definition id or name.' }),
});

// --- definitions -------------------------------------------------------------

const definitionFields = {
  name: text(200).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'must start with a letter or digit and use only letters, digits, ".", "_" and "-"' }).openapi({
    description: 'Unique name; usable instead of the id in URLs.',
    example: 'checkout-smoke',
  }),
  description: z.string({ error: (iss) => `must be a string, got ${got(iss.input)}` }).max(10_000, { error: 'must be at most 10000 characters' }),
  script: z
    .string({ error: (iss) => `must be a string, got ${got(iss.input)}` })
    .min(1, { error: 'must not be empty' })
    .max(1_000_000, { error: 'must be at most 1000000 characters' })
    .openapi({ description: 'Lua source of the test.' }),
  env: EnvSchema,
  timeoutSeconds: TimeoutSchema,
  labels: LabelsSchema,
  appName: AppNameSchema.nullable(),
  files: FilesSchema,
};

export const CreateDefinitionSchema = z
  .strictObject({
    name: definitionFields.name,
    description: definitionFields.description.optional(),
    script: definitionFields.script,
    env: definitionFields.env.optional(),
    timeoutSeconds: definitionFields.timeoutSeconds.optional(),
    labels: definitionFields.labels.optional(),
    appName: definitionFields.appName.optional(),
    files: definitionFields.files.optional(),
  })
  .openapi('NewDefinition', { description: 'A named test runs can be started from. PUT takes the same shape and replaces every field.' });

export const PatchDefinitionSchema = CreateDefinitionSchema.partial().openapi('DefinitionPatch', {
  description: 'Fields to change; the others keep their values.',
});

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
