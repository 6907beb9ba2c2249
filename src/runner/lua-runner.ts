/**
 * The Lua runner: a pool of worker threads, each hosting many concurrent runs (one
 * fresh Lua engine per run). New runs go to the least-loaded worker. A cancel reaches
 * a run twice: as a flag in memory shared with its worker (seen at the next VM
 * checkpoint, even while the script keeps the worker's event loop busy) and as a
 * message (for a run waiting in sleep, net or db). A run that does not stop by its
 * timeout (or a cancel) + a grace period is stopped by terminating its worker; the
 * other runs of that worker end as Error/RunnerCrashed naming the culprit, and the pool
 * starts a replacement worker.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.js';
import type { RunCompletion, RunReason, RunSummary } from '../core/run.js';
import type { RunEvent } from '../core/run-events.js';
import { formatDuration } from './duration.js';
import { ALIVE_INTERVAL_MS, type FromWorker, type ToWorker, type WorkerSetup } from './protocol.js';
import type { RunEventSink, ScriptJob, ScriptRunner, SutHandler } from './runner.js';
import type { EgressPolicy } from './egress-policy.js';

export interface LuaRunnerOptions {
  /** Worker threads in the pool (each hosts many runs). */
  workers: number;
  /** How long past its timeout (or a cancel) a run may keep going before its worker is terminated. Default 500 ms. */
  hardKillGraceMs?: number;
  /** Where runs may connect (`TOPAS_EGRESS_ALLOW`, read once by the config). Default: anywhere but cloud metadata addresses. */
  egress?: EgressPolicy;
  /**
   * Runs per worker that get a shared cancel flag (default 4096, 16 KiB per worker). A
   * run beyond that is cancelled by message alone: a busy script of it is stopped by the
   * hard kill.
   */
  cancelSlots?: number;
}

interface PendingRun {
  key: number;
  job: ScriptJob;
  onEvent: RunEventSink;
  resolve: (c: RunCompletion) => void;
  /** Counted from forwarded events, for runs whose worker had to be terminated. */
  summary: RunSummary;
  timers: NodeJS.Timeout[];
  cancelled: boolean;
  unlisten: () => void;
  sut: SutHandler | undefined;
  /** The run's cell in its worker's cancel flags, or -1. */
  cancelSlot: number;
}

interface Slot {
  id: number;
  worker: Worker;
  runs: Map<number, PendingRun>;
  dead: boolean;
  /** When the worker last said anything (it says `alive` every ALIVE_INTERVAL_MS while not stuck). */
  lastHeard: number;
  /** Shared with the worker: a run's cell set to 1 cancels it (WorkerSetup). */
  cancelCells: Int32Array;
  /** Cells no run of this worker holds. */
  freeCancelSlots: number[];
}

/** A worker with runs that has been silent this long is stuck in a script: new runs go to the others. */
const STUCK_AFTER_MS = ALIVE_INTERVAL_MS * 10;

/** Starts a worker running lua-worker. */
function startWorker(setup: WorkerSetup): Worker {
  // An empty environment: nothing of the server's (tokens, DATABASE_URL, PGPASSWORD,
  // proxies, cloud credentials) is there for a script's libraries to pick up.
  return startModuleWorker(import.meta.url, 'lua-worker', { env: {}, workerData: setup });
}

