/**
 * A streaming reader of JUnit XML: the dialects in the wild, one testcase at a time,
 * in bounded memory (no DOM; element texts are capped, see `BoundedText`).
 *
 * Accepted: a `<testsuites>` root (Ant, Surefire aggregated, jest-junit, gotestsum,
 * pytest xunit2 ≥ 5.1) or a bare `<testsuite>` root (Surefire per class, Gradle, pytest
 * before 5.1), suites nested in suites, testcases directly under `<testsuites>`.
 * A testcase holds at most one of `failure` (→ failed), `error` (→ error), `skipped`;
 * Surefire's `rerunFailure`/`rerunError` (failed on every rerun) keep it failed, its
 * `flakyFailure`/`flakyError` without a `failure` mean it passed on a rerun (flaky).
 * `system-out`/`system-err` belong to the testcase or suite they are in. Unknown
 * elements (properties, pytest's `<properties>` in a testcase) are skipped.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import {
  BoundedText,
  ReportFormatError,
  parseSeconds,
  parseTimestamp,
  type ImportedCase,
  type ImportedOutcome,
  type ReportReader,
  type ReportSink,
} from './imported-case.js';

interface OpenSuite {
  name: string;
  durationMs: number | null;
  startMs: number | null;
  out: BoundedText;
  err: BoundedText;
}

interface OpenCase {
  attrs: Record<string, string>;
  outcome: ImportedOutcome;
  message: string | null;
  type: string | null;
  body: BoundedText | null;
  flakyMessage: string | null;
  flakyBody: BoundedText | null;
  out: BoundedText;
  err: BoundedText;
}

const FAILURES = new Set(['failure', 'error', 'rerunFailure', 'rerunError']);
const FLAKY = new Set(['flakyFailure', 'flakyError']);

function firstLine(text: string | null): string | null {
  if (text === null) return null;
  const line = text.trim().split('\n', 1)[0]!.trim();
  return line === '' ? null : line;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value;
}

/** Reads one JUnit XML file; `fileName` names it in errors and is the classname of last resort. */
export class JUnitReader implements ReportReader {
  private readonly parser: SaxesParser;
  private readonly suites: OpenSuite[] = [];
  private current: OpenCase | null = null;
  /** Where text goes, per open element (null: nowhere). */
  private readonly capture: (BoundedText | null)[] = [];
  private sawRoot = false;

  constructor(
    private readonly fileName: string,
    private readonly sink: ReportSink,
  ) {
    this.parser = new SaxesParser({ fileName, position: true });
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('closetag', (tag) => this.closeTag(tag));
    this.parser.on('text', (text) => this.text(text));
    this.parser.on('cdata', (text) => this.text(text));
  }

  write(chunk: string): void {
    this.guard(() => this.parser.write(chunk));
  }

