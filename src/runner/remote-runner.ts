/**
 * The remote runner: executes one run away from the server (a runner Pod, or a
 * process) and talks to the server over the runner protocol
 * (`core/schemas/runner-protocol.ts`) with its run's per-run token. `topas runner`
 * is its command.
 *
 * 1. `GET execution`: env, time left, the App's endpoints, the cadence.
 * 2. The script and its folder's files from `source` (the mounted ConfigMap or git
 *    clone; same limits as the CLI's bundle, links followed only inside the folder),
 *    else from the server: with the execution (`?include=bundle`) when there is no
 *    source to read, `GET bundle` when a mounted source turns out to be missing.
 * 3. The script runs in the same Lua runner as the local executor; its events are
 *    numbered here (`EventNumberer`), kept until the server acknowledges them stored,
 *    and sent in batches as they happen — a batch is sent again after a failure or a
 *    server restart (the server stores it once). `sut` calls go to `POST sut`.
 * 4. Heartbeats every `heartbeatMs`; `cancelled: true` stops the script (Cancelled).
 * 5. The completion goes to the termination-log file (the last resort: a Pod's
 *    termination message), then to `POST completion` with the events not sent yet
 *    (once a batch in flight is acknowledged). A trivial run thus makes two calls.
 *
 * Every call is retried with exponential backoff and jitter on network errors, 409
 * `RunNotAttached`, 429 and 5xx, until the run's deadline (+ `giveUpAfterMs`); after a
 * `RunNotAttached` at least once a second (another instance behind the Service may follow the run).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EventSender } from './event-sender.js';
import { runnerRequest } from './runner-client.js';
import { EventNumberer } from '../core/event-numbering.js';
import { EMPTY_SUMMARY, type RunCompletion } from '../core/run.js';
import type { NumberedRunEvent, RunEvent } from '../core/run-events.js';
import { MAX_EVENTS_PER_BATCH, type Bundle, type ExecutionInfo, type HeartbeatReply } from '../core/schemas/runner-protocol.js';
import type { AppEndpoints, SutOperation, SutReply } from '../core/sut.js';
import { TopasError } from '../core/errors.js';
import type { EgressPolicy } from './egress-policy.js';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';
import { bundleTestFolder } from './test-folder.js';
import { readOwnContainerUsage, type ContainerUsage } from './container-usage.js';

export interface RemoteRunnerOptions {
  runId: string;
  /** The server's base URL (`http://topas.topas-system:4000`). */
  server: string;
  /** The per-run token (`topas_run_…`). */
  token: string;
  /** The script file where the Pod mounts it (its folder's files travel with it); absent or missing → fetched from the server. */
  source?: string;
  /** Where the final result is written as JSON, as a last resort (a Pod's `terminationMessagePath`). */
  terminationLog?: string;
  /** Memory cap of the Lua state. Default 256 MiB. */
  memoryLimitBytes?: number;
  /**
   * The runner container's own cgroup folder (`TOPAS_RUNNER_CGROUP`, set in runner Pods
   * to `/sys/fs/cgroup`): the run's profile is the container's CPU time and peak memory
   * where it shows them, else the Lua state's (`container-usage.ts`). Absent: the Lua state's.
   */
  cgroupDir?: string;
  egress?: EgressPolicy;
  /** Each event as it happens (the human-readable stdout log). */
  onEvent?: (event: NumberedRunEvent) => void;
  /** Diagnostics of the runner itself (retries, give-ups). */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Backoff of retried calls. Defaults 100 ms doubling to 5 s, with ±50 % jitter. */
  retry?: { initialMs?: number; maxMs?: number };
  /** How long past the run's deadline the runner still tries to reach the server. Default 5 minutes. */
  giveUpAfterMs?: number;
  /**
   * How long one call may go unanswered before it is abandoned and tried again (calls
   * are idempotent: a batch sent twice is stored once). Default 15 s: a request stuck on
   * a connection that died with a restarting server must not hold the run's end for long.
   */
  requestTimeoutMs?: number;
  /**
   * Who this runner is (sent as `x-topas-runner` on every call): the server gives a
   * started run to one runner only and refuses another (`RunTaken`), so a run handed
   * out twice (a redelivered work-queue message) never runs twice. Default: a new UUID.
   */
  runnerId?: string;
  /** A Lua runner to run the script on (a worker's shared pool; not closed here). Default: a fresh one-thread runner. */
  runner?: ScriptRunner;
  /** Called once the server has handed this runner the run (`GET execution` answered): the run has started. */
  onStarted?: () => void;
  /** Until the run's timeout is known: the latest moment (epoch ms) to keep trying to start it. Default: a day from now. */
  startBy?: number;
}

/** The server refused a call for good (401, 403, 404, 400): retrying would not help. */
export class RunnerRefusedError extends TopasError {
  constructor(status: number, what: string, message: string, reason?: string) {
    super('RunnerRefused', `the server refused ${what} (${status}): ${message}`, { status, ...(reason ? { reason } : {}) });
  }
}

