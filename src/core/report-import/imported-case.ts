/**
 * What a test report (JUnit XML, Gauge's console output) says about its tests, in
 * the few words topas needs to make a run of it: one `ImportedCase` per testcase,
 * handed to a sink as the report is read (never the whole report at once), plus the
 * output and timing of the suites around them.
 */
import { TopasError } from '../errors.js';

/** The report formats topas imports. */
export const REPORT_FORMATS = ['junit', 'gauge-stdout'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** How one imported testcase ended. */
export type ImportedOutcome = 'passed' | 'failed' | 'error' | 'skipped';

/** One `<testcase>` (or Gauge scenario). */
export interface ImportedCase {
  /** The testcase's `classname`, else its innermost suite's name, else the report's file name. */
  classname: string;
  name: string;
  outcome: ImportedOutcome;
  /** Null when the report gives no usable time. */
  durationMs: number | null;
  /** Failure/error/skip: its `message` attribute (else the body's first line). */
  message: string | null;
  /** Failure/error: its `type` attribute (`java.lang.AssertionError`). */
  type: string | null;
  /** Failure/error/skip: the element's text (a stack trace). */
  body: string | null;
  /** Failed at first, passed on a rerun (Surefire `flakyFailure`/`flakyError`); what the first failure said. */
  flaky: { message: string | null; body: string | null } | null;
  file: string | null;
  line: number | null;
  systemOut: string | null;
  systemErr: string | null;
  /** The suite's `timestamp` (epoch ms), when it has one. */
  suiteStartMs: number | null;
}

/** Output and timing of a suite, once it closed. */
export interface ImportedSuiteEnd {
  name: string;
  /** Its declared `time`, when usable; `nested`: inside another suite (its time is part of that one's). */
  durationMs: number | null;
  nested: boolean;
  startMs: number | null;
  systemOut: string | null;
  systemErr: string | null;
}

/** Receives what a reader found, in report order. */
export interface ReportSink {
  testCase(c: ImportedCase): void;
  suiteEnd(s: ImportedSuiteEnd): void;
  /** The root `<testsuites>` (or the Gauge summary) declared a total time. */
  declaredTotal?(durationMs: number): void;
  /** The report's own name: its root element's `name`. */
  reportName?(name: string): void;
}

/** A streaming reader of one report: fed text in chunks, then closed. */
export interface ReportReader {
  write(chunk: string): void;
  close(): void;
}

/** A file that is not a report of the format it was given as: names the file and the first problem (`file:line:column: …`). */
export class ReportFormatError extends TopasError {
  constructor(readonly fileName: string, problem: string) {
    super('InvalidReport', `${problem.startsWith(fileName) ? problem : `${fileName}: ${problem}`}`, { file: fileName });
  }
}

/** The most characters kept of one element's text (a failure body, a system-out); the rest is counted, not kept. */
export const MAX_TEXT_CHARS = 1_000_000;

/**
 * Seconds as producers write them → milliseconds, or null when unusable: `1.5`,
 * `1,234.5` (thousands separators), `0,25` (a decimal comma), `2s`; empty,
 * negative, NaN and infinite values give null.
 */
export function parseSeconds(raw: string | undefined | null): number | null {
  if (raw === undefined || raw === null) return null;
  let text = raw.trim().replace(/\s+/g, '').replace(/s$/i, '');
  if (text === '') return null;
  if (text.includes('.')) text = text.replaceAll(',', '');
  else if (/^\d+,\d{1,2}$|^\d+,\d{4,}$/.test(text)) text = text.replace(',', '.');
  else text = text.replaceAll(',', '');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return null;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  return Math.round(seconds * 1000);
}

/** A report's timestamp → epoch ms, or null. A time without a zone (Surefire, Ant) is UTC. */
export function parseTimestamp(raw: string | undefined | null): number | null {
  if (!raw) return null;
  const text = raw.trim();
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : Number.isFinite(Date.parse(text)) ? Date.parse(text) : null;
}

/** Collects an element's text up to MAX_TEXT_CHARS, saying how much more there was. */
export class BoundedText {
  private parts: string[] = [];
  private kept = 0;
  private dropped = 0;

  add(text: string): void {
    const room = MAX_TEXT_CHARS - this.kept;
    if (room <= 0) {
      this.dropped += text.length;
      return;
    }
    const part = text.length > room ? text.slice(0, room) : text;
    this.parts.push(part);
    this.kept += part.length;
    this.dropped += text.length - part.length;
  }

  /** The text (null when there was none but white space). */
  value(): string | null {
    const text = this.parts.join('');
    if (text.trim() === '') return null;
    return this.dropped ? `${text}\n… (${this.dropped} more characters not imported)` : text;
  }
}
