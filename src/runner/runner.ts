import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import type { AppEndpoints, SutOperation, SutReply } from '../core/sut.js';
import type { EgressPolicy } from './egress-policy.js';

/** One script execution handed to the Lua runner. */
export interface ScriptJob {
  runId: string;
  script: string;
  /** Shown in error locations (`hello.lua:12`); defaults to `script.lua`. */
  fileName: string;
  /** Other files of the script's folder by relative path: what `require`, `postman.run` and `.proto` loading read. */
  files: Record<string, string>;
  env: Record<string, string>;
  /** Wall-clock limit; the run ends TimedOut within timeoutMs + 1 s. */
  timeoutMs: number;
  /** Memory cap of the Lua state; exceeding it ends the run as Error (MemoryLimit). */
  memoryLimitBytes: number;
  /** The App the run targets: its names resolve to these endpoints, `sut` acts on it. */
  app?: { name: string; readOnly: boolean; endpoints: AppEndpoints } | null;
  /**
   * Where the run may connect (`TOPAS_EGRESS_ALLOW`); the runner pool sets it from its
   * options. Absent: anywhere but the cloud metadata addresses (blocked always).
   */
  egress?: EgressPolicy;
}

/** Performs a `sut` operation for a run (in the process that owns the App). */
export type SutHandler = (op: SutOperation, args: unknown[]) => Promise<SutReply>;

/** Receives events in the order the script produced them. */
export type RunEventSink = (event: RunEvent) => void;

/**
 * Runs Lua scripts in a pool of worker threads, one fresh Lua engine per run.
 * `signal` cancels (→ Cancelled). A script that ignores its timeout or a cancel is
 * stopped by terminating its worker (which the pool then replaces).
 */
export interface ScriptRunner {
  readonly size: number;
  /** `sut` answers the script's `sut.*` calls; without it they raise "this run targets no App". */
  run(job: ScriptJob, onEvent: RunEventSink, signal?: AbortSignal, sut?: SutHandler): Promise<RunCompletion>;
  close(): Promise<void>;
}
