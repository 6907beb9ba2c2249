/**
 * The host-side state of one run inside a worker: it turns what the script reports
 * (logs, steps, assertions, errors) into RunEvents, counts the summary, remembers the
 * first failure, and knows whether the run was stopped (timeout or cancel).
 */
import type { RunCompletion, RunReason, RunSummary } from '../core/run.js';
import type { LogLevel, RunEvent, StepKind } from '../core/run-events.js';
import { formatBytes, formatDuration } from './duration.js';
import type { ScriptJob } from './runner.js';

/** Passed assertions beyond this many per run are only counted, not recorded one by one. */
export const RECORDED_PASSED_ASSERTIONS_CAP = 1000;
/** Longer log messages are cut to this many characters. */
export const MAX_LOG_MESSAGE_CHARS = 64 * 1024;

export type StopReason = 'timeout' | 'cancel';

/** Flushes a batch of events to the pool (in order). */
export type EventFlush = (events: RunEvent[]) => void;

const FLUSH_AT = 200;

export class RunContext {
  readonly summary: RunSummary = {
    stepsPassed: 0,
    stepsFailed: 0,
    stepsSkipped: 0,
    assertionsPassed: 0,
    assertionsFailed: 0,
  };
  /** Aborted when the run is stopped; cancels sleeps and fetches. */
  readonly abort = new AbortController();
  readonly deadline: number;
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

  constructor(
    readonly job: ScriptJob,
    private readonly flush: EventFlush,
  ) {
    this.deadline = Date.now() + job.timeoutMs;
    this.timer = setTimeout(() => this.stop('timeout'), job.timeoutMs);
  }

  /** Stops the run: the script errors at its next instruction, sleeps and fetches end. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abort.abort();
  }

  /** True once the deadline passed (checked by the instruction hook without timers). */
  checkDeadline(): boolean {
    if (!this.stopReason && Date.now() > this.deadline) this.stop('timeout');
    return this.stopReason !== null;
  }

  get currentStep(): number | null {
    return this.stepStack.length ? this.stepStack[this.stepStack.length - 1] : null;
  }

  log(level: LogLevel, message: string): void {
    if (message.length > MAX_LOG_MESSAGE_CHARS) {
      message = `${message.slice(0, MAX_LOG_MESSAGE_CHARS)}… (truncated, ${message.length} characters)`;
    }
    this.emit({ type: 'log', ts: Date.now(), level, message, stepSeq: this.currentStep });
  }

  stepStart(kind: StepKind, name: string, line: number | null): number {
    const seq = this.nextSeq++;
    this.emit({
      type: 'step.start',
      ts: Date.now(),
      seq,
      parentSeq: this.currentStep,
      kind,
      name,
      location: this.location(line),
    });
    this.stepStack.push(seq);
    return seq;
  }

  stepEnd(seq: number, status: 'passed' | 'failed' | 'skipped', message: string | null, line: number | null): void {
    const at = this.stepStack.lastIndexOf(seq);
    if (at >= 0) this.stepStack.length = at;
    if (status === 'passed') this.summary.stepsPassed++;
    else if (status === 'failed') {
      this.summary.stepsFailed++;
      if (message) this.recordFailure(message);
    } else this.summary.stepsSkipped++;
    this.emit({ type: 'step.end', ts: Date.now(), seq, status, message, location: this.location(line) });
  }

  /**
   * A failed assertion, or a passed one while under the recording cap. `failure` is
   * the raised error text (`hello.lua:7: assertion failed: ...`).
   */
  assertion(passed: boolean, message: string, line: number | null, failure: string | null): void {
    if (passed) {
      this.summary.assertionsPassed++;
      if (this.recordedPassed >= RECORDED_PASSED_ASSERTIONS_CAP) return;
      this.recordedPassed++;
    } else {
      this.summary.assertionsFailed++;
      this.recordFailure(failure ?? message);
    }
    this.emit({ type: 'assertion', ts: Date.now(), stepSeq: this.currentStep, passed, message, location: this.location(line) });
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

  /** The script does not compile. */
  scriptInvalid(message: string): void {
    this.invalid = message;
    this.log('error', message);
  }

  recordFailure(message: string): void {
    if (isMemoryError(message)) this.memoryExceeded = true;
    else this.firstFailure ??= message;
  }

  /** Ends the run: flushes events and says how it ended. */
  complete(): RunCompletion {
    clearTimeout(this.timer);
    this.abort.abort(); // ends anything the script left running
    this.flushNow();
    const summary = { ...this.summary };
    const end = (phase: RunCompletion['phase'], reason: RunReason | null, message: string | null): RunCompletion => ({
      phase,
      reason,
      message,
      summary,
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
    return end('Passed', null, null);
  }

  /** How the run was stopped, frozen when the script finished (before `complete` aborts leftovers). */
  private finalStop: StopReason | null = null;
  /** Called once the script returned, before `complete`. */
  freezeStop(): void {
    this.checkDeadline();
    this.finalStop = this.stopReason;
  }

  emit(event: RunEvent): void {
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

  private location(line: number | null): { file: string; line: number } | null {
    return line && line > 0 ? { file: this.job.fileName, line } : null;
  }
}

/** Lua's message when an allocation is refused (here: the per-run memory cap). */
export function isMemoryError(message: string): boolean {
  return message === 'not enough memory' || message.endsWith(': not enough memory');
}
