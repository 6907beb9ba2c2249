import type { K8sRef, RunCompletion } from '../core/run.js';
import type { NumberedRunEvent } from '../core/run-events.js';

/** What a git source resolved to when it was checked out. */
export interface GitCheckout {
  /** The full SHA. */
  commit: string;
  script?: string;
  files?: Record<string, string>;
}

/** What an executor needs to execute one claimed run. */
export interface ExecutionJob {
  runId: string;
  name: string;
  script: string;
  fileName: string;
  /** Other files of the script's folder by relative path (see RunFiles). */
  files: Record<string, string>;
  env: Record<string, string>;
  /** The whole run's limit, from its start (`startedAt`); a re-attached run has less left. */
  timeoutMs: number;
  /** When the run started (epoch ms; the store's `startedAt`), so a re-attach knows the time left. */
  startedAt?: number;
  /** The App the run targets (its services resolve as host names; `sut` acts on it). */
  appName: string | null;
  /** The run declared it only reads its App: `sut` changes are refused. */
  appReadOnly: boolean;
  /** The TestRun the run came from (origin `crd`): the kubernetes executor puts its objects in its namespace, owned by it. */
  k8sRef?: K8sRef | null;
  /**
   * A test in git: the executor checks it out (within the run's timeout) and runs the
   * script at `path` with its folder's files; `script`, `fileName` and `files` are then unused.
   * A failed checkout ends the run `Error`/`SourceUnavailable`.
   */
  git?: { url: string; path: string; revision: string };
  /**
   * Told what the git source resolved to, once checked out: the commit, and the script
   * and files read (when the executor read them). The engine records them on the run.
   */
  onCheckout?: (checkout: GitCheckout) => void;
}

/**
 * Where an executor hands a run's events. Events carry their numbers (`EventNumberer`,
 * given where the script runs), so handing the same event twice — a replayed batch — is
 * harmless: the store keeps one copy.
 */
export interface RunSink {
  /** One event, in the order the script produced it. */
  event(event: NumberedRunEvent): void;
  /**
   * Resolves once every event handed to `event` before the call is stored. A remote
   * runner's batch is acknowledged only after this, so nothing acknowledged is lost.
   */
  stored(): Promise<void>;
}

/**
 * Executes claimed runs. The engine decides what runs and when (the one global
 * concurrency limit lives in the store's claim); an executor only runs what it is
 * handed and reports numbered events and a completion. `local`, `kubernetes` (and the
 * test-only `process`) implement this and all pass `executor.contract.ts`.
 *
 * A run is executed **by identity** (its run id): `execute` starts it at most once,
 * `attach` follows a run that was started earlier, by this or another instance of the
 * executor (after a topas restart or a leader change). Liveness is per run (the
 * runner's heartbeats, the executor's own view such as a Pod's phase), never per topas
 * process.
 */
export interface Executor {
  readonly name: string;
  /** How many runs this executor can execute at once. */
  readonly capacity: number;
  /**
   * True when runs execute outside this process and outlive it (runner Pods, runner
   * processes): after a restart the engine adopts them and calls `attach`. False
   * (`local`): a run dies with its process, and the engine records ExecutorLost.
   */
  readonly detached: boolean;
  /**
   * Starts the run (idempotent by `job.runId`: a run already started is followed, not
   * started again) and resolves with how it ended. Never rejects for script problems
   * (those are Failed/Error completions). `signal` aborts → Cancelled.
   */
  execute(job: ExecutionJob, sink: RunSink, signal: AbortSignal): Promise<RunCompletion>;
  /**
   * Follows a run started earlier (by any instance of this executor) until it ends:
   * events the runner had not yet had stored are handed to `sink` again (replays are
   * harmless), then the completion. Resolves null when nothing of the run is left
   * (no runner, no recorded result): the engine ends it as Error/ExecutorLost. Never
   * starts the run. `local` always answers null.
   */
  attach(job: ExecutionJob, sink: RunSink, signal: AbortSignal): Promise<RunCompletion | null>;
  /**
   * Stops this instance. A detached executor leaves its runs running (another instance
   * attaches to them); its pending `execute`/`attach` promises reject with
   * `ExecutorClosedError`.
   */
  close(): Promise<void>;
  /**
   * A detached executor stops following every run (they go on; another instance
   * attaches to them) but stays usable: this instance lost the leader election. Pending
   * `execute`/`attach` promises reject with `ExecutorClosedError`.
   */
  leaveAll?(): void;
}

/** The executor instance was closed while it followed a run (the run itself goes on, when detached). */
export class ExecutorClosedError extends Error {
  readonly code = 'ExecutorClosed';
  constructor() {
    super('the executor was closed while it followed the run');
    this.name = 'ExecutorClosedError';
  }
}
