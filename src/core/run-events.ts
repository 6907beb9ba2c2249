/**
 * What a running test reports, in order, while it executes. The runner emits
 * these; the engine persists them as they arrive and fans them out to followers.
 * Times are epoch milliseconds.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StepKind = 'test' | 'step' | 'hook';
export type StepStatus = 'running' | 'passed' | 'failed' | 'skipped';

/** Where in the script something happened. */
export interface SourceLocation {
  file: string;
  line: number;
}

export type RunEvent =
  | {
      type: 'log';
      ts: number;
      level: LogLevel;
      message: string;
      stepSeq: number | null;
      /** The line's number within the run (1-based, gap-free), set by the run's `EventNumberer`. */
      seq?: number;
    }
  | {
      type: 'step.start';
      ts: number;
      /** 1-based, unique within the run, in start order. */
      seq: number;
      parentSeq: number | null;
      kind: StepKind;
      name: string;
      location: SourceLocation | null;
    }
  | {
      type: 'step.end';
      ts: number;
      seq: number;
      status: Exclude<StepStatus, 'running'>;
      /** Why it failed or was skipped. */
      message: string | null;
      location: SourceLocation | null;
    }
  | {
      type: 'assertion';
      ts: number;
      /** The assertion's number within the run (1-based), set by the run's `EventNumberer`. */
      seq?: number;
      stepSeq: number | null;
      passed: boolean;
      message: string;
      /** Rendered values for a readable failure, when the matcher knows them. */
      expected?: string;
      actual?: string;
      location: SourceLocation | null;
    };

/**
 * An event as executors hand it to the engine: log lines and assertions carry their
 * number within the run (steps always do). Numbers are given once, where the script
 * runs (`EventNumberer`), so a replayed event is the same record and is stored once.
 */
export type NumberedRunEvent =
  | (Extract<RunEvent, { type: 'log' }> & { seq: number })
  | (Extract<RunEvent, { type: 'assertion' }> & { seq: number })
  | Extract<RunEvent, { type: 'step.start' | 'step.end' }>;

/** A persisted log line. `seq` is 1-based and gap-free within a run. */
export interface LogLine {
  runId: string;
  seq: number;
  ts: string;
  level: LogLevel;
  message: string;
  stepSeq: number | null;
}

/** A persisted step (a `test`, `step` or hook block of the script). */
export interface StepRecord {
  runId: string;
  seq: number;
  parentSeq: number | null;
  kind: StepKind;
  name: string;
  status: StepStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  message: string | null;
  file: string | null;
  line: number | null;
  /** An imported testcase's `classname` (absent for Lua runs: the script's name is theirs). */
  classname?: string | null;
  /** An imported testcase that failed first and passed on a rerun (Surefire `flakyFailure`). */
  flaky?: boolean;
}

/** A persisted assertion. `seq` is 1-based within a run. */
export interface AssertionRecord {
  runId: string;
  seq: number;
  stepSeq: number | null;
  passed: boolean;
  message: string;
  expected: string | null;
  actual: string | null;
  file: string | null;
  line: number | null;
  ts: string;
}

/** A batch of records written in one transaction. Steps are upserts by (runId, seq). */
export interface EventBatch {
  logs: LogLine[];
  steps: StepRecord[];
  assertions: AssertionRecord[];
}

/** The record of a step that just started (`step.start`), as stored and shown until it ends. */
export function startedStep(runId: string, event: Extract<RunEvent, { type: 'step.start' }>, ts: string): StepRecord {
  return {
    runId,
    seq: event.seq,
    parentSeq: event.parentSeq,
    kind: event.kind,
    name: event.name,
    status: 'running',
    startedAt: ts,
    finishedAt: null,
    durationMs: null,
    message: null,
    file: event.location?.file ?? null,
    line: event.location?.line ?? null,
  };
}

/** The record of a started step once its `step.end` arrived. */
export function endedStep(started: StepRecord, event: Extract<RunEvent, { type: 'step.end' }>, ts: string): StepRecord {
  return {
    ...started,
    status: event.status,
    finishedAt: ts,
    durationMs: Math.max(0, event.ts - Date.parse(started.startedAt)),
    message: event.message,
    file: event.location?.file ?? started.file,
    line: event.location?.line ?? started.line,
  };
}

/** The record of an `assertion` event (numbered by the runner), as stored and shown. */
export function assertionRecord(runId: string, event: Extract<NumberedRunEvent, { type: 'assertion' }>, ts: string): AssertionRecord {
  return {
    runId,
    seq: event.seq,
    stepSeq: event.stepSeq,
    passed: event.passed,
    message: event.message,
    expected: event.expected ?? null,
    actual: event.actual ?? null,
    file: event.location?.file ?? null,
    line: event.location?.line ?? null,
    ts,
  };
}
