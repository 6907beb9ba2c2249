import type { RunPhase } from './run-phase.js';

/** Where a run was started from. */
/** `import`: a JUnit or Gauge report brought in with `topas report import` / `POST /api/reports`. */
export const RUN_ORIGINS = ['api', 'cli', 'ui', 'crd', 'schedule', 'import'] as const;
export type RunOrigin = (typeof RUN_ORIGINS)[number];

/** The TestRun custom resource a run mirrors (origin `crd`). */
export interface K8sRef {
  namespace: string;
  name: string;
  uid?: string;
}

/**
 * What a run executes. The script text is always resolved and stored on the run
 * (a definition's script is snapshotted when the run is created), so a run can be
 * re-read and re-run even after its definition changed.
 */
export type RunSource =
  | { type: 'inline'; script: string; fileName?: string; files?: RunFiles }
  | { type: 'definition'; definitionId: string; script: string; fileName?: string; files?: RunFiles }
  | GitRunSource;

/** The revision of a git source that names none: the repository's default branch. */
export const DEFAULT_GIT_REVISION = 'HEAD';

/**
 * A test in a git repository, checked out when the run executes (a temporary folder
 * on the local executor, an init container on Kubernetes). `commit` (the SHA the
 * revision resolved to), `script` and `files` are recorded once checked out; a re-run
 * checks the revision out again.
 */
export interface GitRunSource {
  type: 'git';
  /** `https://`, `http://`, or `file://` where the server allows it; never with a password. */
  url: string;
  /** The script's path inside the repository (`tests/smoke.lua`); its folder's other files come with it. */
  path: string;
  /** Branch, tag, full or abbreviated commit SHA, or `HEAD` (the repository's default branch). */
  revision: string;
  /** The full SHA checked out, once known. */
  commit?: string;
  /** The script and the other files of its folder as checked out, once known (what the run ran). */
  script?: string;
  files?: RunFiles;
}

/**
 * The other files of a test's folder, by path relative to the script's folder
 * (`lib/helpers.lua`, `postman/api.json`, `protos/echo.proto`): what `require`,
 * `postman.run` and `net.grpc{proto=...}` may read. The CLI bundles them from the
 * script's folder; a ConfigMap or a git clone provides them on Kubernetes.
 */
export type RunFiles = Record<string, string>;

/** Counts of what a run recorded; filled as events arrive and final at the end. */
export interface RunSummary {
  stepsPassed: number;
  stepsFailed: number;
  stepsSkipped: number;
  assertionsPassed: number;
  assertionsFailed: number;
  /**
   * Failed test cases that were quarantined: recorded, but they did not fail the run
   * (a run whose every failure is quarantined is Passed). Set when the run ends.
   */
  quarantinedFailures?: number;
}

export const EMPTY_SUMMARY: RunSummary = {
  stepsPassed: 0,
  stepsFailed: 0,
  stepsSkipped: 0,
  assertionsPassed: 0,
  assertionsFailed: 0,
};

/**
 * Why a run did not pass. Free text is in `message`; `reason` is a stable,
 * CamelCase word a machine can switch on (like a Kubernetes condition reason).
 */
export const RUN_REASONS = [
  'AssertionFailed', // an assert/expect failed
  'ScriptError', // the script raised an error
  'ScriptInvalid', // the script does not compile
  'Timeout', // the run exceeded timeoutSeconds
  'Cancelled', // a user cancelled it
  'MemoryLimit', // the script exceeded its memory cap
  'ExecutorLost', // the process running it died
  'RunnerCrashed', // the runner itself failed
  'StoreWriteFailed', // the store refused to record how the run ended (the outcome is in `message`)
  // A runner Pod's fate on Kubernetes (the run's `message` says more):
  'PodDeleted', // its runner Pod was deleted before the run ended
  'Evicted', // the kubelet evicted its runner Pod (node pressure)
  'OOMKilled', // its runner container exceeded its memory limit
  'ImagePullError', // the runner image could not be pulled within the grace period
  'SchedulingError', // no node could take the runner Pod within the grace period
  'CrashLoopBackOff', // the runner container kept crashing before it could report
  'SourceUnavailable', // the run's git source could not be checked out (URL refused, revision or path not found, unreachable)
] as const;
export type RunReason = (typeof RUN_REASONS)[number];

