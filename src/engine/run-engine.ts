import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import type { FieldIssue } from '../core/errors.js';
import type { NewRun, Run, RunCompletion, RunSource } from '../core/run.js';
import { EMPTY_SUMMARY } from '../core/run.js';
import { isTerminal } from '../core/run-phase.js';
import { parseOrThrow } from '../core/schemas/issues.js';
import { LabelsSchema } from '../core/schemas/labels.js';
import { RunRequestSchema } from '../core/schemas/run-request.js';
import type { Executor, ExecutionJob, GitCheckout, RunSink } from '../executors/executor.js';
import type { Store } from '../store/store.js';
import type { Engine, EngineStats, RunNotification, RunRequest } from './engine.js';
import { Batcher } from './batcher.js';
import { EventWriter, WriterClosedError } from './event-writer.js';
import type { StoreRetryPolicy } from './store-retry.js';
import { EngineMetrics } from './metrics.js';
import { RunBus } from './run-bus.js';

/** The engine's logger: the one logger shape (`core/logger.ts`). */
export type EngineLogger = Logger;

export interface RunEngineOptions {
  store: Store;
  executor: Executor;
  /** This process's identity as the owner of the runs it executes. */
  instanceId: string;
  /** The one global limit on Running runs, across every instance sharing the store. */
  concurrency: number;
  /** Timeout of runs that set none. Default 600. */
  defaultTimeoutSeconds?: number;
  /**
   * True when no other process can share the store (embedded PGlite): at start-up
   * every Running run of another owner is failed at once instead of after it goes stale.
   */
  exclusive?: boolean;
  /** How often this instance proves it is alive and looks for cancel requests. Default 1000 ms. */
  heartbeatMs?: number;
  /**
   * An owner silent this long is dead: its runs become Error/ExecutorLost, or, with a
   * detached executor, are adopted and re-attached. Default 15000 ms.
   */
  staleAfterMs?: number;
  /** How often the queue is polled for runs submitted elsewhere. Default 250 ms. */
  pollMs?: number;
  /** Extra time after a run's timeout before the engine stops waiting for its executor. Default 5000 ms. */
  timeoutGraceMs?: number;
  /** Whether an App exists; when given, runs naming an unknown App are rejected (400 naming `appName`). */
  appExists?: (name: string) => Promise<boolean>;
  /** Retry timings of refused store writes of run events and ends (`store-retry.ts`). Defaults suit a real store. */
  storeRetry?: StoreRetryPolicy;
  /** Where failures (always with the run id) and notable events go. Default: nowhere. */
  log?: Logger;
  /**
   * Git sources may use `file://` URLs (`--git-allow-file`): they read the server's
   * own disk, so they are refused (400 naming `source.git.url`) unless set. Default false.
   */
  gitAllowFile?: boolean;
  /**
   * Start standing by (leader election): the engine takes submissions and cancels but
   * claims, executes and adopts no run until `lead()`. Default false.
   */
  standby?: boolean;
  /**
   * Whether this instance may claim runs right now (leader election: it holds the Lease
   * and renewed it lately). A leader that was paused may not know yet that another took
   * over; while this says false it claims nothing. Default: always.
   */
  mayClaim?: () => boolean;
}

interface Active {
  run: Run;
  controller: AbortController;
  done: Promise<Run | null>;
  /** Why the run is being aborted, once it is. */
  abortReason: 'cancel' | 'shutdown' | null;
}

/** Runs claimed per store round-trip. */
const CLAIM_BATCH = 64;
/** How many executed run ids are remembered so that a stale read never starts one again. */
const EXECUTED_REMEMBERED = 10_000;

/**
 * The engine: a durable queue in the store, drained by claiming batches of the
 * oldest Queued runs up to the global limit, executing them on the executor and
 * persisting their events as they stream.
 */
