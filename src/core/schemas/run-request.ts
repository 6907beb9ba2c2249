/**
 * What starting a run takes, for every entry point: the REST API's bodies
 * (`CreateRun`, `RunFromDefinition`, `Rerun`) and the engine's `submit`, which
 * checks every request again (CLI, dashboard, schedules and CRDs included).
 */
import { z } from 'zod';
import { MAX_TIMEOUT_SECONDS, RUN_ORIGINS } from '../run.js';
import { EnvSchema } from './env.js';
import { FilesSchema, isBundlePath } from './files.js';
import { LabelsSchema } from './labels.js';
import { AppNameSchema, DefinitionRefSchema, RunNameSchema } from './names.js';
import { boolean, got, intRange, string, text } from './text.js';

export const MAX_SCRIPT_CHARS = 1_000_000;

/** Lua source text. */
export const ScriptSchema = text(MAX_SCRIPT_CHARS);

export const TimeoutSchema = intRange(1, MAX_TIMEOUT_SECONDS).meta({
  description: `Wall-clock limit of the run in seconds (1..${MAX_TIMEOUT_SECONDS}); the run ends TimedOut when exceeded.`,
  example: 600,
});

/** Entry points a client may claim; `crd` and `schedule` are set by topas itself. */
export const CLIENT_ORIGINS = ['api', 'cli', 'ui'] as const;

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `must be one of ${values.join(', ')}, got ${got(iss.input)}` });

export const OriginSchema = enumOf(CLIENT_ORIGINS).meta({ description: 'Where the run was started from. Default `api`; the CLI sends `cli`, the dashboard `ui`.' });

/**
 * A git repository URL: `https://` or `http://` (its host must pass the egress policy
 * when the run executes), or `file://` when the server allows it (`--git-allow-file`).
 * No password in the URL: it would be stored and shown; private repositories take
 * `GIT_USERNAME`/`GIT_PASSWORD` from the run's env (or a TestRun's `secretRef`).
 */
export const GitUrlSchema = text(2048)
  .superRefine((url, ctx) => {
    if (/^ssh:\/\//i.test(url) || /^[\w.-]+@[\w.-]+:/.test(url)) {
      ctx.addIssue({
        code: 'custom',
        message: 'ssh URLs are not supported (topas holds no SSH keys); give the https:// URL, with GIT_USERNAME and GIT_PASSWORD in env for a private repository',
        input: url,
      });
      return;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an https://, http:// or file:// URL, got ${got(url)}`, input: url });
      return;
    }
    if (!['https:', 'http:', 'file:'].includes(parsed.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must be an https://, http:// or file:// URL, got ${parsed.protocol}//`, input: url });
    } else if (parsed.password) {
      ctx.addIssue({ code: 'custom', message: 'must not hold a password (it would be stored and shown); give GIT_USERNAME and GIT_PASSWORD in env instead', input: url });
    }
  })
  .meta({ description: 'The repository: `https://` or `http://` (or `file://` on a server started with `--git-allow-file`). No password in it.', example: 'https://git.example.com/acme/checkout-tests.git' });

/** A script's path inside its repository. */
export const GitPathSchema = text(1024)
  .refine(isBundlePath, { error: 'must be a relative path inside the repository (no leading /, no .., e.g. tests/smoke.lua)' })
  .meta({ description: "The script's path from the repository's root; the other files of its folder become the run's files.", example: 'tests/smoke.lua' });

/** Branch, tag, commit SHA or HEAD. */
export const GitRevisionSchema = text(255)
  .regex(/^[A-Za-z0-9._\/@+-]+$/, { error: 'must be a branch, tag or commit SHA (letters, digits and . _ / @ + -)' })
  .refine((r) => !r.startsWith('-') && !r.includes('..'), { error: 'must be a branch, tag or commit SHA (not starting with -, no ..)' })
  .meta({ description: "A branch, a tag, a full or abbreviated commit SHA, or `HEAD` (the repository's default branch). Default `HEAD`.", example: 'v1.2.0' });

/** `source.git` of a request. */
export const GitSourceRequestSchema = z
  .strictObject({ url: GitUrlSchema, path: GitPathSchema, revision: GitRevisionSchema.optional() })
  .meta({ id: 'GitSource', description: 'A test in a git repository, checked out when the run executes.' });

/** `source` of a request: where the test comes from when it is neither `script` nor `definitionId`. */
export const RequestSourceSchema = z.strictObject({ git: GitSourceRequestSchema }).meta({ description: 'A test checked out from git. Exactly one of `script`, `definitionId` and `source`.' });

const FileNameSchema = text(255).meta({ description: 'Shown in error locations, e.g. `hello.lua` → `hello.lua:12`.' });

/** The fields a request may set on the run it starts (everything but where the script comes from). */
const runSettings = {
  name: RunNameSchema.optional().meta({ description: 'Display name. Defaults to the definition name, the file name, or "adhoc".' }),
  env: EnvSchema.optional(),
  timeoutSeconds: TimeoutSchema.optional(),
  labels: LabelsSchema.optional(),
};

const appFields = {
  appName: AppNameSchema.optional().meta({ description: 'The App (system under test) the run targets; it must exist.' }),
  appReadOnly: boolean()
    .optional()
    .meta({
      description:
        'The run only reads its App (no `sut` changes), so it may run beside other read-only runs of the App. Runs that change their App (the default) run alone on it, in order.',
    }),
};

/** Exactly one of script / definitionId (/ source, for the engine). */
function exactlyOneSource(body: { script?: unknown; definitionId?: unknown; source?: unknown; files?: unknown }, ctx: z.core.$RefinementCtx) {
  if (body.source !== undefined) {
    if (body.script !== undefined || body.definitionId !== undefined || body.files !== undefined)
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'give exactly one of script, definitionId and source (source goes without script, files or definitionId)', input: body });
    return;
  }
  const both = body.script !== undefined && body.definitionId !== undefined;
  if (both || (body.script === undefined && body.definitionId === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['script'],
      message: both ? 'give exactly one of script, definitionId and source, not two' : 'give exactly one of script, definitionId and source (none was given)',
      input: body,
    });
  } else if (body.definitionId !== undefined && body.files !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['files'], message: 'files go with an inline script, not with definitionId', input: body });
  }
}

