/**
 * Turns imported testcases into what a topas run stores, one record at a time: each
 * testcase is a top-level step of kind `test` (its `classname` and rerun flag on the
 * step), a `failure` a failed assertion on it, an `error` a failed step without one
 * (so `testCasesOfRun` reads it as Error), a skip a skipped step, and its
 * system-out/err log lines of that step. Suite output is logged outside every test.
 * Keeps only counters, so a report of any size is mapped in constant memory.
 */
import type { RunCompletion, RunSummary } from '../run.js';
import type { AssertionRecord, LogLine, StepRecord } from '../run-events.js';
import type { ImportedCase, ImportedSuiteEnd, ReportSink } from './imported-case.js';

/** Where the records go (a spool file, a store batch). */
export interface RunRecordSink {
  step(step: StepRecord): void;
  assertion(assertion: AssertionRecord): void;
  log(line: LogLine): void;
}

/** How many testcases of each kind an import held. */
export interface ImportCounts {
  tests: number;
  passed: number;
  failures: number;
  errors: number;
  skipped: number;
  flaky: number;
}

/** The run an import makes, once every report was read. */
export interface ImportedRunOutcome {
  completion: RunCompletion & { phase: 'Passed' | 'Failed' };
  counts: ImportCounts;
  /** The earliest suite timestamp, else when the import began. */
  startedAt: string;
  durationMs: number;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end)).trim();
}

function lines(text: string | null): string[] {
  if (text === null) return [];
  const all = text.replace(/\r\n?/g, '\n').split('\n');
  while (all.length && all[all.length - 1]!.trim() === '') all.pop();
  while (all.length && all[0]!.trim() === '') all.shift();
  return all;
}

/** A failure's whole text: its message, its type when the body does not say it, and its body. */
function failureText(c: ImportedCase): string {
  const message = c.message ?? c.type ?? (c.outcome === 'error' ? 'error' : 'failed');
  const parts = [message];
  const body = c.body?.trim() ?? '';
  if (c.type && c.type !== message && !body.includes(c.type) && !message.includes(c.type)) parts.push(`type: ${c.type}`);
  if (body && body !== message.trim()) parts.push(body.startsWith(message) ? body.slice(message.length).replace(/^\n/, '') : body);
  return parts.filter((p) => p !== '').join('\n');
}

/** Builds one imported run's records; feed it every report's cases, then `finish`. */
export class ImportedRunBuilder implements ReportSink {
  readonly counts: ImportCounts = { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0, flaky: 0 };
  private seq = 0;
  private logSeq = 0;
  private assertionSeq = 0;
  /** The time the next case without a suite timestamp starts at (ms). */
  private clock: number;
  private readonly suiteClock = new Map<number, number>();
  private earliest: number | null = null;
  /** The run's time so far (files read), and the current file's: its root's declared time, else its top suites', else its cases'. */
  private totalMs = 0;
  private casesMs = 0;
  private suitesMs = 0;
  private suitesDeclared = true;
  private declared: number | null = null;
  private firstFailure: string | null = null;

  constructor(
    private readonly runId: string,
    private readonly sink: RunRecordSink,
    private readonly nowMs: number = Date.now(),
  ) {
    this.clock = nowMs;
  }

  declaredTotal(durationMs: number): void {
    this.declared = durationMs;
  }

  /** Ends one report file: its time adds to the run's. */
  endFile(): void {
    this.totalMs += this.declared ?? (this.suitesDeclared && this.suitesMs > 0 ? this.suitesMs : this.casesMs);
    this.declared = null;
    this.suitesMs = 0;
    this.casesMs = 0;
    this.suitesDeclared = true;
  }

