/**
 * A reader of Gauge's console report (`gauge run specs`, the default and the
 * `--simple-console` reporters, with or without `--verbose`), the fallback when a
 * team has no JUnit XML. Each scenario (`  ## Heading`) becomes a testcase whose
 * classname is its specification (`# Heading`). A scenario failed when its line
 * carries ✘ or `[FAIL]`, or a failed step (`Failed Step:`, `Error Message:`) follows
 * it; `[SKIP]` marks it skipped; else it passed. The failure's lines (`Failed Step`,
 * `Specification: file:line`, `Error Message`, `Stacktrace`) are its body; other
 * lines printed inside a scenario are its output. The summary (`Specifications:`,
 * `Scenarios:`, `Total time taken:`) gives the run's time. Gauge prints no time per
 * scenario, nor the scenarios it skipped without running.
 */
import { BoundedText, ReportFormatError, type ImportedCase, type ImportedOutcome, type ReportReader, type ReportSink } from './imported-case.js';

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const SPEC = /^#\s+(.+?)\s*$/;
const SCENARIO = /^\s*##\s+(.+?)\s*$/;
const MARKS = /(\s*(✔|✘|\[PASS\]|\[FAIL\]|\[SKIP\]|\[SKIPPED\]))+\s*$/;
const SUMMARY = /^\s*(Specifications|Scenarios):\s+\d+\s+executed/;
const TOTAL_TIME = /^\s*Total time taken:\s*(.+?)\s*$/;
const FAILURE_START = /^\s*(Failed Step:|Error Message:)/;
const LOCATION = /^\s*Specification:\s*(.+?):(\d+)\s*$/;

/** `1m2.5s`, `220ms`, `1.234s`, `2h` → ms, or null. */
export function parseGaugeDuration(text: string): number | null {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|h|m|s)/g)];
  if (parts.length === 0) return null;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  return Math.round(parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u!]!, 0));
}

interface OpenScenario {
  spec: string;
  name: string;
  outcome: ImportedOutcome;
  body: BoundedText;
  inFailure: boolean;
  message: string | null;
  file: string | null;
  line: number | null;
  out: BoundedText;
}

export class GaugeConsoleReader implements ReportReader {
  private rest = '';
  private spec: string | null = null;
  private scenario: OpenScenario | null = null;
  private sawSpec = false;
  private sawSummary = false;
  private lineNo = 0;

  constructor(
    private readonly fileName: string,
    private readonly sink: ReportSink,
  ) {}

  write(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      this.line(text.slice(start, end));
      start = end + 1;
    }
    this.rest = text.slice(start);
    if (this.rest.length > 1_000_000) {
      this.line(this.rest);
      this.rest = '';
    }
  }

  close(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
    this.endScenario();
    if (!this.sawSpec && !this.sawSummary)
      throw new ReportFormatError(this.fileName, `${this.fileName}:1:1: no Gauge specification ("# Heading") or summary ("Specifications: … executed") found: this is not Gauge console output`);
  }

  private line(raw: string): void {
    this.lineNo++;
    const line = raw.replace(ANSI, '').replace(/\r$/, '');
    const total = TOTAL_TIME.exec(line);
    if (total) {
      this.endScenario();
      const ms = parseGaugeDuration(total[1]!);
      if (ms !== null) this.sink.declaredTotal?.(ms);
      return;
    }
    if (SUMMARY.test(line)) {
      this.endScenario();
      this.sawSummary = true;
      return;
    }
    const spec = SPEC.exec(line);
    if (spec) {
      this.endScenario();
      this.sawSpec = true;
      this.spec = spec[1]!.replace(MARKS, '').trim();
      return;
    }
    const scenario = SCENARIO.exec(line);
    if (scenario) {
      this.endScenario();
      const heading = scenario[1]!;
      const marks = MARKS.exec(heading)?.[0] ?? '';
      const outcome: ImportedOutcome = /✘|\[FAIL\]/.test(marks) ? 'failed' : /\[SKIP/.test(marks) ? 'skipped' : 'passed';
      this.scenario = {
        spec: this.spec ?? this.fileName,
        name: heading.replace(MARKS, '').trim(),
        outcome,
        body: new BoundedText(),
        inFailure: false,
        message: null,
        file: null,
        line: null,
        out: new BoundedText(),
      };
      return;
    }
    const s = this.scenario;
    if (!s) return;
    if (FAILURE_START.test(line)) {
      s.outcome = 'failed';
      s.inFailure = true;
    } else if (/✘|\[FAIL\]\s*$/.test(line) && !s.inFailure) {
      s.outcome = 'failed'; // a failing step in verbose output
    }
    if (s.inFailure) {
      const trimmed = line.trim();
      const location = LOCATION.exec(line);
      if (location) {
        s.file = location[1]!;
        s.line = Number(location[2]);
      }
      const message = /^Error Message:\s*(.*)$/.exec(trimmed);
      if (message && s.message === null && message[1]) s.message = message[1];
      s.body.add(`${trimmed}\n`);
    } else if (line.trim() !== '' && !/(✔|\[PASS\])\s*$/.test(line)) {
      s.out.add(`${line.trim()}\n`);
    }
  }

  private endScenario(): void {
    const s = this.scenario;
    if (!s) return;
    this.scenario = null;
    const body = s.body.value();
    const c: ImportedCase = {
      classname: s.spec,
      name: s.name,
      outcome: s.outcome,
      durationMs: null,
      message: s.outcome === 'failed' ? s.message ?? (body ? body.trim().split('\n', 1)[0]! : 'scenario failed') : null,
      type: null,
      body,
      flaky: null,
      file: s.file,
      line: s.line,
      systemOut: s.out.value(),
      systemErr: null,
      suiteStartMs: null,
    };
    this.sink.testCase(c);
  }
}
