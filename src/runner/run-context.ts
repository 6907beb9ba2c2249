/**
 * The host-side state of one run inside a worker: it turns what the script reports
 * (logs, steps, assertions, errors) into RunEvents, counts the summary, remembers the
 * first failure, and knows whether the run was stopped (timeout or cancel).
 */
import type { RunCompletion, RunProfile, RunReason, RunSummary } from '../core/run.js';
import type { LogLevel, RunEvent, StepKind } from '../core/run-events.js';
import { formatBytes, formatDuration } from './duration.js';
import { SecretMasker } from '../core/secrets.js';
import type { Endpoint } from '../core/app.js';
import { lookupName, resolveEndpoint, type AppEndpoints, type NameEndpoints, type SutOperation } from '../core/sut.js';
import type { ToWorker } from './protocol.js';
import type { ScriptJob } from './runner.js';
import { OPEN_EGRESS, type EgressPolicy } from './egress-policy.js';

/** Passed assertions beyond this many per run are only counted, not recorded one by one. */
export const RECORDED_PASSED_ASSERTIONS_CAP = 1000;
/** Longer log messages are cut to this many characters. */
export const MAX_LOG_MESSAGE_CHARS = 64 * 1024;

export type StopReason = 'timeout' | 'cancel';

/** One cell of shared memory that cancels a run when another thread sets it. */
export interface CancelFlag {
  cells: Int32Array;
  index: number;
}

/** Flushes a batch of events to the pool (in order). */
export type EventFlush = (events: RunEvent[]) => void;

/** Sends a `sut` call to the process that owns the App; the answer arrives through `sutReply`. */
export type SutSend = (id: number, op: SutOperation, args: unknown[]) => void;

const FLUSH_AT = 200;

/** Optional details of an assertion: where (when not in the main script) and the rendered values. */
export interface AssertionDetails {
  file?: string | null;
  expected?: string | null;
  actual?: string | null;
}

export class RunContext {
  readonly summary: RunSummary = {
    stepsPassed: 0,
    stepsFailed: 0,
    stepsSkipped: 0,
    assertionsPassed: 0,
    assertionsFailed: 0,
  };
  /** Made on first use: aborting one builds an exception with a stack (~30 µs), and most trivial runs never need it. */
  private controller: AbortController | null = null;
  /** Whether the run was stopped or ended: a controller made after that is born aborted. */
  private aborted = false;
  /** Aborted when the run is stopped or ends; cancels sleeps and fetches. */
  get abort(): AbortController {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller;
  }
  readonly deadline: number;
  /** Where the run's clients may connect (checked at connect time, see egress.ts). */
  readonly egress: EgressPolicy;
  stopReason: StopReason | null = null;
  memoryExceeded = false;

  private readonly buffer: RunEvent[] = [];
  private flushScheduled = false;
  private readonly stepStack: number[] = [];
  private nextSeq = 1;
  private recordedPassed = 0;
  private firstFailure: string | null = null;
  private invalid: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** Hides the env's secrets in everything the run reports (core/secrets). */
  private readonly masker: SecretMasker;
  /** Set when the script skipped itself at top level (`skip(reason)`). */
  private skippedMessage: string | null = null;

  /** Where the App's names answer; refreshed by `sut` replies. */
  private endpoints: AppEndpoints | null;
  private nextSutId = 1;
  private readonly sutPending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(
    readonly job: ScriptJob,
    private readonly flush: EventFlush,
    private readonly sutSend: SutSend | null = null,
    /** A cell another thread sets to non-zero to cancel the run (read by checkDeadline). */
    private readonly cancelFlag: CancelFlag | null = null,
  ) {
    this.endpoints = job.app?.endpoints ?? null;
    this.deadline = Date.now() + job.timeoutMs;
    this.egress = job.egress ?? OPEN_EGRESS;
    this.masker = SecretMasker.forEnv(job.env ?? {});
    this.timer = setTimeout(() => this.stop('timeout'), job.timeoutMs);
  }