  suiteEnd(s: ImportedSuiteEnd): void {
    if (s.startMs !== null && (this.earliest === null || s.startMs < this.earliest)) this.earliest = s.startMs;
    if (!s.nested) {
      if (s.durationMs !== null) this.suitesMs += s.durationMs;
      else this.suitesDeclared = false;
    }
    const ts = new Date(s.startMs ?? this.nowMs).toISOString();
    for (const message of lines(s.systemOut)) this.log(ts, 'info', message, null);
    for (const message of lines(s.systemErr)) this.log(ts, 'error', message, null);
  }

  testCase(c: ImportedCase): void {
    const seq = ++this.seq;
    const duration = c.durationMs ?? 0;
    let start: number;
    if (c.suiteStartMs !== null) {
      start = this.suiteClock.get(c.suiteStartMs) ?? c.suiteStartMs;
      this.suiteClock.set(c.suiteStartMs, start + duration);
      if (this.earliest === null || c.suiteStartMs < this.earliest) this.earliest = c.suiteStartMs;
    } else {
      start = this.clock;
      this.clock += duration;
    }
    this.casesMs += duration;
    this.counts.tests++;
    const startedAt = new Date(start).toISOString();
    const failed = c.outcome === 'failed' || c.outcome === 'error';
    const text = failed ? failureText(c) : null;
    const message = c.outcome === 'skipped' ? c.message : text === null ? null : c.outcome === 'error' ? text : firstLine(text);
    this.sink.step({
      runId: this.runId,
      seq,
      parentSeq: null,
      kind: 'test',
      name: c.name,
      status: c.outcome === 'passed' ? 'passed' : c.outcome === 'skipped' ? 'skipped' : 'failed',
      startedAt,
      finishedAt: new Date(start + duration).toISOString(),
      durationMs: c.durationMs,
      message,
      file: c.file,
      line: c.line,
      classname: c.classname,
      flaky: c.flaky !== null,
    });
    if (c.outcome === 'passed') this.counts.passed++;
    else if (c.outcome === 'skipped') this.counts.skipped++;
    else if (c.outcome === 'failed') this.counts.failures++;
    else this.counts.errors++;
    if (c.flaky) this.counts.flaky++;
    if (c.outcome === 'failed') {
      this.sink.assertion({
        runId: this.runId,
        seq: ++this.assertionSeq,
        stepSeq: seq,
        passed: false,
        message: text!,
        expected: null,
        actual: null,
        file: c.file,
        line: c.line,
        ts: startedAt,
      });
    }
    if (failed && this.firstFailure === null) this.firstFailure = `${c.name}: ${firstLine(text!)}`;
    if (c.flaky) {
      const first = [c.flaky.message, c.flaky.body].filter((t): t is string => t !== null).join('\n');
      this.log(startedAt, 'warn', `failed at first, passed on a rerun${first ? `: ${first}` : ''}`, seq);
    }
    for (const message of lines(c.systemOut)) this.log(startedAt, 'info', message, seq);
    for (const message of lines(c.systemErr)) this.log(startedAt, 'error', message, seq);
  }

  private log(ts: string, level: LogLine['level'], message: string, stepSeq: number | null): void {
    this.sink.log({ runId: this.runId, seq: ++this.logSeq, ts, level, message, stepSeq });
  }

  finish(): ImportedRunOutcome {
    const { counts } = this;
    const failed = counts.failures + counts.errors > 0;
    const summary: RunSummary = {
      stepsPassed: counts.passed,
      stepsFailed: counts.failures + counts.errors,
      stepsSkipped: counts.skipped,
      assertionsPassed: 0,
      assertionsFailed: counts.failures,
    };
    if (this.declared !== null || this.casesMs > 0 || this.suitesMs > 0) this.endFile();
    const durationMs = this.totalMs;
    return {
      completion: {
        phase: failed ? 'Failed' : 'Passed',
        reason: !failed ? null : counts.failures > 0 ? 'AssertionFailed' : 'ScriptError',
        message: failed ? this.firstFailure : null,
        summary,
      },
      counts,
      startedAt: new Date(this.earliest ?? this.nowMs).toISOString(),
      durationMs,
    };
  }
}
