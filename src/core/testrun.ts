/**
 * The `TestRun` custom resource (`topas.dev/v1alpha1`): a test run asked for with
 * `kubectl apply`. One zod schema per part is the single source: the controller and
 * the CLI validate with it, and the CRD's `openAPIV3Schema` (with its descriptions) is
 * generated from it (`src/kubernetes/crd/`), so the API server refuses what topas would.
 *
 * The spec is read once, when the run is recorded: a run executes the spec of the
 * generation it started from (`status.runGeneration`); later edits are ignored and
 * reported by the `SpecDrifted` condition.
 */
import { z } from 'zod';
import { GO_DURATION_PATTERN, parseGoDuration } from './go-duration.js';
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from './run.js';
import { RUN_PHASES } from './run-phase.js';
import { EnvSchema } from './schemas/env.js';
import { AppNameSchema, DefinitionNameSchema } from './schemas/names.js';
import { MAX_SCRIPT_CHARS } from './schemas/run-request.js';
import { boolean, got, intRange, string, text, textUpTo } from './schemas/text.js';

export const TESTRUN_GROUP = 'topas.dev';
export const TESTRUN_VERSION = 'v1alpha1';
export const TESTRUN_API_VERSION = `${TESTRUN_GROUP}/${TESTRUN_VERSION}`;
export const TESTRUN_KIND = 'TestRun';
export const TESTRUN_PLURAL = 'testruns';
export const TESTRUN_SINGULAR = 'testrun';
export const TESTRUN_SHORT_NAMES = ['tr'] as const;
export const TOPAS_CATEGORY = 'topas';
/** Holds a TestRun until its run is cancelled and its Pod and ConfigMap are gone. */
export const TESTRUN_FINALIZER = 'topas.dev/cleanup';

/** The git revision used when `spec.git.revision` is not given: the remote's default branch. */
export const DEFAULT_GIT_REVISION = 'HEAD';

/** A DNS-1123 subdomain: the name of a Secret or ConfigMap. */
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The name of an object in the TestRun's namespace. */
function objectName(what: string) {
  return string()
    .min(1, { error: 'must not be empty' })
    .max(253, { error: 'must be at most 253 characters' })
    .regex(new RegExp(DNS_SUBDOMAIN), { error: `must be a ${what} name (lower-case letters, digits, "-" and ".")` })
    .meta({ description: `Name of a ${what} in the TestRun's namespace.` });
}

/** `{name}`: a reference to an object in the TestRun's namespace, as core/v1 writes it. */
function localRef(what: string, description: string) {
  return z.strictObject({ name: objectName(what) }).meta({ description });
}

/** A Kubernetes resource quantity (`100m`, `512Mi`, `2`), as a string or a whole number. */
export const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
export const QuantitySchema = z
  .union(
    [
      z.number().int().min(0),
      string().regex(new RegExp(QUANTITY_PATTERN), { error: (iss) => `must be a Kubernetes quantity such as 500m, 1, 256Mi or 2Gi, got ${got(iss.input)}` }),
    ],
    { error: (iss) => `must be a Kubernetes quantity such as 500m, 1, 256Mi or 2Gi, got ${got(iss.input)}` },
  )
  .meta({ description: 'A Kubernetes quantity: 500m, 1, 256Mi, 2Gi.' });

const ResourceListSchema = z.record(string(), QuantitySchema, { error: (iss) => `must be an object of resource: quantity pairs, got ${got(iss.input)}` });

/** Kubernetes `ResourceRequirements` (requests and limits only). */
export const ResourcesSchema = z
  .strictObject({
    requests: ResourceListSchema.optional().meta({ description: 'Resources the runner container is guaranteed (`cpu`, `memory`, `ephemeral-storage`).' }),
    limits: ResourceListSchema.optional().meta({ description: 'Most the runner container may use; over the memory limit it is OOM-killed.' }),
  })
  .meta({ description: 'Requests and limits of the runner container, merged over topas\'s defaults (requests cpu 100m, memory 128Mi; limits memory 512Mi).' });