export class RunEngine implements Engine {
  readonly metrics;
  private readonly bus = new RunBus();
  private readonly writer: EventWriter;
  private readonly engineMetrics: EngineMetrics;
  private readonly active = new Map<string, Active>();
  private readonly o: Required<Omit<RunEngineOptions, 'log' | 'appExists' | 'storeRetry' | 'gitAllowFile' | 'standby' | 'mayClaim'>> &
    Pick<RunEngineOptions, 'appExists' | 'storeRetry' | 'gitAllowFile'> & { log: Logger; mayClaim: () => boolean };
  /** Not the leader: nothing is claimed, executed or adopted here (see `lead`/`standBy`). */
  private standingBy: boolean;
  private dispatching = false;
  /** Room taken by claims in flight (a dispatch pass's or an insert's), not yet in `active`. */
  private reserved = 0;
  /** Claims in flight (a dispatch pass's or an insert's): each settles once what it claimed is in `active`. */
  private readonly claims = new Set<Promise<void>>();
  /** While `followOwnRuns` looks: the runs that left `active` meanwhile (they ended, or were left). */
  private leftActive: Set<string> | null = null;
  /** A detached executor's leader looks for runs of its own nobody here follows at the next dispatch pass (`followOwnRuns`). */
  private followOwnDue = false;
  private dispatchAgain = false;
  /** The dispatch pass under way (a claim may be in flight), or null. */
  private pass: Promise<void> | null = null;
  /** Stood by but could not hand its runs back yet (the store did not answer): tried again on each beat. */
  private releasePending = false;
  private stopping = false;
  private started = false;
  private timers: NodeJS.Timeout[] = [];
  private beats = 0;
  /** Submissions and run ends arriving together are written together. */
  private readonly inserts: Batcher<NewRun, Run>;
  /** The per-run tokens of detached runs that ended together are deleted together. */
  private readonly tokenDeletes = new Batcher<string, void>(async (runIds) => {
    await this.o.store.deleteRunTokens(runIds);
    return runIds.map(() => undefined);
  });
  /**
   * A claim failed, so it may have committed without our hearing it (a connection
   * cut after the commit): the next dispatch looks for runs claimed by us that we do
   * not execute, and executes them.
   */
  private claimUncertain = false;
  /** Runs this process executed lately (never adopted again), oldest first. */
  private readonly executed = new Set<string>();
  /** Consecutive failed heartbeats (the first is logged as a warning, the recovery as info). */
  private heartbeatFailures = 0;
  private ticking = false;
  private claimFailures = 0;

