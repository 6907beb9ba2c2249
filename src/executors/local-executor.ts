/**
 * The `local` executor: runs scripts in this process's Lua worker pool. Workers host
 * many concurrent runs (scripts mostly wait on I/O), so capacity is not the worker count;
 * the engine's global concurrency limit decides how many runs are in flight.
 */
import type { RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from '../runner/lua-runner.js';
import type { ExecutionJob, Executor } from './executor.js';

export interface LocalExecutorOptions {
  /** Worker threads of the Lua pool. */
  workers: number;
  /** Memory cap of each run's Lua state. */
  memoryLimitBytes: number;
}

/** How many runs the local executor accepts at once. */
export const LOCAL_EXECUTOR_CAPACITY = 1000;

export function createLocalExecutor(options: LocalExecutorOptions): Executor {
  const runner = createLuaRunner({ workers: options.workers });
  return {
    name: 'local',
    capacity: LOCAL_EXECUTOR_CAPACITY,
    execute(job: ExecutionJob, onEvent: (event: RunEvent) => void, signal: AbortSignal): Promise<RunCompletion> {
      return runner.run(
        {
          runId: job.runId,
          script: job.script,
          fileName: job.fileName || 'script.lua',
          files: job.files,
          env: job.env,
          timeoutMs: job.timeoutMs,
          memoryLimitBytes: options.memoryLimitBytes,
        },
        onEvent,
        signal,
      );
    },
    close: () => runner.close(),
  };
}