/** Kubernetes `Toleration`. */
export const TolerationSchema = z
  .strictObject({
    key: textUpTo(316).optional().meta({ description: 'The taint key; empty with operator Exists matches every taint.' }),
    operator: z.enum(['Exists', 'Equal']).optional().meta({ description: 'Exists or Equal (default Equal).' }),
    value: textUpTo(63).optional().meta({ description: 'The taint value to match (operator Equal).' }),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().meta({ description: 'The taint effect to match; empty matches all.' }),
    tolerationSeconds: z.number().int().optional().meta({ description: 'For NoExecute: how long the Pod stays bound after the taint appears.' }),
  })
  .meta({ description: 'A Kubernetes toleration of the runner Pod.' });

/** Where the runner Pod runs and with what: applied over topas's defaults. */
export const RunnerOverridesSchema = z
  .strictObject({
    image: text(512).optional().meta({ description: 'Runner image. Default: the topas image of the controller\'s version (ghcr.io/topas-dev/topas:<version>).' }),
    resources: ResourcesSchema.optional(),
    serviceAccountName: objectName('ServiceAccount').optional().meta({ description: 'ServiceAccount of the runner Pod, whose API token is then mounted. Default: the namespace\'s default ServiceAccount with no token mounted (the runner reaches its App through topas).' }),
    nodeSelector: z.record(string(), string()).optional().meta({ description: 'Node labels the runner Pod must be scheduled on.' }),
    tolerations: z.array(TolerationSchema).max(64).optional().meta({ description: 'Tolerations of the runner Pod.' }),
  })
  .meta({ description: 'Overrides of the runner Pod.' });

export const GitSourceSchema = z
  .strictObject({
    url: text(2048).meta({ description: 'Repository URL to clone (https://, ssh:// or file://).', example: 'https://github.com/org/tests.git' }),
    path: text(1024).meta({ description: 'The script\'s path inside the repository; its folder is the test folder (`require`, Postman files).', example: 'scenarios/upgrade.lua' }),
    revision: text(255).optional().meta({ description: `Branch, tag or commit SHA to check out. Default ${DEFAULT_GIT_REVISION} (the default branch).`, example: 'v1.2.0' }),
    secretRef: localRef('Secret', 'A kubernetes.io/basic-auth Secret (keys `username`, `password`) for a private repository.').optional(),
  })
  .meta({ description: 'Run a script from a git repository: an init container clones it into the runner Pod.' });

/** One entry of `envFrom`: exactly one of `secretRef` and `configMapRef`. */
export const EnvFromSourceSchema = z
  .strictObject({
    secretRef: localRef('Secret', 'Every key of this Secret becomes an env variable; the values are masked in everything the run reports.').optional(),
    configMapRef: localRef('ConfigMap', 'Every key of this ConfigMap becomes an env variable.').optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.secretRef === undefined) === (v.configMapRef === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of secretRef and configMapRef', input: v });
  })
  .meta({
    description: 'Env variables from every key of a Secret or a ConfigMap (exactly one of secretRef and configMapRef).',
    'x-kubernetes-validations': [{ rule: 'has(self.secretRef) != has(self.configMapRef)', message: 'give exactly one of secretRef and configMapRef' }],
  });

export const TimeoutTextSchema = string()
  .min(2, { error: 'must be a duration such as 90s, 10m or 1h30m (whole hours, minutes and seconds)' })
  .regex(new RegExp(GO_DURATION_PATTERN), { error: 'must be a duration such as 90s, 10m or 1h30m (whole hours, minutes and seconds)' })
  .superRefine((v, ctx) => {
    const seconds = parseGoDuration(v);
    if (seconds === null || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS)
      ctx.addIssue({ code: 'custom', message: `must be from 1s to ${MAX_TIMEOUT_SECONDS / 3600}h, got ${got(v)}`, input: v });
  })
  .meta({ description: `Wall-clock limit of the run (90s, 10m, 1h30m; at most 24h). Default ${DEFAULT_TIMEOUT_SECONDS / 60}m. The run ends TimedOut when it passes.`, example: '10m' });