/** The longest wait between attempts of a call refused `RunNotAttached` (ms). */
const NOT_ATTACHED_MAX_DELAY_MS = 1000;

/** Runs the run and reports it; resolves with how it ended (also written to `terminationLog`). */
export async function runRemote(options: RemoteRunnerOptions): Promise<RunCompletion> {
  const log = options.log ?? (() => {});
  const base = `${options.server.replace(/\/+$/, '')}/api/runs/${encodeURIComponent(options.runId)}/runner`;
  let deadline = options.startBy ?? Date.now() + 24 * 3600_000; // until the run's timeout is known
  const runnerId = options.runnerId ?? crypto.randomUUID();
  const giveUp = options.giveUpAfterMs ?? 5 * 60_000;
  const initialMs = options.retry?.initialMs ?? 100;
  const maxMs = options.retry?.maxMs ?? 5000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;

  /** One call, retried until it answers 2xx or a final refusal (or `keepTrying` says stop: then null). */
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, keepTrying: () => boolean = () => true): Promise<T> {
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && !keepTrying()) return null as T;
      let status = 0;
      let text = '';
      try {
        const res = await runnerRequest(`${base}/${path}`, {
          method,
          headers: { authorization: `Bearer ${options.token}`, 'x-topas-runner': runnerId, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          timeoutMs: requestTimeoutMs,
        });
        status = res.status;
        text = res.text;
        if (status >= 200 && status < 300) return (text ? JSON.parse(text) : null) as T;
      } catch (error) {
        text = error instanceof Error ? error.message : String(error);
      }
      // 409 RunNotAttached: try again; 409 RunTaken: another runner executes the run, for good.
      const retryable = status === 0 || (status === 409 && codeOf(text) !== 'RunTaken') || status === 429 || status >= 500;
      if (!retryable) throw new RunnerRefusedError(status, `${method} ${path}`, messageOf(text), codeOf(text));
      // A call nobody needs any more (a heartbeat in flight when the run ended) ends quietly.
      if (!keepTrying()) return null as T;
      if (Date.now() > deadline + giveUp) throw new RunnerRefusedError(status, `${method} ${path}`, `gave up after ${attempt} attempts: ${messageOf(text)}`);
      if ((attempt & (attempt - 1)) === 0) log('warn', 'the server did not take a call; retrying', { call: `${method} ${path}`, status, attempt, error: messageOf(text) });
      await sleep(delay * (0.5 + Math.random()));
      // Not followed where it landed: the next attempt comes on a new connection (the server
      // closed this one) that may reach the instance that follows the run, so keep trying often.
      delay = Math.min(status === 409 ? Math.min(maxMs, NOT_ATTACHED_MAX_DELAY_MS) : maxMs, delay * 2);
    }
  }

  const mounted = options.source !== undefined && existsSync(options.source);
  const info = await call<ExecutionInfo>('GET', mounted ? 'execution' : 'execution?include=bundle');
  deadline = Date.now() + info.timeoutMs;
  options.onStarted?.();
  const bundle = await readSource(options.source, info, () => (info.bundle ? Promise.resolve(info.bundle) : call<Bundle>('GET', 'bundle')), log);

  // --- events: numbered here, kept until stored, sent in order, one batch in flight
  const numbers = new EventNumberer();
  const outbox = new EventSender({ post: (events) => call('POST', 'events', { events }), flushMs: info.flushMs, maxBatch: MAX_EVENTS_PER_BATCH });
  const onEvent = (event: RunEvent) => {
    const numbered = numbers.number(event);
    outbox.add(numbered);
    try {
      options.onEvent?.(numbered);
    } catch {
      // printing never stops a run
    }
  };
  if (info.note) onEvent({ type: 'log', ts: Date.now(), level: 'info', message: info.note, stepSeq: null });

  // --- heartbeats: liveness, and cancellation
  const cancel = new AbortController();
  let beating = true;
  // Ends the wait for the next beat once the run is over (a runner does not linger for a heartbeat period).
  const beatsOver = new AbortController();
  const beat = async () => {
    while (beating) {
      await sleep(info.heartbeatMs, beatsOver.signal);
      if (!beating) return;
      try {
        const reply = await call<HeartbeatReply | null>('POST', 'heartbeat', { lastLogSeq: numbers.lastLogSeq }, () => beating);
        if (reply?.cancelled && !cancel.signal.aborted) {
          log('info', 'the run was cancelled; stopping it');
          cancel.abort();
        }
      } catch (error) {
        if (!beating) return;
        // 401: the run has ended on the server (timed out there, or recorded lost): nothing to run for.
        const ended = error instanceof RunnerRefusedError && error.details?.status === 401;
        log(ended ? 'info' : 'error', ended ? 'the run has ended on the server; stopping it' : 'heartbeats failed for good; stopping the run', { error: String(error) });
        cancel.abort();
        return;
      }
    }
  };
  const beats = beat();

  let endpoints: AppEndpoints | undefined = info.app?.endpoints;
  const sut = info.app
    ? async (op: SutOperation, args: unknown[]): Promise<SutReply> => {
        const reply = await call<SutReply & { error?: string }>('POST', 'sut', { op, args });
        if (reply.error !== undefined) throw new Error(reply.error);
        if (reply.endpoints) endpoints = reply.endpoints;
        return reply;
      }
    : undefined;

  const runner = options.runner ?? createLuaRunner({ workers: 1, ...(options.egress ? { egress: options.egress } : {}) });
  let completion: RunCompletion;
  try {
    completion = await runner.run(
      {
        runId: options.runId,
        script: bundle.script,
        fileName: bundle.fileName,
        files: bundle.files,
        env: info.env,
        timeoutMs: Math.max(1, deadline - Date.now()),
        memoryLimitBytes: options.memoryLimitBytes ?? 256 * 1024 * 1024,
        app: info.app ? { name: info.app.name, readOnly: info.app.readOnly, endpoints: endpoints ?? {} } : null,
      },
      onEvent,
      cancel.signal,
      sut,
    );
  } catch (error) {
    completion = { phase: 'Error', reason: 'RunnerCrashed', message: `the runner failed: ${String(error)}`, summary: EMPTY_SUMMARY };
  }
  try {
    return await report(completion);
  } finally {
    // Only once the result is out: tearing the Lua thread down is the last thing a runner
    // process does (a crash there — exit 139 was seen once in 50 runner Pods under load —
    // then costs nothing but the exit code).
    if (!options.runner) await runner.close();
  }

  async function report(completion: RunCompletion): Promise<RunCompletion> {
    if (options.cgroupDir) completion = withContainerProfile(completion, await readOwnContainerUsage(options.cgroupDir));

    // The last resort first: whatever happens to the calls below, the result is recorded.
    await writeTerminationLog(options.terminationLog, completion, outbox.pending);
    // A server before `completionTakesEvents` would drop events sent with the completion.
    const last = info.completionTakesEvents ? await outbox.lastBatch() : await outbox.sendAll().then(() => []);
    beating = false;
    beatsOver.abort();
    try {
      try {
        await call('POST', 'completion', last.length ? { ...completion, events: last } : completion);
        outbox.acknowledge(last.length);
      } catch (error) {
        // Refused with its events (400): send them as batches (a refused batch is reported
        // below), then the completion alone.
        if (!(last.length && error instanceof RunnerRefusedError && error.details?.status === 400)) throw error;
        await outbox.sendAll();
        await call('POST', 'completion', completion);
      }
    } catch (error) {
      // 401 after the run ended: the server already took the end (the token dies with the run).
      log(error instanceof RunnerRefusedError && error.details?.status === 401 ? 'info' : 'error', 'reporting the completion failed', { error: String(error) });
    }
    if (outbox.failure || outbox.pending) log('error', 'some events could not be delivered', { undelivered: outbox.pending, ...(outbox.failure ? { error: String(outbox.failure) } : {}) });
    await writeTerminationLog(options.terminationLog, completion, outbox.pending);
    await beats;
    return completion;
  }
}