  /**
   * Where a connection to `host:port` should go: the local endpoint when `host` names
   * a service or database of the run's App, else null (connect as given).
   */
  resolve(host: string, port: number | null): Endpoint | null {
    return resolveEndpoint(this.endpoints, host, port);
  }

  /** The App's entry for a host name (endpoints and, for a database, its credentials), or null. */
  appEntry(host: string): NameEndpoints | null {
    return lookupName(this.endpoints, host);
  }

  /** Asks the App's owner to perform a `sut` operation; rejects when the run stops first. */
  sutCall(op: SutOperation, args: unknown[]): Promise<unknown> {
    if (!this.sutSend || !this.job.app) return Promise.reject(new Error('this run targets no App (schedule it with --app NAME, or appName in the API)'));
    if (this.abort.signal.aborted) return Promise.reject(new Error('the run was stopped'));
    const id = this.nextSutId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.sutPending.delete(id);
        reject(new Error('the run was stopped'));
      };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      this.sutPending.set(id, {
        resolve: (v) => {
          this.abort.signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          this.abort.signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.sutSend!(id, op, args);
    });
  }

  /** The answer to a `sutCall`. */
  sutReply(msg: Extract<ToWorker, { type: 'sut-reply' }>): void {
    const pending = this.sutPending.get(msg.id);
    if (!pending) return;
    this.sutPending.delete(msg.id);
    if (msg.ok) {
      if (msg.endpoints) this.endpoints = msg.endpoints;
      pending.resolve(msg.value);
    } else pending.reject(new Error(msg.error));
  }

  /** Stops the run: the script errors at its next instruction, sleeps and fetches end. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abortAll();
  }

  private abortAll(): void {
    this.aborted = true;
    this.controller?.abort();
  }

  /**
   * True once the run must stop: its deadline passed or its cancel flag is set (checked
   * at VM checkpoints, where no timer or message can run).
   */
  checkDeadline(): boolean {
    if (!this.stopReason) {
      if (this.cancelFlag && Atomics.load(this.cancelFlag.cells, this.cancelFlag.index) !== 0) this.stop('cancel');
      else if (Date.now() > this.deadline) this.stop('timeout');
    }
    return this.stopReason !== null;
  }

  get currentStep(): number | null {
    return this.stepStack.length ? this.stepStack[this.stepStack.length - 1] : null;
  }

  log(level: LogLevel, message: string): void {
    if (message.length > MAX_LOG_MESSAGE_CHARS) {
      // masked before it is cut, so a secret across the cut is hidden whole (emit masks the rest)
      message = this.mask(message);
      message = `${message.slice(0, MAX_LOG_MESSAGE_CHARS)}… (truncated, ${message.length} characters)`;
    }
    this.emit({ type: 'log', ts: Date.now(), level, message, stepSeq: this.currentStep });
  }

  stepStart(kind: StepKind, name: string, line: number | null, file?: string | null): number {
    const seq = this.nextSeq++;
    this.emit({
      type: 'step.start',
      ts: Date.now(),
      seq,
      parentSeq: this.currentStep,
      kind,
      name,
      location: this.location(line, file),
    });
    this.stepStack.push(seq);
    return seq;
  }

  stepEnd(seq: number, status: 'passed' | 'failed' | 'skipped', message: string | null, line: number | null, file?: string | null): void {
    const at = this.stepStack.lastIndexOf(seq);
    if (at >= 0) this.stepStack.length = at;
    if (status === 'passed') this.summary.stepsPassed++;
    else if (status === 'failed') {
      this.summary.stepsFailed++;
      if (message) this.recordFailure(message);
    } else this.summary.stepsSkipped++;
    this.emit({ type: 'step.end', ts: Date.now(), seq, status, message, location: this.location(line, file) });
  }

