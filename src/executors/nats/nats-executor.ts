/**
 * The `nats` executor (`topas up --nats nats://…`): each claimed run is published to a
 * JetStream work queue (`work-queue.ts`) as a `WorkMessage` — its id, this server's URL
 * and its per-run token — and executed by whichever `topas worker --nats` pulls it,
 * as a remote runner calling back over the runner protocol (`runner-hub.ts`). The engine
 * still claims (the one global limit holds); workers only execute. Detached: a run goes on
 * on its worker while topas restarts, and any instance re-attaches to it by run id.
 *
 * A run is started once the server has handed it to a runner (`GET …/runner/execution`);
 * its worker acknowledges the message only then. So:
 * - a worker that dies before that: the message is redelivered (ack wait) to another worker;
 * - a worker that dies after: the run's heartbeats stop, and after `lostAfterMs` the run
 *   ends `Error`/`ExecutorLost` — never started again (the hub refuses a second runner, `RunTaken`);
 * - a run no worker takes within its timeout ends `TimedOut`, and its message is deleted;
 * - a run from git ends `Error`/`SourceUnavailable`: workers do not check git sources out yet;
 * - a cancel reaches the runner on its next heartbeat; a run still in the queue is
 *   cancelled at once (its message deleted). A run's token dies with the run, so a late
 *   worker is refused (401) and drops the message.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { errorField, silentLogger, type Logger } from '../../core/logger.js';
import { EMPTY_SUMMARY, type RunCompletion } from '../../core/run.js';
import type { WorkMessage } from '../../core/schemas/work-message.js';
import { ExecutorClosedError, type ExecutionJob, type Executor, type RunSink } from '../executor.js';
import type { RunnerHub } from '../runner-hub.js';
import type { MintRunToken } from '../run-tokens.js';
import { connectNats, ensureStream, runSubject, type WorkQueueNames } from './work-queue.js';

/** A connection to NATS with the work queue's stream in place: what the executor publishes to (it closes it). */
export interface NatsQueue {
  nc: NatsConnection;
  jsm: JetStreamManager;
  names: WorkQueueNames;
}

