/**
 * The `local` executor: runs scripts in this process's Lua worker pool. Workers host
 * many concurrent runs (scripts mostly wait on I/O), so capacity is not the worker count;
 * the engine's global concurrency limit decides how many runs are in flight.
 */
import type { RunCompletion } from '../core/run.js';
import { EventNumberer } from '../core/event-numbering.js';
import type { AppEndpoints } from '../core/sut.js';
import type { SutGateway } from '../core/sut.js';
import { createLuaRunner } from '../runner/lua-runner.js';
import type { EgressPolicy } from '../runner/egress-policy.js';
import type { ExecutionJob, Executor, RunSink } from './executor.js';

export interface LocalExecutorOptions {
  /** Worker threads of the Lua pool. */
  workers: number;
  /** Memory cap of each run's Lua state. */
  memoryLimitBytes: number;
  /** How runs reach their App (host names, `sut`); without it, runs that name an App see none. */
  apps?: SutGateway;
  /** How long a run waits for its App to become ready before it starts anyway. Default 60 s (at most half the run's timeout). */
  appReadyTimeoutMs?: number;
  /** Where runs may connect (`TOPAS_EGRESS_ALLOW`); default anywhere but cloud metadata addresses. */
  egress?: EgressPolicy;
}

/** How many runs the local executor accepts at once. */
export const LOCAL_EXECUTOR_CAPACITY = 1000;

export function createLocalExecutor(options: LocalExecutorOptions): Executor {
  const runner = createLuaRunner({ workers: options.workers, ...(options.egress ? { egress: options.egress } : {}) });
  return {
    name: 'local',
    capacity: LOCAL_EXECUTOR_CAPACITY,
    detached: false,
    // A run of this executor lives in the process that started it: after that process is gone, nothing is left.
    attach: async () => null,
    async execute(job: ExecutionJob, sink: RunSink, signal: AbortSignal): Promise<RunCompletion> {
      const apps = options.apps;
      const numbers = new EventNumberer();
      const onEvent = (event: Parameters<typeof numbers.number>[0]) => sink.event(numbers.number(event));
      const started = Date.now();
      let app: { name: string; readOnly: boolean; endpoints: AppEndpoints } | null = null;
      if (apps && job.appName) {
        const appName = job.appName;
        const note = await apps
          .awaitReady(appName, Math.min(options.appReadyTimeoutMs ?? 60_000, job.timeoutMs / 2), signal)
          .catch((error: unknown) => `could not check App "${appName}": ${String(error)}`);
        if (note) onEvent({ type: 'log', ts: Date.now(), level: 'info', message: note, stepSeq: null });
        app = { name: appName, readOnly: job.appReadOnly, endpoints: (await apps.endpoints(appName).catch(() => null)) ?? {} };
      }
      return runner.run(
        {
          runId: job.runId,
          script: job.script,
          fileName: job.fileName || 'script.lua',
          files: job.files,
          env: job.env,
          // waiting for the App counts against the run's timeout
          timeoutMs: Math.max(1, job.timeoutMs - (Date.now() - started)),
          memoryLimitBytes: options.memoryLimitBytes,
          app,
        },
        onEvent,
        signal,
        apps && app ? (op, args) => apps.call({ runId: job.runId, appName: app.name, readOnly: app.readOnly, signal }, op, args) : undefined,
      );
    },
    close: () => runner.close(),
  };
}
