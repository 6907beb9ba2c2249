import type { Registry } from 'prom-client';
import type { K8sRef, Run, RunOrigin, RunSource } from '../core/run.js';

/** A request to start a run, from any entry point. Exactly one of `script` / `definitionId` / `source`. */
export interface RunRequest {
  origin: RunOrigin;
  /**
   * The run's id, when the entry point derives it (a TestRun's run: from the resource's
   * uid, so recording it again after a crash finds the first instead of making a
   * second; `ConflictError` when it exists). Default: a new id. Not settable over the API.
   */
  id?: string;
  /** Defaults to the definition's name, the file name, or "adhoc". */
  name?: string;
  script?: string;
  /** Shown in error locations; e.g. `hello.lua`. */
  fileName?: string;
  /** Other files of the script's folder (with `script`), by relative path. */
  files?: Record<string, string>;
  /** A definition id or name; its script is snapshotted onto the run. */
  definitionId?: string;
  /**
   * Instead of `script` / `definitionId`: a source as stored on a run, used as it is
   * (a re-run executes the script and files its original ran, whatever its definition says now).
   */
  source?: RunSource;
  /** Merged over the definition's env. */
  env?: Record<string, string>;
  timeoutSeconds?: number;
  labels?: Record<string, string>;
  appName?: string | null;
  /** The run only reads its App, so it may overlap other read-only runs of it. Default false. */
  appReadOnly?: boolean;
  k8sRef?: K8sRef | null;
}

/**
 * Something changed for a run. Followers re-read the store after a notification:
 * the store is the truth, a notification only says "look now".
 */
export type RunNotification =
  | { type: 'phase'; run: Run }
  /** New log lines / steps / assertions were persisted; `lastLogSeq` is the newest log seq. */
  | { type: 'events'; runId: string; lastLogSeq: number };

export interface EngineStats {
  /** Queued runs (all instances). */
  queueDepth: number;
  /** Running runs (all instances). */
  activeRunners: number;
  /** The global concurrency limit. */
  concurrency: number;
}

/**
 * The one place that decides scheduling: a durable queue in the store, one global
 * concurrency limit, per-run timeouts, cancel, and recovery of runs whose executor
 * died. Every entry point submits through here.
 */
export interface Engine {
  /** Validates, stores the run as Queued and wakes the dispatcher. Throws ValidationError / NotFoundError. */
  submit(request: RunRequest): Promise<Run>;
  /**
   * Several runs in one call (CI fan-out), validated all or nothing (a ValidationError
   * names `runs[i].field`), inserted together in order.
   */
  submitMany(requests: RunRequest[]): Promise<Run[]>;
  /** Queued → Cancelled at once; Running → stops the script → Cancelled. NotFoundError; ConflictError when already finished. */
  cancel(id: string): Promise<Run>;
  /** Notifications for one run. Returns the unsubscribe function. */
  subscribe(runId: string, listener: (n: RunNotification) => void): () => void;
  /** Phase notifications of every run (live lists). Returns the unsubscribe function. */
  subscribeAll(listener: (n: RunNotification) => void): () => void;
  stats(): Promise<EngineStats>;
  /** Prometheus registry with topas_queue_depth, topas_active_runners, topas_test_duration_seconds, topas_runs_total. */
  readonly metrics: Registry;
  start(): Promise<void>;
  /** Stops dispatching; running runs are cancelled as ExecutorLost only if the process dies — a clean stop waits up to `graceMs` then fails them with Error. */
  stop(graceMs?: number): Promise<void>;
}