/** Connects to NATS (`nats://host:4222`; credentials as `nats://user:pass@host`) and makes sure the stream exists; fails fast with NatsUnavailableError. */
export async function openNatsQueue(url: string, names: WorkQueueNames): Promise<NatsQueue> {
  const nc = await connectNats(url, 'topas-server');
  try {
    return { nc, jsm: await ensureStream(nc, names), names };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

export interface NatsExecutorOptions {
  hub: RunnerHub;
  mintRunToken: MintRunToken;
  /** The URL workers reach this server at (resolves once it listens). */
  serverUrl: () => string | Promise<string>;
  /** How many runs this executor takes at once (the engine's global limit applies too). Default 1000. */
  capacity?: number;
  /** A started run whose runner is silent this long (no heartbeat, no call) ends `Error`/`ExecutorLost`. Default 15000 ms. */
  lostAfterMs?: number;
  /** Re-attaching to a run with no message left in the queue: how long to wait for its runner to call before it counts as gone. Default 5000 ms. */
  attachWaitMs?: number;
  /** After a cancel, how long a started run's runner may take to report `Cancelled` before the run ends `Cancelled` anyway. Default 5000 ms. */
  cancelGraceMs?: number;
  /** How often a followed run's liveness is checked. Default 250 ms. */
  checkMs?: number;
  log?: Logger;
}

interface Following {
  stop: () => void;
}

/** Where a followed run stands, as far as this executor knows. */
type Stage =
  /** Its message waits in the queue (no runner has called yet). */
  | { kind: 'queued'; seq: number | null }
  /** Re-attached with no message left: its runner should call soon, else it is gone. */
  | { kind: 'unknown'; since: number };

/** Connects (`openNatsQueue`) and returns the executor. */
export async function openNatsExecutor(options: NatsExecutorOptions & { url: string; names: WorkQueueNames }): Promise<Executor> {
  return createNatsExecutor(await openNatsQueue(options.url, options.names), options);
}

export function createNatsExecutor(queue: NatsQueue, options: NatsExecutorOptions): Executor {
  const { nc, jsm } = queue;
  const names = queue.names;
  const log = options.log ?? silentLogger;
  const js: JetStreamClient = jetstream(nc);
  const lostAfterMs = options.lostAfterMs ?? 15_000;
  const attachWaitMs = options.attachWaitMs ?? 5000;
  const checkMs = options.checkMs ?? 250;
  const following = new Set<Following>();
  let closed = false;

  const lost = (silentMs: number): RunCompletion => ({
    phase: 'Error',
    reason: 'ExecutorLost',
    message: `the worker executing this run stopped answering (no heartbeat for ${Math.round(silentMs / 1000)} s): it was killed or lost its network`,
    summary: EMPTY_SUMMARY,
  });

  /** Deletes a run's message from the queue (best effort: a worker may hold it; it will be refused). */
  function dropMessage(runId: string, seq: number | null): void {
    const found = seq !== null ? Promise.resolve(seq) : jsm.streams.getMessage(names.stream, { last_by_subj: runSubject(names, runId) }).then((m) => m?.seq ?? null);
    void found
      .then((s) => (s !== null ? jsm.streams.deleteMessage(names.stream, s, false) : false))
      .catch((error: unknown) => log('debug', 'deleting a run\'s queue message failed (a worker took it)', { runId, error: errorField(error) }));
  }

  /** The run's message still waiting in the queue, if any. */
  async function pendingMessage(runId: string): Promise<number | null> {
    const m = await jsm.streams.getMessage(names.stream, { last_by_subj: runSubject(names, runId) }).catch(() => null);
    return m?.seq ?? null;
  }

  async function publish(job: ExecutionJob): Promise<number> {
    const started = job.startedAt ?? Date.now();
    const message: WorkMessage = {
      v: 1,
      runId: job.runId,
      server: (await options.serverUrl()).replace(/\/+$/, ''),
      token: await options.mintRunToken(job.runId, job.timeoutMs),
      deadline: started + job.timeoutMs,
    };
    // The run id as message id: a publish repeated within the stream's duplicate window is stored once.
    const ack = await js.publish(runSubject(names, job.runId), JSON.stringify(message), { msgID: job.runId });
    log('debug', 'run published to the work queue', { runId: job.runId, stream: names.stream, seq: ack.seq, duplicate: ack.duplicate });
    return ack.seq;
  }

  /**
   * Follows a run through the hub until it ends: its runner's report, its silence
   * (ExecutorLost), its timeout while still queued, a cancel. Null: nothing of it is left
   * (re-attached, and no runner called within `attachWaitMs`).
   */
  function follow(job: ExecutionJob, sink: RunSink, signal: AbortSignal, stage: Stage): { done: Promise<RunCompletion | null>; published: (seq: number) => void; quit: () => void } {
    let current: Stage = stage;
    let published: (seq: number) => void = () => {};
    let quit: () => void = () => {};
    const done = new Promise<RunCompletion | null>((resolve, reject) => {
      let over = false;
      let cancelTimer: NodeJS.Timeout | undefined;
      const deadline = (job.startedAt ?? Date.now()) + job.timeoutMs;
      const entry: Following = { stop: () => finish(false, () => reject(new ExecutorClosedError())) };
      published = (seq) => {
        if (current.kind === 'queued') current = { kind: 'queued', seq };
      };
      quit = () => finish(true, () => resolve(null));
      const unfollow = options.hub.follow({ job, sink, signal, complete: (c) => finish(true, () => resolve(c)) });
      const check = () => {
        const heard = options.hub.lastHeardFrom(job.runId);
        const now = Date.now();
        if (heard !== null) {
          // Started: alive while it calls.
          if (now - heard > lostAfterMs) finish(true, () => resolve(lost(now - heard)));
          return;
        }
        if (current.kind === 'unknown') {
          if (now - current.since > attachWaitMs) finish(true, () => resolve(null));
          return;
        }
        if (now > deadline) {
          dropMessage(job.runId, current.seq);
          finish(true, () =>
            resolve({
              phase: 'TimedOut',
              reason: 'Timeout',
              message: `no worker started the run within its timeout of ${Math.round(job.timeoutMs / 1000)} s (are \`topas worker --nats\` processes running and pulling from ${names.stream}?)`,
              summary: EMPTY_SUMMARY,
            }),
          );
        }
      };
      const tick = setInterval(check, checkMs);
      tick.unref();
      const onAbort = () => {
        if (options.hub.lastHeardFrom(job.runId) === null) {
          // Still in the queue: nobody runs it yet.
          dropMessage(job.runId, current.kind === 'queued' ? current.seq : null);
          finish(true, () => resolve({ phase: 'Cancelled', reason: 'Cancelled', message: 'cancelled before a worker started it', summary: EMPTY_SUMMARY }));
          return;
        }
        // The runner sees the cancel on its next heartbeat and reports Cancelled.
        cancelTimer = setTimeout(
          () =>
            finish(true, () =>
              resolve({ phase: 'Cancelled', reason: 'Cancelled', message: 'cancelled; its worker did not confirm in time (its runner is refused from now on and stops)', summary: EMPTY_SUMMARY }),
            ),
          options.cancelGraceMs ?? 5000,
        );
        cancelTimer.unref();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      /** `ended`: the run is over (its runner record goes); else this instance only stops following it. */
      function finish(ended: boolean, settle: () => void) {
        if (over) return;
        over = true;
        clearInterval(tick);
        clearTimeout(cancelTimer);
        signal.removeEventListener('abort', onAbort);
        unfollow();
        following.delete(entry);
        if (ended) options.hub.forget(job.runId);
        settle();
      }
      following.add(entry);
    });
    return { done, published, quit };
  }

  return {
    name: 'nats',
    capacity: options.capacity ?? 1000,
    detached: true,
    async execute(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      if (job.git) {
        return {
          phase: 'Error',
          reason: 'SourceUnavailable',
          message: 'topas worker does not check out git sources yet: run tests from git with the local or the kubernetes executor, or schedule the script itself',
          summary: EMPTY_SUMMARY,
        };
      }
      // By identity: a run whose runner already calls is followed, not published again; a
      // publish repeated within the stream's duplicate window (the run id is the message id)
      // is stored once, so a message still waiting is not doubled.
      const known = options.hub.lastHeardFrom(job.runId) !== null;
      const followed = follow(job, sink, signal, { kind: 'queued', seq: null });
      followed.done.catch(() => {});
      if (!known && !signal.aborted) {
        try {
          followed.published(await publish(job));
        } catch (error) {
          if (closed) throw new ExecutorClosedError();
          log('error', 'publishing the run to the work queue failed', { runId: job.runId, stream: names.stream, error: errorField(error) });
          followed.quit();
          throw error;
        }
      }
      return (await followed.done) ?? lost(0);
    },
    async attach(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      const seq = await pendingMessage(job.runId);
      const stage: Stage = seq !== null ? { kind: 'queued', seq } : { kind: 'unknown', since: Date.now() };
      return follow(job, sink, signal, stage).done;
    },
    leaveAll() {
      for (const f of [...following]) f.stop();
    },
    async close() {
      closed = true;
      for (const f of [...following]) f.stop();
      await nc.drain().catch(() => nc.close());
    },
  };
}