/** The three places a TestRun's script can come from: exactly one is given. */
export const TESTRUN_SOURCES = ['script', 'git', 'definition'] as const;
const EXACTLY_ONE_SOURCE_RULE = TESTRUN_SOURCES.map((s) => `(has(self.${s}) ? 1 : 0)`).join(' + ') + ' == 1';

export const TestRunSpecSchema = z
  .strictObject({
    appName: AppNameSchema.optional().meta({ description: 'The App (system under test) the run targets; it must exist.' }),
    script: text(MAX_SCRIPT_CHARS).optional().meta({ description: 'Inline Lua source of the test. Exactly one of script, git and definition.' }),
    fileName: text(255)
      .regex(/^[^/]+$/, { error: 'must be a file name without "/"' })
      .optional()
      .meta({ description: 'File name of the inline script, shown in failure locations (`smoke.lua:12`). Default: the TestRun\'s name with `.lua`.' }),
    git: GitSourceSchema.optional(),
    definition: DefinitionNameSchema.optional().meta({ description: 'Name of a test definition stored in topas to run. Exactly one of script, git and definition.' }),
    timeout: TimeoutTextSchema.optional(),
    env: EnvSchema.optional().meta({ description: 'Env variables the script reads with `env.NAME`; they override envFrom.' }),
    envFrom: z.array(EnvFromSourceSchema).max(32).optional().meta({ description: 'Secrets and ConfigMaps whose keys become env variables, read when the run is recorded.' }),
    files: z
      .strictObject({ configMapRef: localRef('ConfigMap', 'A ConfigMap holding the test folder\'s other files: each key is a file name, or a path with "/" written as "_2F" (see docs/kubernetes.md).') })
      .optional()
      .meta({ description: 'Other files of the script\'s folder (Lua modules for `require`, Postman collections, .proto files), for an inline script.' }),
    readOnly: boolean().optional().meta({ description: 'The run only reads its App (no `sut` changes), so it may run beside other read-only runs of the App.' }),
    ttlSecondsAfterFinished: intRange(0, 365 * 24 * 3600).optional().meta({ description: 'Delete the TestRun this many seconds after its run ended (the run stays in topas).' }),
    runner: RunnerOverridesSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const given = TESTRUN_SOURCES.filter((s) => spec[s] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1] ?? 'script'],
        message: given.length ? `give exactly one of script, git and definition, not ${given.join(' and ')}` : 'give exactly one of script, git and definition (none was given)',
        input: spec,
      });
    if (spec.files !== undefined && spec.script === undefined) ctx.addIssue({ code: 'custom', path: ['files'], message: 'files go with an inline script (git and definition sources bring their own)', input: spec });
    if (spec.fileName !== undefined && spec.script === undefined) ctx.addIssue({ code: 'custom', path: ['fileName'], message: 'fileName goes with an inline script', input: spec });
  })
  .meta({
    description: 'What to run, against which App, with what: exactly one of script, git and definition. Read when the run starts; later changes are ignored.',
    'x-kubernetes-validations': [
      { rule: EXACTLY_ONE_SOURCE_RULE, message: 'give exactly one of script, git and definition' },
      { rule: '!has(self.files) || has(self.script)', message: 'files go with an inline script' },
      { rule: '!has(self.fileName) || has(self.script)', message: 'fileName goes with an inline script' },
    ],
  });
export type TestRunSpec = z.infer<typeof TestRunSpecSchema>;
export type GitSource = z.infer<typeof GitSourceSchema>;
export type RunnerOverrides = z.infer<typeof RunnerOverridesSchema>;
export type Toleration = z.infer<typeof TolerationSchema>;
export type Quantity = z.infer<typeof QuantitySchema>;

/** The inline script's file name: `spec.fileName`, else `<metadata.name>.lua` (so failures read `checkout-smoke.lua:12`). */
export function scriptFileName(testRun: { metadata: { name: string }; spec: Pick<TestRunSpec, 'fileName'> }): string {
  return testRun.spec.fileName ?? `${testRun.metadata.name}.lua`;
}

