import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';

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
  timeoutMs: number;
  /** The App the run targets (its services resolve as host names; `sut` acts on it). */
  appName: string | null;
  /** The run declared it only reads its App: `sut` changes are refused. */
  appReadOnly: boolean;
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
 * Executes claimed runs. The engine decides what runs and when (the one global
 * concurrency limit lives there); an executor only runs what it is handed and
 * reports events and a completion. `local`, `kubernetes` and `nats` implement this
 * and all pass `executor.contract.ts`.
 */
export interface Executor {
  readonly name: string;
  /** How many runs this executor can execute at once. */
  readonly capacity: number;
  /**
   * Resolves with how the run ended, never rejects for script problems (those are
   * Failed/Error completions). `signal` aborts → Cancelled.
   */
  execute(job: ExecutionJob, onEvent: (event: RunEvent) => void, signal: AbortSignal): Promise<RunCompletion>;
  close(): Promise<void>;
}
