/**
 * A NATS executor worker (`topas worker --nats`): pulls runs from the JetStream work
 * queue (`work-queue.ts`) and executes up to `concurrency` of them at once, each as a
 * remote runner (`runner/remote-runner.ts`) of the server named in its message, on one
 * shared Lua runner pool. Several workers, on one machine or many, share the queue.
 *
 * A message is acknowledged when the server has handed the run to this worker's runner
 * (the run started), and kept alive (`working`) until then; a worker that dies before
 * leaves it to be redelivered. A message the server refuses (the run ended, or another
 * runner executes it: `RunTaken`), one past its run's deadline, or one that is not a
 * work message is terminated: it is never delivered again.
 */
import { jetstream, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { errorField, silentLogger, type Logger } from '../../core/logger.js';
import type { RunCompletion } from '../../core/run.js';
import { WorkMessageSchema, type WorkMessage } from '../../core/schemas/work-message.js';
import type { EgressPolicy } from '../../runner/egress-policy.js';
import { createLuaRunner } from '../../runner/lua-runner.js';
import { runRemote, RunnerRefusedError } from '../../runner/remote-runner.js';
import type { ScriptRunner } from '../../runner/runner.js';
import { connectNats, ensureConsumer, ensureStream, WORKER_CONSUMER, type WorkQueueNames } from './work-queue.js';

export interface NatsWorkerOptions {
  /** `nats://host:4222`. */
  url: string;
  names: WorkQueueNames;
  /** Runs executed at once. */
  concurrency: number;
  /** Lua worker threads (each hosts many runs). */
  luaWorkers: number;
  /** Memory cap of one run's Lua state. */
  memoryLimitBytes: number;
  /** How long a message may go unacknowledged before it goes to another worker (when this worker creates the consumer). */
  ackWaitMs: number;
  egress?: EgressPolicy;
  /** Each run as it ends (the worker's stdout line). */
  onRunEnded?: (runId: string, completion: RunCompletion, ms: number) => void;
  log?: Logger;
}

export interface RunningWorker {
  /** Runs executing now. */
  readonly active: number;
  /** Stops pulling, lets the runs in hand finish (their messages are acknowledged already), disconnects. */
  stop(): Promise<void>;
}

/** How long one pull waits for a message before it asks again (a stop is noticed within it). */
const PULL_EXPIRES_MS = 2000;

export async function startNatsWorker(options: NatsWorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? silentLogger;
  const nc: NatsConnection = await connectNats(options.url, `topas-worker-${process.pid}`);
  let consumer: Consumer;
  try {
    const jsm = await ensureStream(nc, options.names);
    await ensureConsumer(jsm, options.names, { ackWaitMs: options.ackWaitMs });
    consumer = await jetstream(nc).consumers.get(options.names.stream, WORKER_CONSUMER);
  } catch (error) {
    await nc.close();
    throw error;
  }
  const runner: ScriptRunner = createLuaRunner({ workers: options.luaWorkers, ...(options.egress ? { egress: options.egress } : {}) });
  let stopping = false;

  async function handle(msg: JsMsg): Promise<void> {
    let work: WorkMessage;
    try {
      work = WorkMessageSchema.parse(JSON.parse(msg.string()));
    } catch (error) {
      log('warn', 'not a work message; dropped', { subject: msg.subject, error: errorField(error) });
      msg.term('not a topas work message');
      return;
    }
    const { runId } = work;
    if (Date.now() > work.deadline) {
      log('info', 'the run timed out before a worker took it; dropped', { runId });
      msg.term('past the run deadline');
      return;
    }
    // Until the run starts, the message stays ours; once it started, it is acknowledged (never redelivered).
    const keepAlive = setInterval(() => msg.working(), Math.max(200, options.ackWaitMs / 3));
    let started = false;
    const began = Date.now();
    try {
      const completion = await runRemote({
        runId,
        server: work.server,
        token: work.token,
        runner,
        memoryLimitBytes: options.memoryLimitBytes,
        startBy: work.deadline,
        ...(options.egress ? { egress: options.egress } : {}),
        // Workers live beside the server: retry quickly (the server's re-attach waits for us).
        retry: { initialMs: 50, maxMs: 1000 },
        onStarted: () => {
          started = true;
          clearInterval(keepAlive);
          msg.ack();
          log('debug', 'run started', { runId, delivery: msg.info.deliveryCount });
        },
        log: (level, m, fields) => log(level, m, { runId, ...fields }),
      });
      options.onRunEnded?.(runId, completion, Date.now() - began);
    } catch (error) {
      if (!started) {
        // Refused (the run ended, or another runner has it) or past its deadline: nobody should take it again.
        const reason = error instanceof RunnerRefusedError ? String(error.details?.reason ?? error.details?.status) : 'failed';
        log('info', 'the server did not hand this worker the run; dropped', { runId, reason, error: errorField(error) });
        msg.term(`refused: ${reason}`);
      } else log('error', 'a run failed on this worker', { runId, error: errorField(error) });
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Runs being executed (their handlers): how many slots are taken, and what a stop waits for. */
  const running = new Set<Promise<void>>();
  /** Resolves the pull loop's wait for a free slot. */
  let slotFreed: (() => void) | null = null;
  /** The batch being pulled now (stopped at once by a stop). */
  let batch: ConsumerMessages | null = null;

  /**
   * Pulls as many messages as there are free slots, in one request, and starts each run as
   * its message comes; when the batch is delivered (or the request expires), pulls again.
   * One request per batch rather than one per run: each request and its reply inbox cost
   * the worker and the NATS server a round of protocol writes.
   */
  async function pull(): Promise<void> {
    while (!stopping) {
      const free = options.concurrency - running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      try {
        batch = await consumer.fetch({ max_messages: free, expires: PULL_EXPIRES_MS });
        if (stopping) batch.stop();
        for await (const msg of batch) {
          if (stopping) {
            // Not started: give it back at once.
            msg.nak();
            continue;
          }
          const run: Promise<void> = handle(msg).finally(() => {
            running.delete(run);
            slotFreed?.();
            slotFreed = null;
          });
          running.add(run);
        }
      } catch (error) {
        if (stopping) return;
        log('warn', 'pulling from the work queue failed; retrying', { stream: options.names.stream, error: errorField(error) });
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        batch = null;
      }
    }
  }

  const pulling = pull();
  log('info', 'worker pulling runs', { url: nc.getServer(), stream: options.names.stream, concurrency: options.concurrency });

  let stopped: Promise<void> | null = null;
  return {
    get active() {
      return running.size;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        batch?.stop();
        slotFreed?.();
        await pulling;
        await Promise.allSettled([...running]);
        await runner.close();
        await nc.drain().catch(() => nc.close());
      })();
      return stopped;
    },
  };
}