  constructor(options: RunEngineOptions) {
    this.o = {
      defaultTimeoutSeconds: 600,
      exclusive: false,
      heartbeatMs: 1000,
      staleAfterMs: 15_000,
      pollMs: 250,
      timeoutGraceMs: 5000,
      log: silentLogger,
      mayClaim: () => true,
      ...options,
    };
    this.standingBy = options.standby ?? false;
    this.engineMetrics = new EngineMetrics(() => this.o.store.queueStats());
    this.metrics = this.engineMetrics.registry;
    this.inserts = new Batcher((inputs) => this.insert(inputs));
    this.writer = new EventWriter(this.o.store, {
      onPersisted: (runs) => {
        for (const [runId, lastLogSeq] of runs) this.bus.publish({ type: 'events', runId, lastLogSeq });
      },
      // A write that fails while the store takes this one is refused for its content.
      probe: () => this.o.store.heartbeat(this.o.instanceId),
      ...(this.o.storeRetry ? { retry: this.o.storeRetry } : {}),
      log: this.o.log,
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { store, instanceId } = this.o;
    await store.heartbeat(instanceId, { pid: process.pid, executor: this.o.executor.name });
    if (!this.standingBy) await this.recover(true);
    this.timers.push(setInterval(() => void this.tick(), this.o.heartbeatMs));
    this.timers.push(setInterval(() => this.wake(), this.o.pollMs));
    for (const t of this.timers) t.unref();
    this.wake();
  }

  async submit(request: RunRequest): Promise<Run> {
    const input = await this.resolve(request);
    const run = await this.inserts.add(input);
    this.submitted([run]);
    return run;
  }

  /**
   * Validates every request (all or nothing: a ValidationError names `runs[i].field`)
   * and inserts them together, in order; those that can start at once are Running.
   */
  async submitMany(requests: RunRequest[]): Promise<Run[]> {
    const inputs: NewRun[] = [];
    const issues: FieldIssue[] = [];
    for (const [i, request] of requests.entries()) {
      try {
        inputs.push(await this.resolve(request));
      } catch (error) {
        if (error instanceof ValidationError) issues.push(...error.issues.map((issue) => ({ ...issue, field: issue.field === 'request' ? `runs[${i}]` : `runs[${i}].${issue.field}` })));
        else if (error instanceof NotFoundError) issues.push({ field: `runs[${i}].definitionId`, message: error.message });
        else throw error;
      }
    }
    if (issues.length) throw new ValidationError(issues);
    const runs = await this.insert(inputs);
    this.submitted(runs);
    return runs;
  }

  /** Tells followers about new runs (Queued ones; started ones were told by `execute`) and looks for work. */
  private submitted(runs: Run[]): void {
    for (const run of runs) {
      this.engineMetrics.submitted.inc({ origin: run.origin });
      if (run.phase === 'Queued') this.bus.publish({ type: 'phase', run });
    }
    if (runs.some((r) => r.phase === 'Queued')) this.wake();
  }

  /**
   * Inserts runs; when this engine claims and has room, those that can start at once
   * are inserted Running, owned by us (claim at insert: no claim statement for them),
   * and executed here before the caller hears of them.
   */
  private async insert(inputs: NewRun[]): Promise<Run[]> {
    const room = this.mayClaimNow() ? this.room(inputs.length) : 0;
    if (room <= 0) return this.o.store.createRuns(inputs);
    this.reserved += room;
    const claimed = this.claimBegins();
    try {
      let runs: Run[];
      try {
        runs = await this.o.store.createRuns(inputs, { owner: this.o.instanceId, max: room, globalLimit: this.o.concurrency });
      } catch (error) {
        // It may have committed without our hearing it: the next dispatch executes what is ours.
        this.claimUncertain = true;
        throw error;
      } finally {
        this.reserved -= room;
      }
      for (const run of runs) if (run.phase === 'Running') this.execute(run);
      return runs;
    } finally {
      claimed();
    }
  }

  /** Marks a claim in flight; the function it returns says that what it claimed is in `active` (or that it failed). */
  private claimBegins(): () => void {
    let settle!: () => void;
    const claim = new Promise<void>((resolve) => (settle = resolve));
    this.claims.add(claim);
    return () => {
      this.claims.delete(claim);
      settle();
    };
  }

  /** Whether this engine may start runs now. */
  private mayClaimNow(): boolean {
    return this.started && !this.stopping && !this.standingBy && this.o.mayClaim();
  }

  /** How many more runs this engine may start now (at most `max`): its executor's room and the global limit, less claims in flight. */
  private room(max: number): number {
    const busy = this.active.size + this.reserved;
    return Math.min(max, this.o.executor.capacity - busy, this.o.concurrency - busy);
  }

  async cancel(id: string): Promise<Run> {
    const { store } = this.o;
    const run = await store.getRun(id);
    if (!run) throw new NotFoundError('run', id);
    if (isTerminal(run.phase)) throw new ConflictError(`run ${id} already finished (${run.phase}); only Queued or Running runs can be cancelled`, { phase: run.phase });
    if (run.phase === 'Queued') {
      const cancelled = await store.cancelQueuedRun(id, 'cancelled before it started');
      if (cancelled) {
        this.finished(cancelled);
        return cancelled;
      }
    }
    // Running (or claimed since we looked).
    const local = this.active.get(id);
    if (local) {
      local.abortReason ??= 'cancel';
      local.controller.abort();
      return (await local.done) ?? (await this.mustGet(id));
    }
    await store.requestCancel(id);
    // Its owner sees the request on its next heartbeat; wait briefly for the outcome.
    const deadline = Date.now() + 3 * this.o.heartbeatMs + 1000;
    for (;;) {
      const now = await this.mustGet(id);
      if (isTerminal(now.phase) || Date.now() > deadline) return now;
      await sleep(50);
    }
  }

  subscribe(runId: string, listener: (n: RunNotification) => void): () => void {
    return this.bus.subscribe(runId, listener);
  }

  subscribeAll(listener: (n: RunNotification) => void): () => void {
    return this.bus.subscribeAll(listener);
  }

  async stats(): Promise<EngineStats> {
    const s = await this.o.store.queueStats();
    return { queueDepth: s.queued, activeRunners: s.running, concurrency: this.o.concurrency };
  }

  /** Runs executing in this process now. */
  get localActive(): number {
    return this.active.size;
  }

  /** Whether this engine claims and executes runs now (false while standing by). */
  get leading(): boolean {
    return !this.standingBy;
  }

  /**
   * Becomes the one instance that executes runs (it won the leader election): takes
   * over every Running run of any other instance — only a leader executes, so those are
   * a previous leader's, dead or standing by — re-attaches to them, and claims queued runs.
   */
  async lead(): Promise<void> {
    if (!this.standingBy || this.stopping) return;
    this.standingBy = false;
    const { store, instanceId } = this.o;
    if (this.o.executor.detached) {
      // Leading again: what a stand-by could not hand back is ours to follow, not to hand back.
      this.releasePending = false;
      const adopted = await store.adoptOrphanedRuns([instanceId], instanceId);
      if (adopted.length) this.o.log('info', 'leading: took over the runs of the previous leader', { runs: adopted.length });
      for (const run of adopted) void this.attach(run);
      this.followOwnDue = true;
    } else await this.recover();
    this.wake();
  }

  /**
   * Stops executing (this instance lost the leader election): claims nothing more and,
   * with a detached executor, stops following its runs — they go on in their runners,
   * and the new leader takes them over. A local executor's runs end here as Error/ExecutorLost.
   */
  async standBy(): Promise<void> {
    if (this.standingBy || this.stopping) return;
    this.standingBy = true;
    // A claim in flight lands first: what it claimed is left (or ended) with the rest.
    await this.pass?.catch(() => {});
    const runs = [...this.active.values()];
    if (this.o.executor.detached) this.o.executor.leaveAll?.();
    else
      for (const a of runs) {
        a.abortReason ??= 'shutdown';
        a.controller.abort();
      }
    await Promise.allSettled(runs.map((a) => a.done));
    this.o.log('info', 'standing by: no longer executing runs', { left: runs.length });
    if (this.o.executor.detached) {
      this.releasePending = true;
      await this.release();
    }
  }

  /**
   * Hands the Running runs this instance left back (owner cleared): the leader adopts
   * them on its next recovery pass. Without it they would stay ours — and this instance
   * is alive, so nobody would take them — when we had claimed them after the new
   * leader took over (a leader that was paused claims before it notices it lost).
   */
  private async release(): Promise<void> {
    if (!this.releasePending || !this.standingBy || this.stopping || this.active.size > 0) return;
    try {
      const released = await this.o.store.releaseRuns(this.o.instanceId);
      this.releasePending = false;
      if (released.length) this.o.log('info', 'standing by: handed the runs it left to the leader', { runs: released.length, runIds: released.map((r) => r.id) });
    } catch (error) {
      this.o.log('warn', 'standing by: handing the runs it left to the leader failed; retrying', { error: errorField(error) });
    }
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const all = () => [...this.active.values()].map((a) => a.done);
    if (this.o.executor.detached) {
      // The runs go on without us: their runners keep them (and keep what they have not
      // had stored); the next start of this instance, or another instance, attaches to them.
      await this.writer.close(Math.max(2000, graceMs));
      if (this.started) await this.o.store.removeInstance(this.o.instanceId).catch(() => {});
      return;
    }
    await Promise.race([Promise.allSettled(all()), sleep(graceMs)]);
    for (const a of this.active.values()) {
      a.abortReason ??= 'shutdown';
      a.controller.abort();
    }
    await Promise.race([Promise.allSettled(all()), sleep(2000)]);
    // Ends the store has not taken by then stay Running in it: the next start (or a
    // live instance, after 15 s) records them as ExecutorLost.
    await this.writer.close(Math.max(2000, graceMs));
    if (this.started) await this.o.store.removeInstance(this.o.instanceId).catch(() => {});
  }

  // --- scheduling ------------------------------------------------------------

  /** Asks for a dispatch pass soon; passes never overlap. */
  private wake(): void {
    if (this.stopping || !this.started || this.standingBy) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    const pass = this.dispatch();
    this.pass = pass;
    void pass.finally(() => {
      this.dispatching = false;
      if (this.pass === pass) this.pass = null;
      if (this.dispatchAgain) {
        this.dispatchAgain = false;
        this.wake();
      }
    });
  }

  private async dispatch(): Promise<void> {
    try {
      if (this.claimUncertain) await this.adoptLostClaims();
      if (this.followOwnDue) await this.followOwnRuns();
      while (!this.stopping && !this.standingBy && this.o.mayClaim()) {
        const room = this.room(CLAIM_BATCH);
        if (room <= 0) return;
        let claimed: Run[];
        this.reserved += room;
        const inActive = this.claimBegins();
        try {
          try {
            claimed = await this.o.store.claimRuns(this.o.instanceId, room, this.o.concurrency);
          } catch (error) {
            this.claimUncertain = true;
            throw error;
          } finally {
            this.reserved -= room;
          }
          this.claimFailures = 0;
          for (const run of claimed) this.execute(run);
        } finally {
          inActive();
        }
        if (claimed.length < room) return;
      }
    } catch (error) {
      // Passes repeat every pollMs: a failing pass only delays the queue. Logged at 1, 2, 4, 8, ... failures in a row.
      const n = ++this.claimFailures;
      if ((n & (n - 1)) === 0) this.o.log('warn', 'claiming queued runs failed; retrying', { error: errorField(error), failures: n });
    }
  }

  /**
   * Executes the runs the store says we claimed but we are not executing: claims
   * whose reply was lost. Dispatch passes never overlap, so no claim is in flight;
   * a run we executed before is never taken again.
   */
  private async adoptLostClaims(): Promise<void> {
    const ours = await this.o.store.runningRunsOf(this.o.instanceId);
    this.claimUncertain = false;
    for (const run of ours) {
      if (this.active.has(run.id) || this.executed.has(run.id)) continue;
      this.o.log('warn', 'executing a run whose claim reply was lost', { runId: run.id });
      this.execute(run);
    }
  }

  /**
   * Attaches to the Running runs the store says are ours but nobody here follows (a
   * detached executor's): a stand-by whose hand-back failed and that leads again, or
   * any other way a run came to be ours unfollowed. Nobody else takes a live
   * instance's runs, so without this such a run would stay Running with its runner
   * refused (`RunNotAttached`) until it gave up. A run claimed while we read is in
   * `active` once its claim settles (we wait for the claims in flight then); one that
   * ended while we looked is in `leftActive`. Called by dispatch passes, which never overlap.
   */
  private async followOwnRuns(): Promise<void> {
    if (this.standingBy || this.stopping) return;
    const left = (this.leftActive = new Set());
    try {
      const ours = await this.o.store.runningRunsOf(this.o.instanceId);
      await Promise.all([...this.claims]);
      if (this.standingBy || this.stopping) return;
      this.followOwnDue = false;
      for (const run of ours) {
        if (this.active.has(run.id) || left.has(run.id)) continue;
        this.o.log('warn', 'following a run of ours that nobody here followed', { runId: run.id });
        void this.attach(run);
      }
    } finally {
      this.leftActive = null;
    }
  }

  /** `runId` is no longer followed here. */
  private unfollow(runId: string): void {
    this.active.delete(runId);
    this.leftActive?.add(runId);
  }

  private execute(run: Run): void {
    this.executed.add(run.id);
    if (this.executed.size > EXECUTED_REMEMBERED) this.executed.delete(this.executed.values().next().value!);
    const controller = new AbortController();
    const entry: Active = { run, controller, abortReason: null, done: Promise.resolve(null) };
    this.active.set(run.id, entry);
    this.writer.begin(run.id);
    this.bus.publish({ type: 'phase', run });
    entry.done = this.runToCompletion(entry, (job, sink, signal) => this.o.executor.execute(job, sink, signal));
  }

  /**
   * Follows a run another process started (adopted from a dead owner, or from this
   * instance's previous process): steps stored as running are reopened in the writer
   * so their ends complete them, and the executor re-attaches. Nothing left → ExecutorLost.
   */
  private async attach(run: Run): Promise<void> {
    if (this.active.has(run.id) || this.stopping || this.standingBy) return;
    this.executed.add(run.id);
    const controller = new AbortController();
    const entry: Active = { run, controller, abortReason: null, done: Promise.resolve(null) };
    this.active.set(run.id, entry);
    let steps!: () => void;
    // standBy waits for this entry: it settles once the executor follows the run (or we gave up).
    entry.done = new Promise<null>((resolve) => (steps = () => resolve(null)));
    const open = await this.o.store.getSteps(run.id).catch(() => []);
    steps();
    if (this.standingBy || this.stopping) {
      // Stood by while we looked: the run is left to the leader.
      this.unfollow(run.id);
      return;
    }
    this.writer.begin(run.id, open);
    this.o.log('info', 're-attaching to a run started by a previous owner', { runId: run.id });
    entry.done = this.runToCompletion(entry, async (job, sink, signal) => {
      const completion = await this.o.executor.attach(job, sink, signal);
      return (
        completion ?? {
          phase: 'Error',
          reason: 'ExecutorLost',
          message: 'the runner of this run is gone and left no result (topas restarted or its owner died while it ran)',
          summary: EMPTY_SUMMARY,
        }
      );
    });
  }

  private async runToCompletion(
    entry: Active,
    follow: (job: ExecutionJob, sink: RunSink, signal: AbortSignal) => Promise<RunCompletion>,
  ): Promise<Run | null> {
    const { run, controller } = entry;
    const timeoutMs = run.timeoutSeconds * 1000;
    let completion: RunCompletion;
    let backstop: NodeJS.Timeout | undefined;
    // `stored` waits for the end of this event-loop turn (`flushSoon`): runners' batches that
    // come together, and a completion's last events with the run's end, share one write.
    const sink: RunSink = { event: (event) => this.writer.add(run.id, event), stored: () => this.writer.flushSoon() };
    let checkoutRecorded: Promise<void> | null = null;
    try {
      const job = toJob(run, timeoutMs);
      const elapsed = run.startedAt ? Math.max(0, Date.now() - Date.parse(run.startedAt)) : 0;
      if (job.git) job.onCheckout = (checkout) => (checkoutRecorded = this.recordCheckout(run.id, checkout));
      // The executor enforces the timeout; this only guards against an executor that never answers.
      const giveUp = new Promise<RunCompletion>((resolve) => {
        backstop = setTimeout(
          () =>
            resolve({
              phase: 'TimedOut',
              reason: 'Timeout',
              message: `the run exceeded its timeout of ${run.timeoutSeconds}s and its executor did not stop it`,
              summary: EMPTY_SUMMARY,
            }),
          Math.max(0, timeoutMs - elapsed) + this.o.timeoutGraceMs,
        );
      });
      completion = await Promise.race([follow(job, sink, controller.signal), giveUp]);
    } catch (error) {
      if ((this.stopping || this.standingBy) && this.o.executor.detached) return this.leave(run.id);
      this.o.log('error', 'executor failed a run', { runId: run.id, error: errorField(error) });
      completion = { phase: 'Error', reason: 'RunnerCrashed', message: `the executor failed: ${errorMessage(error)}`, summary: EMPTY_SUMMARY };
    } finally {
      clearTimeout(backstop);
    }
    // what a git source resolved to is on the run before anyone sees it end
    await checkoutRecorded;
    if (completion.reason === 'Timeout' && completion.message?.includes('its executor did not stop it')) {
      this.o.log('warn', 'executor did not stop a run at its timeout; ended it', { runId: run.id, timeoutSeconds: run.timeoutSeconds });
    }
    if (this.stopping && this.o.executor.detached) return this.leave(run.id);
    if (entry.abortReason === 'shutdown' && completion.phase === 'Cancelled') {
      completion = { ...completion, phase: 'Error', reason: 'ExecutorLost', message: 'topas stopped while the run was executing' };
    }
    let finished: Run | null = null;
    /** The run is over in the store (by us or another): its per-run token is of no more use. */
    let over = false;
    try {
      // Every event is persisted before the phase says the run is over. The writer
      // retries until the store takes the end (store-retry.ts); it gives up only
      // when this engine stops.
      finished = await this.writer.end(run.id, completion.message, { id: run.id, owner: this.o.instanceId, completion });
      over = finished !== null;
      if (finished) this.finished(finished);
      else {
        // Ended by someone else (recovery, or our own write whose reply was lost): tell followers what the store says.
        const now = await this.o.store.getRun(run.id).catch(() => undefined); // undefined: the store did not say
        over = now === null || (now !== undefined && isTerminal(now.phase));
        if (now && now.phase === completion.phase && now.reason === completion.reason) this.finished(now);
        else {
          this.o.log('warn', 'run was no longer ours to finish', { runId: run.id, phase: completion.phase, storedPhase: now?.phase ?? null });
          if (now && isTerminal(now.phase)) this.bus.publish({ type: 'phase', run: now });
        }
      }
    } catch (error) {
      const msg = error instanceof WriterClosedError ? 'topas stopped before the store took the end of a run; it is recorded as ExecutorLost later' : 'recording the end of a run failed';
      this.o.log('error', msg, { runId: run.id, phase: completion.phase, error: errorField(error) });
    } finally {
      this.unfollow(run.id);
      // Not while the run goes on: another instance that took it over follows its runner, which still needs its token.
      if (this.o.executor.detached && over) void this.tokenDeletes.add(run.id).catch(() => {});
      this.wake();
    }
    return finished;
  }

  /** This instance stops following a detached run (it goes on; the next owner attaches). */
  private leave(runId: string): null {
    this.unfollow(runId);
    return null;
  }

  /** What a git source resolved to, on the run (best effort: the run's log names the commit too). */
  private recordCheckout(runId: string, checkout: GitCheckout): Promise<void> {
    return this.o.store
      .recordGitCheckout(runId, checkout)
      .catch((error: unknown) => this.o.log('warn', 'recording the checkout of a git source failed', { runId, commit: checkout.commit, error: errorField(error) }));
  }

  private finished(run: Run): void {
    this.engineMetrics.observeFinished(run.phase, run.durationMs);
    this.bus.publish({ type: 'phase', run });
    this.o.log('debug', 'run finished', { runId: run.id, phase: run.phase, durationMs: run.durationMs });
  }

  // --- liveness and recovery -------------------------------------------------

  /**
   * Fails runs whose executor is gone. Called at start-up and periodically. At
   * start-up, runs owned by our own instance id are a previous process's (an id
   * reused across restarts, like a pod name): they are failed too.
   */
  private async recover(atStart = false): Promise<void> {
    const { store, instanceId } = this.o;
    const live = this.o.exclusive ? [instanceId] : await store.liveInstances(this.o.staleAfterMs);
    if (!live.includes(instanceId)) live.push(instanceId);
    const owners = atStart ? live.filter((id) => id !== instanceId) : live;
    if (this.o.executor.detached) {
      // The runs outlive their owner: take them over (one conditional statement, so of
      // two instances adopting at once each run goes to one) and follow them.
      const adopted = await store.adoptOrphanedRuns(owners, instanceId);
      for (const run of adopted) void this.attach(run);
      if (!atStart) this.followOwnDue = true;
      return;
    }
    const lost = await store.failOrphanedRuns(owners, 'the topas process executing this run stopped before it finished');
    for (const run of lost) {
      this.o.log('warn', 'run lost its executor; ended as Error (ExecutorLost)', { runId: run.id, executor: run.executor });
      this.finished(run);
    }
  }

  private async tick(): Promise<void> {
    if (this.stopping || this.ticking) return; // a slow store: beats do not pile up
    this.ticking = true;
    const { store, instanceId } = this.o;
    try {
      await store.heartbeat(instanceId);
      if (this.heartbeatFailures > 0) this.o.log('info', 'store answers again', { failedHeartbeats: this.heartbeatFailures });
      this.heartbeatFailures = 0;
      if (this.active.size > 0) {
        for (const id of await store.cancelRequested(instanceId)) {
          const a = this.active.get(id);
          if (a) {
            a.abortReason ??= 'cancel';
            a.controller.abort();
          }
        }
      }
      if (++this.beats % 5 === 0 && !this.standingBy) await this.recover();
      if (this.standingBy) await this.release();
    } catch (error) {
      // One warning per outage; the writer logs each run whose end waits for the store.
      if (this.heartbeatFailures++ === 0) this.o.log('warn', 'heartbeat failed; the store does not answer', { error: errorField(error), activeRuns: this.active.size });
    } finally {
      this.ticking = false;
    }
  }

  // --- requests --------------------------------------------------------------

  /** Validates a request and resolves it to a storable run (a definition's script is snapshotted). */
  private async resolve(r: RunRequest): Promise<NewRun> {
    // The one rule set of every entry point (API, CLI, dashboard, schedules, CRDs).
    parseOrThrow(RunRequestSchema, r, { root: 'request' });
    if (r.origin === 'import') {
      throw new ValidationError([{ field: 'origin', message: 'import is the origin of imported reports, set by topas itself (POST /api/reports, topas report import); a run to execute cannot claim it' }]);
    }
    const hasSource = r.source !== undefined;
    const hasDefinition = r.definitionId !== undefined;

    let source: RunSource;
    let name = r.name;
    let env = r.env ?? {};
    let labels = r.labels ?? {};
    let timeoutSeconds = r.timeoutSeconds;
    let appName = r.appName ?? null;
    if (hasSource) {
      source = r.source!;
      if (source.type === 'git') {
        if (/^file:/i.test(source.url) && !this.o.gitAllowFile) {
          throw new ValidationError([
            { field: 'source.git.url', message: "file:// URLs read the server's own disk and are refused; start topas with --git-allow-file (TOPAS_GIT_ALLOW_FILE=1) to allow them" },
          ]);
        }
        // the revision is resolved again when this run executes (a re-run's source held the last checkout)
        source = { type: 'git', url: source.url, path: source.path, revision: source.revision };
        name ??= source.path.split('/').pop()!.replace(/\.lua$/, '') || 'adhoc';
      }
      name ??= 'adhoc';
    } else if (hasDefinition) {
      const def = await this.o.store.getDefinition(r.definitionId!);
      if (!def) throw new NotFoundError('test definition', r.definitionId!);
      source = {
        type: 'definition',
        definitionId: def.id,
        script: def.script,
        fileName: r.fileName ?? `${def.name}.lua`,
        ...(Object.keys(def.files).length ? { files: def.files } : {}),
      };
      name ??= def.name;
      env = { ...def.env, ...env };
      labels = { ...def.labels, ...labels };
      timeoutSeconds ??= def.timeoutSeconds;
      appName ??= def.appName;
    } else {
      source = {
        type: 'inline',
        script: r.script!,
        ...(r.fileName ? { fileName: r.fileName } : {}),
        ...(r.files && Object.keys(r.files).length ? { files: r.files } : {}),
      };
      name ??= r.fileName ? r.fileName.replace(/\.lua$/, '') : 'adhoc';
    }
    // A definition's labels and the request's together obey the same limits.
    if (hasDefinition) parseOrThrow(LabelsSchema, labels, { prefix: ['labels'] });
    if (appName && this.o.appExists && !(await this.o.appExists(appName))) {
      throw new ValidationError([{ field: 'appName', message: `App ${JSON.stringify(appName)} does not exist; apply it first (topas app apply -f app.yaml)` }]);
    }
    if (r.appReadOnly && !appName) throw new ValidationError([{ field: 'appReadOnly', message: 'needs appName: only a run that targets an App can declare it only reads it' }]);
    return {
      ...(r.id ? { id: r.id } : {}),
      name: name!,
      origin: r.origin,
      k8sRef: r.k8sRef ?? null,
      appName,
      appReadOnly: r.appReadOnly ?? false,
      source,
      env,
      labels,
      timeoutSeconds: timeoutSeconds ?? this.o.defaultTimeoutSeconds,
    };
  }

  private async mustGet(id: string): Promise<Run> {
    const run = await this.o.store.getRun(id);
    if (!run) throw new NotFoundError('run', id);
    return run;
  }
}

function toJob(run: Run, timeoutMs: number): ExecutionJob {
  const source = run.source;
  const common = {
    runId: run.id,
    name: run.name,
    env: run.env,
    timeoutMs,
    ...(run.startedAt ? { startedAt: Date.parse(run.startedAt) } : {}),
    appName: run.appName,
    appReadOnly: run.appReadOnly,
    ...(run.k8sRef ? { k8sRef: run.k8sRef } : {}),
  };
  if (source.type === 'git') {
    // the executor checks the test out when it executes the run
    const fileName = source.path.split('/').pop()!;
    return { ...common, script: '', fileName, files: {}, git: { url: source.url, path: source.path, revision: source.revision } };
  }
  const fileName = source.fileName || `${run.name.replace(/[^\w.-]+/g, '_') || 'script'}.lua`;
  return { ...common, script: source.script, fileName, files: source.files ?? {} };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
