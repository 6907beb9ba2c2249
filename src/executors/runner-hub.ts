/**
 * The server's end of the runner protocol (`core/schemas/runner-protocol.ts`): where
 * the HTTP routes under `/api/runs/{id}/runner/…` hand what a remote runner sends,
 * and where a detached executor (`kubernetes`, the test-only `process`) follows the
 * runs it started or re-attached to.
 *
 * A detached executor `follow`s a run for as long as it waits for it: from then on
 * the run's events go to its sink (acknowledged once stored), its heartbeats are seen,
 * its `sut` calls are performed and its completion resolves the executor's promise.
 * A request for a run nobody follows here is refused with `RunNotAttached` (409): the
 * runner keeps what it has and tries again (after a restart, the engine re-attaches
 * within its start-up).
 */
import { TopasError } from '../core/errors.js';
import type { RunCompletion } from '../core/run.js';
import type { NumberedRunEvent } from '../core/run-events.js';
import type { Bundle, ExecutionInfo } from '../core/schemas/runner-protocol.js';
import type { SutGateway, SutOperation, SutReply } from '../core/sut.js';
import type { ExecutionJob, RunSink } from './executor.js';

/** A run's remote runner called, but no executor of this server follows the run (yet). */
export class RunNotAttachedError extends TopasError {
  constructor(runId: string) {
    super('RunNotAttached', `run ${runId} is not followed by this server right now; keep the events and try again shortly`, { runId });
  }
}

/**
 * Another runner already executes the run (it was handed out twice, e.g. a work-queue
 * message redelivered): this one must not start it. Final for the runner (409 `RunTaken`).
 */
export class RunTakenError extends TopasError {
  constructor(runId: string) {
    super('RunTaken', `run ${runId} is already executed by another runner; this runner must not start it again`, { runId });
  }
}

/** What a detached executor hands the hub for one run it follows. */
export interface FollowedRun {
  job: ExecutionJob;
  sink: RunSink;
  /** Aborted when the run is cancelled: the runner's next heartbeat says so. */
  signal: AbortSignal;
  /** The runner reported how the run ended (called once per report; reports may repeat). */
  complete(completion: RunCompletion): void;
}

export interface RunnerHubOptions {
  /** The Apps runs target (endpoints, readiness, `sut`); without it runs see no App. */
  apps?: SutGateway;
  /** How long a run waits for its App before it starts anyway. Default 60 s (at most half the run's timeout). */
  appReadyTimeoutMs?: number;
  /** The runner's heartbeat cadence (cancellation is seen within it). Default 1000 ms. */
  heartbeatMs?: number;
  /** Longest time an event waits in the runner before it is sent. Default 50 ms. */
  flushMs?: number;
}

/** How many minted tokens the hub keeps before it drops those of runs it no longer follows. */
const MAX_REMEMBERED_TOKENS = 10_000;

export class RunnerHub {
  private readonly followed = new Map<string, FollowedRun>();
  private readonly lastHeard = new Map<string, number>();
  /** Runs whose `execution` call is being answered (it may wait for the App): their runner counts as heard. */
  private readonly starting = new Map<string, number>();
  /** The runner (its `x-topas-runner` id) that executes each run: the first to call for it. */
  private readonly runnerOf = new Map<string, string>();
  /** Per-run tokens minted here, by hash (`rememberToken`); each run's hash by run id. */
  private readonly tokens = new Map<string, { runId: string; expiresAt: number }>();
  private readonly tokenOf = new Map<string, string>();
  readonly heartbeatMs: number;
  readonly flushMs: number;