const sourceFields = {
  script: ScriptSchema.optional().meta({ description: 'Lua source of the test. Exactly one of `script` and `definitionId`.' }),
  fileName: FileNameSchema.optional(),
  files: FilesSchema.optional(),
  definitionId: DefinitionRefSchema.optional().meta({ description: 'Id or name of a stored test definition to run. Exactly one of `script` and `definitionId`.' }),
};

/** `POST /api/runs`. */
export const CreateRunSchema = z
  .strictObject({ ...runSettings, ...sourceFields, source: RequestSourceSchema.optional(), ...appFields, origin: OriginSchema.optional() })
  .superRefine(exactlyOneSource)
  .meta({ id: 'CreateRun', description: 'Starts a run of an inline script, of a stored definition, or of a test in a git repository (`source.git`).' });

/** `POST /api/definitions/{idOrName}/runs`. */
export const RunFromDefinitionSchema = z
  .strictObject({
    ...runSettings,
    name: runSettings.name.meta({ description: 'Display name; defaults to the definition name.' }),
    env: EnvSchema.optional().meta({ description: 'Merged over the definition env.' }),
    labels: LabelsSchema.optional().meta({ description: 'Merged over the definition labels (at most 64 in all).' }),
    origin: OriginSchema.optional(),
  })
  .meta({ id: 'RunFromDefinition' });

/** `POST /api/runs/{id}/rerun`. */
export const RerunSchema = z
  .strictObject({
    origin: OriginSchema.optional(),
    env: EnvSchema.optional().meta({ description: "Merged over the original run's env (which keeps its secrets)." }),
  })
  .meta({ id: 'Rerun', description: 'Optional changes for the new run; everything else is copied from the original.' });

const FilesOnRun = FilesSchema.optional();

/** A source as stored on a run (a re-run submits its original's). */
export const RunSourceSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('inline'), script: ScriptSchema, fileName: FileNameSchema.optional(), files: FilesOnRun }),
    z.strictObject({ type: z.literal('definition'), definitionId: text(200), script: ScriptSchema, fileName: FileNameSchema.optional(), files: FilesOnRun }),
    z.strictObject({ type: z.literal('git'), url: GitUrlSchema, path: GitPathSchema, revision: GitRevisionSchema, commit: text(64).optional(), script: ScriptSchema.optional(), files: FilesOnRun }),
  ],
  { error: (iss) => `must be an inline, definition or git source, got ${got(iss.input)}` },
);

const K8sRefSchema = z.strictObject({ namespace: text(253), name: text(253), uid: string().max(128).optional() });

/** What the engine's `submit` takes, from any entry point. */
export const RunRequestSchema = z
  .strictObject({
    ...runSettings,
    ...sourceFields,
    ...appFields,
    appName: AppNameSchema.nullable().optional(),
    origin: enumOf(RUN_ORIGINS),
    source: RunSourceSchema.optional(),
    k8sRef: K8sRefSchema.nullable().optional(),
    id: string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { error: 'must be a lower-case UUID' })
      .optional(),
  })
  .superRefine(exactlyOneSource);
