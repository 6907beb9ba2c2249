/**
 * The `local` executor: runs scripts in this process's Lua worker pool. Workers host
 * many concurrent runs (scripts mostly wait on I/O), so capacity is not the worker count;
 * the engine's global concurrency limit decides how many runs are in flight.
 */
import { EMPTY_SUMMARY, type RunCompletion } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { EventNumberer } from '../core/event-numbering.js';
import type { AppEndpoints } from '../core/sut.js';
import type { SutGateway } from '../core/sut.js';
import { createLuaRunner } from '../runner/lua-runner.js';
import type { EgressPolicy } from '../runner/egress-policy.js';
import { displayUrl, GitCheckoutError } from '../runner/git-checkout.js';
import { loadGitTest, type GitTest } from '../runner/git-test-source.js';
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
  /** Where runs may connect (`TOPAS_EGRESS_ALLOW`), git sources' hosts included; default anywhere but cloud metadata addresses. */
  egress?: EgressPolicy;
  /** Git sources may use `file://` URLs (`--git-allow-file`). Default false. */
  gitAllowFile?: boolean;
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
      if (job.git) {
        const checkedOut = await checkOut(job, onEvent, signal, options);
        if ('phase' in checkedOut) return checkedOut;
        job = { ...job, script: checkedOut.script, fileName: checkedOut.fileName, files: checkedOut.files };
      }
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

/**
 * Checks a git source out (in a temporary folder, removed before the script starts),
 * within the run's timeout. Credentials are the run's `GIT_USERNAME`/`GIT_PASSWORD`.
 * Returns the test, or how the run ended: Error/SourceUnavailable, TimedOut, Cancelled.
 */
async function checkOut(job: ExecutionJob, onEvent: (event: RunEvent) => void, signal: AbortSignal, options: LocalExecutorOptions): Promise<GitTest | RunCompletion> {
  const git = job.git!;
  const ended = (phase: RunCompletion['phase'], reason: RunCompletion['reason'], message: string): RunCompletion => ({ phase, reason, message, summary: EMPTY_SUMMARY });
  try {
    const { GIT_USERNAME: username, GIT_PASSWORD: password } = job.env;
    const test = await loadGitTest(git, {
      timeoutMs: job.timeoutMs,
      signal,
      allowFile: options.gitAllowFile ?? false,
      ...(options.egress ? { egress: options.egress } : {}),
      credentials: password !== undefined ? { username: username || 'git', password } : null,
    });
    onEvent({ type: 'log', ts: Date.now(), level: 'info', message: `checked out ${displayUrl(git.url)} at ${git.revision} (${test.commit})`, stepSeq: null });
    job.onCheckout?.({ commit: test.commit, script: test.script, files: test.files });
    return test;
  } catch (error) {
    if (signal.aborted) return ended('Cancelled', 'Cancelled', 'cancelled while checking out its git source');
    if (error instanceof GitCheckoutError && error.code === 'GitCheckoutTimedOut') {
      return ended('TimedOut', 'Timeout', `the run exceeded its timeout of ${Math.round(job.timeoutMs / 1000)}s while checking out its git source`);
    }
    const message = error instanceof Error ? error.message : String(error);
    onEvent({ type: 'log', ts: Date.now(), level: 'error', message, stepSeq: null });
    return ended('Error', 'SourceUnavailable', message);
  }
}