/** One test execution. The same shape in the database, the API, the CLI and the UI. */
export interface Run {
  id: string;
  name: string;
  phase: RunPhase;
  origin: RunOrigin;
  k8sRef: K8sRef | null;
  appName: string | null;
  /**
   * The run only reads its App (no `sut` changes): it may run beside other read-only
   * runs of the App. Runs that change their App (the default) run alone on it.
   */
  appReadOnly: boolean;
  source: RunSource;
  env: Record<string, string>;
  timeoutSeconds: number;
  labels: Record<string, string>;
  /** ISO-8601 timestamps. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Wall time from start to finish in milliseconds (null until finished). */
  durationMs: number | null;
  summary: RunSummary;
  reason: RunReason | null;
  message: string | null;
  /** The topas instance that executes (or executed) the run. */
  executor: string | null;
  /**
   * A failed run's failure category (`core/categories.ts`: that of its first failed
   * test case) and the rule that gave it (null: the default); null while not failed.
   */
  category: string | null;
  categoryRule: string | null;
  /** What the run used of its machine (`RunProfile`); null when its executor did not say (old runners, runs that never ran or were killed). */
  profile: RunProfile | null;
  /**
   * When retention deleted the run's log lines (`TOPAS_LOG_RETENTION_DAYS`, `core/retention.ts`);
   * its steps, assertions and results are kept. Null: the run has every line it logged.
   */
  logsExpiredAt: string | null;
}

/**
 * What one run used. Local executor: `cpuMs` is the CPU time the Lua worker thread spent
 * running this run's Lua code (and the host functions it calls synchronously), from
 * Linux's per-thread scheduler clock; `peakMemoryBytes` the highest memory its Lua state
 * held. Kubernetes: each figure is its runner container's (cgroup `cpu.stat` usage and
 * `memory.peak`) when the cgroup shows it, else the Lua state's. docs/operations.md says more.
 */
export interface RunProfile {
  /** CPU time in milliseconds (fractional). */
  cpuMs: number;
  /** The highest memory held at once, in bytes. */
  peakMemoryBytes: number;
}

/** What creating a run needs; everything else is set by the store. */
export interface NewRun {
  id?: string;
  name: string;
  origin: RunOrigin;
  k8sRef?: K8sRef | null;
  appName?: string | null;
  appReadOnly?: boolean;
  source: RunSource;
  env?: Record<string, string>;
  timeoutSeconds: number;
  labels?: Record<string, string>;
}

/** How a run ended, as reported by an executor. */
export interface RunCompletion {
  phase: Extract<RunPhase, 'Passed' | 'Failed' | 'Error' | 'TimedOut' | 'Cancelled'>;
  reason: RunReason | null;
  message: string | null;
  summary: RunSummary;
  /** What the run used; absent when the executor could not measure it. */
  profile?: RunProfile;
}

/** Filters for listing runs; all optional and combined with AND. */
export interface RunFilter {
  phase?: RunPhase[];
  origin?: RunOrigin[];
  appName?: string;
  /** label key → value; every pair must match. */
  labels?: Record<string, string>;
  /** Case-insensitive substring of the run name. */
  text?: string;
  /** Runs created at or after / before these ISO timestamps. */
  createdAfter?: string;
  createdBefore?: string;
  definitionId?: string;
  /** Failed runs whose failure category is one of these (`Regression`, `Config Gap`, …). */
  category?: string[];
}

export const DEFAULT_TIMEOUT_SECONDS = 600;
export const MAX_TIMEOUT_SECONDS = 24 * 3600;