  close(): void {
    this.guard(() => this.parser.close());
    if (!this.sawRoot) throw new ReportFormatError(this.fileName, 'is empty: expected a JUnit XML report (<testsuites> or <testsuite>)');
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (error instanceof ReportFormatError) throw error;
      throw new ReportFormatError(this.fileName, `${(error as Error).message} (not well-formed XML, so not a JUnit report)`);
    }
  }

  private fail(problem: string): never {
    const { line, column } = this.parser;
    throw new ReportFormatError(this.fileName, `${this.fileName}:${line}:${column}: ${problem}`);
  }

  private text(text: string): void {
    this.capture[this.capture.length - 1]?.add(text);
  }

  private open(tag: SaxesTagPlain): void {
    const name = tag.name;
    const attrs = tag.attributes as Record<string, string>;
    if (!this.sawRoot) {
      this.sawRoot = true;
      if (name !== 'testsuites' && name !== 'testsuite')
        this.fail(`the root element is <${name}>, not <testsuites> or <testsuite>: this is not a JUnit XML report`);
      const rootName = nonEmpty(attrs.name);
      if (rootName) this.sink.reportName?.(rootName);
      if (name === 'testsuites') {
        const total = parseSeconds(attrs.time);
        if (total !== null) this.sink.declaredTotal?.(total);
        this.capture.push(null);
        return;
      }
    }
    const c = this.current;
    let target: BoundedText | null = null;
    if (name === 'testsuite' && !c) {
      const parent = this.suites[this.suites.length - 1];
      const startMs = parseTimestamp(attrs.timestamp) ?? parent?.startMs ?? null;
      this.suites.push({ name: nonEmpty(attrs.name) ?? parent?.name ?? this.fileName, durationMs: parseSeconds(attrs.time), startMs, out: new BoundedText(), err: new BoundedText() });
    } else if (name === 'testcase' && !c) {
      this.current = { attrs, outcome: 'passed', message: null, type: null, body: null, flakyMessage: null, flakyBody: null, out: new BoundedText(), err: new BoundedText() };
    } else if (c && FAILURES.has(name)) {
      const outcome: ImportedOutcome = name === 'error' || name === 'rerunError' ? 'error' : 'failed';
      // the first failure/error of a testcase is its own; reruns add to its body
      if (c.outcome === 'passed' || c.outcome === 'skipped') {
        c.outcome = outcome;
        c.message = nonEmpty(attrs.message);
        c.type = nonEmpty(attrs.type);
        c.body = new BoundedText();
        target = c.body;
      } else if (c.body) {
        c.body.add(`\n--- ${name}${attrs.message ? `: ${attrs.message}` : ''}\n`);
        target = c.body;
      }
    } else if (c && name === 'skipped') {
      if (c.outcome === 'passed') {
        c.outcome = 'skipped';
        c.message = nonEmpty(attrs.message);
        c.body = new BoundedText();
        target = c.body;
      }
    } else if (c && FLAKY.has(name)) {
      if (!c.flakyBody) {
        c.flakyMessage = nonEmpty(attrs.message) ?? nonEmpty(attrs.type);
        c.flakyBody = new BoundedText();
      }
      target = c.flakyBody;
    } else if (name === 'system-out' || name === 'system-err') {
      const inFlaky = c !== null && this.capture[this.capture.length - 1] === c.flakyBody && c.flakyBody !== null;
      const owner = c ?? this.suites[this.suites.length - 1];
      target = inFlaky ? c!.flakyBody : owner ? (name === 'system-out' ? owner.out : owner.err) : null;
    } else {
      // nested inside a captured element (Surefire's <stackTrace> in a flakyFailure): keep capturing
      const parentTarget = this.capture[this.capture.length - 1] ?? null;
      target = parentTarget && c ? parentTarget : null;
    }
    this.capture.push(target);
  }

  private closeTag(tag: SaxesTagPlain): void {
    this.capture.pop();
    const name = tag.name;
    if (name === 'testcase' && this.current) {
      this.emitCase(this.current);
      this.current = null;
    } else if (name === 'testsuite' && !this.current) {
      const suite = this.suites.pop();
      if (suite)
        this.sink.suiteEnd({
          name: suite.name,
          durationMs: suite.durationMs,
          nested: this.suites.length > 0,
          startMs: suite.startMs,
          systemOut: suite.out.value(),
          systemErr: suite.err.value(),
        });
    }
  }

  private emitCase(c: OpenCase): void {
    const suite = this.suites[this.suites.length - 1];
    const body = c.body?.value() ?? null;
    const line = c.attrs.line !== undefined && /^\d+$/.test(c.attrs.line.trim()) ? Number(c.attrs.line.trim()) : null;
    const flaky = c.outcome === 'passed' && c.flakyBody ? { message: c.flakyMessage, body: c.flakyBody.value() } : null;
    this.sink.testCase({
      classname: nonEmpty(c.attrs.classname) ?? suite?.name ?? this.fileName,
      name: nonEmpty(c.attrs.name) ?? '(unnamed)',
      outcome: c.outcome,
      durationMs: parseSeconds(c.attrs.time),
      message: c.message ?? (c.outcome === 'passed' ? null : firstLine(body) ?? (c.outcome === 'skipped' ? null : c.type)),
      type: c.type,
      body,
      flaky,
      file: nonEmpty(c.attrs.file),
      line,
      systemOut: c.out.value(),
      systemErr: c.err.value(),
      suiteStartMs: suite?.startMs ?? null,
    });
  }
}