/** The timeout of a spec in seconds (its `timeout`, else the default). */
export function specTimeoutSeconds(spec: Pick<TestRunSpec, 'timeout'>, defaultSeconds = DEFAULT_TIMEOUT_SECONDS): number {
  return spec.timeout === undefined ? defaultSeconds : (parseGoDuration(spec.timeout) ?? defaultSeconds);
}

// --- status ------------------------------------------------------------------

const DateTimeSchema = string().meta({ description: 'RFC 3339 time.', format: 'date-time' });
const int64 = (description: string) => z.number().int().min(0).meta({ description, format: 'int64' });

/** A `metav1.Condition`, as every Kubernetes API writes it. */
export const ConditionSchema = z
  .strictObject({
    type: text(316).regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/).meta({ description: 'Ready, PodsHealthy, TestCompleted or SpecDrifted.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    observedGeneration: int64('The TestRun generation this condition was set from.').optional(),
    lastTransitionTime: DateTimeSchema.meta({ description: 'When status last changed.', format: 'date-time' }),
    reason: text(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/).meta({ description: 'A CamelCase word a machine can switch on.' }),
    message: textUpTo(32768).meta({ description: 'What happened, for people.' }),
  })
  .meta({ description: 'A metav1.Condition.' });
export type Condition = z.infer<typeof ConditionSchema>;

export const TestRunSummarySchema = z
  .strictObject({
    stepsPassed: int64('Tests and steps that passed.'),
    stepsFailed: int64('Tests and steps that failed.'),
    stepsSkipped: int64('Tests and steps that were skipped.'),
    assertionsPassed: int64('Assertions that held.'),
    assertionsFailed: int64('Assertions that failed.'),
  })
  .meta({ description: 'Counts of what the run recorded; final when the run ended.' });

export const TestRunStatusSchema = z
  .strictObject({
    phase: z.enum(RUN_PHASES).optional().meta({ description: 'The run\'s phase: Queued, Running, Passed, Failed, Error, TimedOut or Cancelled (the same words as the API, the CLI and the dashboard).' }),
    runId: text(64).optional().meta({ description: 'Id of the run in topas (GET /api/runs/{runId}).' }),
    podName: text(253).optional().meta({ description: 'The runner Pod.' }),
    startTime: DateTimeSchema.optional().meta({ description: 'When the run started executing.', format: 'date-time' }),
    completionTime: DateTimeSchema.optional().meta({ description: 'When the run ended.', format: 'date-time' }),
    duration: text(32).optional().meta({ description: 'How long the run took (start to end), e.g. 4.2s or 3m10s.' }),
    observedGeneration: int64('The newest generation of the TestRun the controller has seen.').optional(),
    runGeneration: int64('The generation whose spec the run executes (later spec changes are ignored).').optional(),
    summary: TestRunSummarySchema.optional(),
    reason: text(1024).optional().meta({ description: 'Why the run did not pass, as a CamelCase word (AssertionFailed, Timeout, ImagePullError, …).' }),
    message: textUpTo(32768).optional().meta({ description: 'The first failure with its file:line, or what went wrong.' }),
    conditions: z
      .array(ConditionSchema)
      .max(16)
      .optional()
      .meta({ description: 'Ready, PodsHealthy, TestCompleted and SpecDrifted.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  })
  .meta({ description: 'What the run is doing or how it ended; written by the controller.' });
export type TestRunStatus = z.infer<typeof TestRunStatusSchema>;
export type TestRunSummary = z.infer<typeof TestRunSummarySchema>;

/** The metadata of a TestRun that topas reads. */
export interface TestRunMetadata {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
}

/** A TestRun as read from the API server. */
export interface TestRun {
  apiVersion: typeof TESTRUN_API_VERSION;
  kind: typeof TESTRUN_KIND;
  metadata: TestRunMetadata;
  spec: TestRunSpec;
  status?: TestRunStatus;
}
