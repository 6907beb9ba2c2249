/**
 * A run's events as the rows `json_to_recordset` reads: the one mapping from
 * `StepRecord`/`AssertionRecord`/`LogLine` to columns, for the live event writer and
 * for imports alike. Text goes through `clean`: PostgreSQL text cannot hold NUL.
 */
import type { AssertionRecord, LogLine, StepRecord } from '../core/run-events.js';

/** The text with NUL (which a script can print, and PostgreSQL text cannot hold) as U+FFFD. */
export function clean(text: string): string;
export function clean(text: string | null): string | null;
export function clean(text: string | null): string | null {
  return text !== null && text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

export function stepRow(s: StepRecord) {
  return {
    run_id: s.runId,
    seq: s.seq,
    parent_seq: s.parentSeq,
    kind: s.kind,
    name: clean(s.name),
    status: s.status,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    duration_ms: s.durationMs,
    message: clean(s.message),
    file: s.file === null ? null : clean(s.file),
    line: s.line,
    classname: s.classname == null ? null : clean(s.classname),
    flaky: s.flaky ?? false,
  };
}

export function assertionRow(a: AssertionRecord) {
  return {
    run_id: a.runId,
    seq: a.seq,
    step_seq: a.stepSeq,
    passed: a.passed,
    message: clean(a.message),
    expected: clean(a.expected),
    actual: clean(a.actual),
    file: a.file === null ? null : clean(a.file),
    line: a.line,
    ts: a.ts,
  };
}

export function logRow(l: LogLine) {
  return { run_id: l.runId, seq: l.seq, ts: l.ts, level: l.level, message: clean(l.message), step_seq: l.stepSeq };
}