export function createLuaRunner(options: LuaRunnerOptions): ScriptRunner {
  const size = Math.max(1, Math.floor(options.workers));
  const grace = options.hardKillGraceMs ?? 500;
  const cancelSlots = Math.max(0, Math.floor(options.cancelSlots ?? 4096));
  const slots: Slot[] = [];
  let nextKey = 1;
  let nextSlotId = 1;
  let closed = false;

  function spawn(index: number): void {
    const cancelFlags = new SharedArrayBuffer(cancelSlots * Int32Array.BYTES_PER_ELEMENT);
    const worker = startWorker({ cancelFlags });
    const slot: Slot = {
      id: nextSlotId++,
      worker,
      runs: new Map(),
      dead: false,
      lastHeard: Date.now(),
      cancelCells: new Int32Array(cancelFlags),
      // popped from the end: cell 0 first
      freeCancelSlots: Array.from({ length: cancelSlots }, (_, i) => cancelSlots - 1 - i),
    };
    slots[index] = slot;
    worker.on('message', (msg: FromWorker) => onMessage(slot, msg));
    worker.on('error', (err) => lose(slot, `the Lua worker crashed: ${err.message}`, null));
    worker.on('exit', (code) => lose(slot, `the Lua worker exited unexpectedly (exit code ${code})`, null));
    worker.unref();
  }

  function onMessage(slot: Slot, msg: FromWorker): void {
    slot.lastHeard = Date.now();
    if (msg.type === 'ready' || msg.type === 'alive') return;
    const run = slot.runs.get(msg.key);
    if (!run) return;
    if (msg.type === 'events' || (msg.type === 'done' && msg.events)) {
      for (const event of msg.events!) {
        count(run.summary, event);
        deliver(run, event);
      }
    }
    if (msg.type === 'sut') answerSut(slot, run, msg.id, msg.op, msg.args);
    else if (msg.type === 'done') finish(slot, run, msg.completion);
  }

  function answerSut(slot: Slot, run: PendingRun, id: number, op: Extract<FromWorker, { type: 'sut' }>['op'], args: unknown[]): void {
    const reply = (msg: ToWorker) => {
      if (slot.runs.get(run.key) === run && !slot.dead) post(slot, msg);
    };
    if (!run.sut) {
      reply({ type: 'sut-reply', key: run.key, id, ok: false, error: 'this run targets no App (schedule it with --app NAME, or appName in the API)' });
      return;
    }
    run.sut(op, args).then(
      (r) => reply({ type: 'sut-reply', key: run.key, id, ok: true, value: r.value, ...(r.endpoints ? { endpoints: r.endpoints } : {}) }),
      (err: unknown) => reply({ type: 'sut-reply', key: run.key, id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  function deliver(run: PendingRun, event: RunEvent): void {
    try {
      run.onEvent(event);
    } catch {
      // a failing sink must not break the pool; the engine owns persisting events
    }
  }

  function finish(slot: Slot, run: PendingRun, completion: RunCompletion): void {
    if (!slot.runs.delete(run.key)) return;
    // the worker sent `done` after its last look at the cell (or is gone): it is free
    if (run.cancelSlot >= 0) slot.freeCancelSlots.push(run.cancelSlot);
    for (const t of run.timers) clearTimeout(t);
    run.unlisten();
    run.resolve(completion);
  }

  /**
   * A worker is gone (crashed, or terminated because `culprit` would not stop).
   * Its runs end; the pool replaces the worker.
   */
  function lose(slot: Slot, message: string, culprit: PendingRun | null): void {
    if (slot.dead) return;
    slot.dead = true;
    const index = slots.indexOf(slot);
    for (const run of [...slot.runs.values()]) {
      const completion: RunCompletion =
        run === culprit
          ? culpritCompletion(run)
          : {
              phase: 'Error',
              reason: 'RunnerCrashed',
              message: culprit
                ? `the Lua worker running this script was stopped because run ${culprit.job.runId} (${culprit.job.fileName}) did not stop; run it again`
                : `${message}; runs in this worker: ${[...slot.runs.values()].map((r) => r.job.runId).join(', ')}`,
              summary: run.summary,
            };
      finish(slot, run, completion);
    }
    if (culprit || !closed) void slot.worker.terminate();
    if (!closed && index >= 0) spawn(index);
  }

  function culpritCompletion(run: PendingRun): RunCompletion {
    const [phase, reason, message]: [RunCompletion['phase'], RunReason, string] = run.cancelled
      ? ['Cancelled', 'Cancelled', 'the run was cancelled (the script did not stop by itself, so its worker was terminated)']
      : ['TimedOut', 'Timeout', `the run exceeded its timeout of ${formatDuration(run.job.timeoutMs)}`];
    return { phase, reason, message, summary: run.summary };
  }

  /**
   * The least-loaded worker that is not stuck: a worker held by a script in a long C
   * call (no hook can interrupt it) would freeze every run placed on it until it is
   * terminated, taking them down with it.
   */
  function pick(): Slot {
    const now = Date.now();
    // an idle worker cannot be stuck in a script (a late beat is only a busy machine)
    const responsive = slots.filter((s) => s.runs.size === 0 || now - s.lastHeard < STUCK_AFTER_MS);
    const candidates = responsive.length ? responsive : slots;
    let best = candidates[0]!;
    for (const s of candidates) if (s.runs.size < best.runs.size) best = s;
    return best;
  }

  for (let i = 0; i < size; i++) spawn(i);

  return {
    size,
    run(job: ScriptJob, onEvent: RunEventSink, signal?: AbortSignal, sut?: SutHandler): Promise<RunCompletion> {
      if (closed) return Promise.reject(new Error('the Lua runner is closed'));
      const normalized: ScriptJob = { ...job, fileName: job.fileName || 'script.lua', ...(options.egress ? { egress: options.egress } : {}) };
      return new Promise<RunCompletion>((resolve) => {
        const slot = pick();
        const run: PendingRun = {
          key: nextKey++,
          job: normalized,
          onEvent,
          resolve,
          summary: { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 },
          timers: [],
          cancelled: false,
          unlisten: () => {},
          sut,
          cancelSlot: slot.freeCancelSlots.pop() ?? -1,
        };
        if (run.cancelSlot >= 0) Atomics.store(slot.cancelCells, run.cancelSlot, 0);
        const hardKill = () => {
          if (slot.runs.get(run.key) === run) lose(slot, '', run);
        };
        run.timers.push(setTimeout(hardKill, normalized.timeoutMs + grace));
        if (signal) {
          const onAbort = () => {
            if (slot.runs.get(run.key) !== run) return;
            run.cancelled = true;
            if (run.cancelSlot >= 0) Atomics.store(slot.cancelCells, run.cancelSlot, 1);
            post(slot, { type: 'cancel', key: run.key });
            run.timers.push(setTimeout(hardKill, grace));
          };
          if (signal.aborted) queueMicrotask(onAbort);
          else {
            signal.addEventListener('abort', onAbort, { once: true });
            run.unlisten = () => signal.removeEventListener('abort', onAbort);
          }
        }
        slot.runs.set(run.key, run);
        post(slot, { type: 'run', key: run.key, job: normalized, cancelSlot: run.cancelSlot });
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const all = [...slots];
      for (const slot of all) {
        for (const run of [...slot.runs.values()]) {
          finish(slot, run, {
            phase: 'Error',
            reason: 'RunnerCrashed',
            message: 'the Lua runner was shut down while the run was going',
            summary: run.summary,
          });
        }
        slot.dead = true;
      }
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}

function post(slot: Slot, msg: ToWorker): void {
  slot.worker.postMessage(msg);
}

/** Keeps a summary from forwarded events, for runs that end without their worker's word. */
function count(summary: RunSummary, event: RunEvent): void {
  if (event.type === 'assertion') {
    if (event.passed) summary.assertionsPassed++;
    else summary.assertionsFailed++;
  } else if (event.type === 'step.end') {
    if (event.status === 'passed') summary.stepsPassed++;
    else if (event.status === 'failed') summary.stepsFailed++;
    else summary.stepsSkipped++;
  }
}