  /**
   * A failed assertion, or a passed one while under the recording cap. `failure` is
   * the raised error text (`hello.lua:7: assertion failed: ...`).
   */
  assertion(passed: boolean, message: string, line: number | null, failure: string | null, details: AssertionDetails = {}): void {
    if (passed) {
      this.summary.assertionsPassed++;
      if (this.recordedPassed >= RECORDED_PASSED_ASSERTIONS_CAP) return;
      this.recordedPassed++;
    } else {
      this.summary.assertionsFailed++;
      this.recordFailure(failure ?? message);
    }
    const event: RunEvent = { type: 'assertion', ts: Date.now(), stepSeq: this.currentStep, passed, message, location: this.location(line, details.file) };
    if (details.expected != null) event.expected = details.expected;
    if (details.actual != null) event.actual = details.actual;
    this.emit(event);
  }

  /** Passed assertions the script only counted (beyond the cap). */
  countPassedAssertions(n: number): void {
    this.summary.assertionsPassed += n;
  }

  /** An error nobody caught ended the script. */
  uncaught(message: string): void {
    if (isMemoryError(message)) {
      this.memoryExceeded = true;
      return;
    }
    this.log('error', message);
    this.recordFailure(message);
  }

  /** `skip(reason)` at the top level: the rest of the script did not run; the run still passes. */
  skipped(reason: string): void {
    this.skippedMessage ??= reason ? `skipped: ${reason}` : 'skipped';
    this.log('info', this.skippedMessage);
  }

  /** The script does not compile. */
  scriptInvalid(message: string): void {
    this.invalid = message;
    this.log('error', message);
  }

  recordFailure(message: string): void {
    if (isMemoryError(message)) this.memoryExceeded = true;
    else this.firstFailure ??= message;
  }

  /** Ends the run: flushes events and says how it ended (with what it used, when measured). */
  complete(profile?: RunProfile): RunCompletion {
    clearTimeout(this.timer);
    this.abortAll(); // ends anything the script left running
    this.flushNow();
    const summary = { ...this.summary };
    const end = (phase: RunCompletion['phase'], reason: RunReason | null, message: string | null): RunCompletion => ({
      phase,
      reason,
      message: message === null ? null : this.mask(message),
      summary,
      ...(profile ? { profile } : {}),
    });
    if (this.finalStop === 'timeout') return end('TimedOut', 'Timeout', `the run exceeded its timeout of ${formatDuration(this.job.timeoutMs)}`);
    if (this.finalStop === 'cancel') return end('Cancelled', 'Cancelled', 'the run was cancelled');
    if (this.memoryExceeded) {
      return end(
        'Error',
        'MemoryLimit',
        `the script used more than ${formatBytes(this.job.memoryLimitBytes)} (memory limit per run); keep less data in tables or raise the limit`,
      );
    }
    if (this.invalid) return end('Error', 'ScriptInvalid', this.invalid);
    if (this.firstFailure) {
      return end('Failed', this.summary.assertionsFailed > 0 ? 'AssertionFailed' : 'ScriptError', this.firstFailure);
    }
    return end('Passed', null, this.skippedMessage);
  }

  /** How the run was stopped, frozen when the script finished (before `complete` aborts leftovers). */
  private finalStop: StopReason | null = null;
  /** Called once the script returned, before `complete`. */
  freezeStop(): void {
    this.checkDeadline();
    this.finalStop = this.stopReason;
  }

  /** Every event leaves through here: secrets are masked once, for all modules. */
  emit(event: RunEvent): void {
    this.masker.maskEvent(event);
    this.buffer.push(event);
    if (this.buffer.length >= FLUSH_AT) this.flushNow();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushNow();
      });
    }
  }

  flushNow(): void {
    if (this.buffer.length === 0) return;
    this.flush(this.buffer.splice(0, this.buffer.length));
  }

  /** The text with the run's secrets (and their encoded forms) shown as `***`. */
  mask(text: string): string {
    return this.masker.active ? this.masker.mask(text) : text;
  }

  private location(line: number | null, file?: string | null): { file: string; line: number } | null {
    return line && line > 0 ? { file: file || this.job.fileName, line } : null;
  }
}

/** Lua's message when an allocation is refused (here: the per-run memory cap). */
export function isMemoryError(message: string): boolean {
  return message === 'not enough memory' || message.endsWith(': not enough memory');
}