/** The completion with the container's figures in place of the Lua state's, each where the cgroup has it. */
export function withContainerProfile(completion: RunCompletion, usage: ContainerUsage): RunCompletion {
  const cpuMs = usage.cpuMs ?? completion.profile?.cpuMs;
  const peakMemoryBytes = usage.peakMemoryBytes ?? completion.profile?.peakMemoryBytes;
  if (cpuMs === undefined || peakMemoryBytes === undefined) return completion;
  return { ...completion, profile: { cpuMs, peakMemoryBytes } };
}

/** The script and its folder's files: from the mounted source when it is there, else from the server. */
async function readSource(
  source: string | undefined,
  info: ExecutionInfo,
  fetchBundle: () => Promise<Bundle>,
  log: NonNullable<RemoteRunnerOptions['log']>,
): Promise<Bundle> {
  if (source && existsSync(source)) {
    const script = await readFile(source, 'utf8');
    const files = await bundleTestFolder(source, { followLinksInside: true });
    return { script, fileName: info.fileName || basename(source), files };
  }
  if (source) log('info', 'the script is not at the source path; fetching it from the server', { source, bundleBytes: info.bundleBytes });
  return fetchBundle();
}

async function writeTerminationLog(file: string | undefined, completion: RunCompletion, undeliveredEvents: number): Promise<void> {
  if (!file) return;
  // A Pod's termination message holds at most 4096 bytes: keep the message short.
  const message = completion.message && completion.message.length > 2000 ? `${completion.message.slice(0, 2000)}…` : completion.message;
  await writeFile(file, JSON.stringify({ ...completion, message, undeliveredEvents })).catch(() => {});
}

/** The error code of a server's error body (`{ error: { code } }`), if any. */
function codeOf(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (body?.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 300);
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