  constructor(private readonly options: RunnerHubOptions = {}) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.flushMs = options.flushMs ?? 50;
  }

  /** Sets (or removes) the Apps gateway runs see. */
  setApps(apps: SutGateway | undefined): void {
    if (apps) this.options.apps = apps;
    else delete this.options.apps;
  }

  /** Starts following a run; returns the function that stops. A second follower replaces the first. */
  follow(run: FollowedRun): () => void {
    this.followed.set(run.job.runId, run);
    return () => {
      if (this.followed.get(run.job.runId) === run) this.followed.delete(run.job.runId);
    };
  }

  /** When the run's runner was last heard from (epoch ms), or null. */
  lastHeardFrom(runId: string): number | null {
    if (this.starting.has(runId)) return Date.now();
    return this.lastHeard.get(runId) ?? null;
  }

  /** Forgets a run's liveness record, runner and token (it ended). */
  forget(runId: string): void {
    this.lastHeard.delete(runId);
    this.runnerOf.delete(runId);
    this.forgetToken(runId);
  }

  /**
   * Keeps the hash of a per-run token this process minted (and stored) for `runId`,
   * replacing the run's earlier one: while this hub follows the run, its runner's
   * calls are checked here (`runOfToken`) instead of in the store, one store read less
   * per runner call. Runs no longer followed here forget theirs as the table grows.
   */
  rememberToken(runId: string, hash: string, expiresAt: number): void {
    this.forgetToken(runId);
    if (this.tokens.size >= MAX_REMEMBERED_TOKENS) {
      for (const [id] of this.tokenOf) if (!this.followed.has(id)) this.forgetToken(id);
    }
    this.tokens.set(hash, { runId, expiresAt });
    this.tokenOf.set(runId, hash);
  }

  /**
   * The run of a per-run token (its hash), when this process minted it, it has not
   * expired and this hub follows its run now (so the run is Running, here); else null:
   * the store decides (a token minted elsewhere, a run another instance follows).
   */
  runOfToken(hash: string): string | null {
    const known = this.tokens.get(hash);
    if (!known || !this.followed.has(known.runId) || Date.now() >= known.expiresAt) return null;
    return known.runId;
  }

  private forgetToken(runId: string): void {
    const hash = this.tokenOf.get(runId);
    if (hash === undefined) return;
    this.tokenOf.delete(runId);
    this.tokens.delete(hash);
  }

  /**
   * A call of runner `runnerId` for the run: the first runner to call owns the run;
   * another is refused (`RunTakenError`). Calls without an id (older runners) are not checked.
   */
  claim(runId: string, runnerId: string | undefined): void {
    if (!runnerId) return;
    const owner = this.runnerOf.get(runId);
    if (owner === undefined) this.runnerOf.set(runId, runnerId);
    else if (owner !== runnerId) throw new RunTakenError(runId);
  }

  /**
   * `GET …/runner/execution`: what the runner needs besides its script (and the script
   * with its files too, with `withBundle`). Waits (bounded) for the run's App.
   */
  async execution(runId: string, runnerId?: string, withBundle = false): Promise<ExecutionInfo> {
    const run = this.must(runId);
    this.claim(runId, runnerId);
    this.heard(runId);
    this.starting.set(runId, (this.starting.get(runId) ?? 0) + 1);
    try {
      const info = await this.executionOf(runId, run);
      return withBundle ? { ...info, bundle: bundleOf(run.job) } : info;
    } finally {
      const n = (this.starting.get(runId) ?? 1) - 1;
      if (n > 0) this.starting.set(runId, n);
      else this.starting.delete(runId);
      if (this.followed.has(runId)) this.heard(runId);
    }
  }

  private async executionOf(runId: string, run: FollowedRun): Promise<ExecutionInfo> {
    const { job } = run;
    const apps = this.options.apps;
    const started = job.startedAt ?? Date.now();
    let app: ExecutionInfo['app'] = null;
    let note: string | null = null;
    if (apps && job.appName) {
      const appName = job.appName;
      note = await apps
        .awaitReady(appName, Math.min(this.options.appReadyTimeoutMs ?? 60_000, job.timeoutMs / 2), run.signal)
        .catch((error: unknown) => `could not check App "${appName}": ${String(error)}`);
      app = { name: appName, readOnly: job.appReadOnly, endpoints: (await apps.endpoints(appName).catch(() => null)) ?? {} };
    }
    return {
      runId,
      name: job.name,
      fileName: job.fileName || 'script.lua',
      env: job.env,
      timeoutMs: Math.max(1, job.timeoutMs - (Date.now() - started)),
      app,
      note,
      heartbeatMs: this.heartbeatMs,
      flushMs: this.flushMs,
      bundleBytes: bundleBytes(job),
      completionTakesEvents: true,
    };
  }

  /** `GET …/runner/bundle`. */
  bundle(runId: string, runnerId?: string): Bundle {
    const { job } = this.must(runId);
    this.claim(runId, runnerId);
    return bundleOf(job);
  }

  /** `POST …/runner/events`: resolves once the events are stored. */
  async events(runId: string, events: NumberedRunEvent[], runnerId?: string): Promise<void> {
    const run = this.must(runId);
    this.claim(runId, runnerId);
    this.heard(runId);
    await store(run, events);
  }

  /** `POST …/runner/heartbeat`: whether the run was cancelled. */
  heartbeat(runId: string, runnerId?: string): { cancelled: boolean } {
    const run = this.must(runId);
    this.claim(runId, runnerId);
    this.heard(runId);
    return { cancelled: run.signal.aborted };
  }

  /** `POST …/runner/sut`. Throws an Error whose message the script sees. */
  async sut(runId: string, op: SutOperation, args: unknown[], runnerId?: string): Promise<SutReply> {
    const run = this.must(runId);
    this.claim(runId, runnerId);
    this.heard(runId);
    const apps = this.options.apps;
    if (!apps || !run.job.appName) throw new Error('this run targets no App (schedule it with --app NAME, or appName in the API)');
    return apps.call({ runId, appName: run.job.appName, readOnly: run.job.appReadOnly, signal: run.signal }, op, args);
  }

  /**
   * `POST …/runner/completion`: resolves once its `events` (the last ones) are stored.
   * They reach the run's sink before the completion, so the run's end is stored with
   * them (the engine's writer puts a run's events and its end in one transaction) or
   * after them, never before: one write for both where there used to be two.
   */
  async complete(runId: string, completion: RunCompletion, runnerId?: string, events: NumberedRunEvent[] = []): Promise<void> {
    const run = this.must(runId);
    this.claim(runId, runnerId);
    this.heard(runId);
    for (const event of events) run.sink.event(event);
    run.complete(completion);
    if (events.length) await run.sink.stored();
  }

  private must(runId: string): FollowedRun {
    const run = this.followed.get(runId);
    if (!run) throw new RunNotAttachedError(runId);
    return run;
  }

  private heard(runId: string): void {
    this.lastHeard.set(runId, Date.now());
  }
}

/** Hands the events to the run's sink; resolves once they are stored. */
async function store(run: FollowedRun, events: NumberedRunEvent[]): Promise<void> {
  for (const event of events) run.sink.event(event);
  await run.sink.stored();
}

function bundleOf(job: ExecutionJob): Bundle {
  return { script: job.script, fileName: job.fileName || 'script.lua', files: job.files };
}

function bundleBytes(job: ExecutionJob): number {
  let n = Buffer.byteLength(job.script);
  for (const [path, content] of Object.entries(job.files)) n += Buffer.byteLength(path) + Buffer.byteLength(content);
  return n;
}
