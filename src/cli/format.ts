/**
 * How the CLI shows runs: colours (only on a terminal, never with NO_COLOR),
 * tables, durations and the lines of a run a person triages from.
 */
import { detailLines, detailPlaces, headline } from '../core/failure-text.js';
import type { AssertionRecord, LogLine, StepRecord } from '../core/run-events.js';
import type { RunPhase } from '../core/run-phase.js';
import type { Run } from '../core/run.js';

export { shortIds } from '../core/short-ids.js';

type Paint = (text: string) => string;

export interface Style {
  red: Paint;
  green: Paint;
  yellow: Paint;
  blue: Paint;
  dim: Paint;
  bold: Paint;
}

const sgr = (open: number, close: number): Paint => (text) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain: Paint = (text) => text;

/** Colours when writing to a terminal, unless NO_COLOR is set (FORCE_COLOR forces them). */
export function createStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  const on = env.FORCE_COLOR ? env.FORCE_COLOR !== '0' : Boolean(stream.isTTY) && !('NO_COLOR' in env) && env.TERM !== 'dumb';
  if (!on) return { red: plain, green: plain, yellow: plain, blue: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), blue: sgr(34, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** `12 ms`, `1.4 s`, `2m 05s`, `1h 02m`; `-` when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `5s ago`, `3m ago`, `2h ago`, then the date. */
export function formatAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return iso.slice(0, 16).replace('T', ' ');
}

export function paintPhase(style: Style, phase: RunPhase): string {
  switch (phase) {
    case 'Passed':
      return style.green(phase);
    case 'Failed':
    case 'Error':
    case 'TimedOut':
      return style.red(phase);
    case 'Running':
      return style.blue(phase);
    default:
      return style.yellow(phase);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const width = (text: string) => [...text.replace(ANSI, '')].length;

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][], style: Style): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(header)), ...rows.map(line)].join('\n');
}

export function where(file: string | null, line: number | null): string {
  return file ? `${file}${line ? `:${line}` : ''}` : line ? `line ${line}` : '';
}

/** `HH:MM:SS.mmm level message`; warnings and errors coloured. */
export function formatLogLine(style: Style, line: LogLine): string {
  const time = style.dim(line.ts.slice(11, 23));
  const level = line.level === 'error' ? style.red('ERROR ') : line.level === 'warn' ? style.yellow('WARN  ') : line.level === 'debug' ? style.dim('DEBUG ') : '';
  return `${time} ${level}${line.message}`;
}

/**
 * `✓ name (12 ms)` / `✗ name — message (file:line)` / `- name (skipped)`. A failure's
 * first line only, unless `details`: then the lines after it follow, one per line.
 */
export function formatStep(style: Style, step: StepRecord, indent = 0, details = false): string {
  const pad = '  '.repeat(indent);
  const at = where(step.file, step.line);
  switch (step.status) {
    case 'passed':
      return `${pad}${style.green('✓')} ${step.name} ${style.dim(`(${formatDuration(step.durationMs)})`)}`;
    case 'failed': {
      const message = step.message && at && step.message.startsWith(`${at}: `) ? step.message.slice(at.length + 2) : step.message;
      const line = `${pad}${style.red('✗')} ${style.bold(step.name)}${message ? ` — ${headline(message)}` : ''}${at ? ` ${style.dim(`(${at})`)}` : ''}`;
      return details && message ? [line, ...detailLines(message).map((d) => `${pad}    ${d}`)].join('\n') : line;
    }
    case 'skipped':
      return `${pad}${style.yellow('-')} ${step.name} ${style.dim(`(skipped${step.message ? `: ${headline(step.message)}` : ''})`)}`;
    default:
      return `${pad}${style.blue('…')} ${step.name} ${style.dim('(running)')}`;
  }
}

/** Steps as an indented tree, in start order; the steps in `details` show their failure's details. */
export function formatStepTree(style: Style, steps: StepRecord[], details: ReadonlySet<number> = new Set()): string[] {
  const depth = new Map<number, number>();
  return steps.map((step) => {
    const d = step.parentSeq === null ? 0 : (depth.get(step.parentSeq) ?? 0) + 1;
    depth.set(step.seq, d);
    return formatStep(style, step, d, details.has(step.seq));
  });
}

/**
 * A failed assertion with where it is, its details (an `expect` diff: one difference per
 * line) and, when known, expected vs actual.
 */
export function formatFailedAssertion(style: Style, a: AssertionRecord): string[] {
  const at = where(a.file, a.line);
  const lines = [`  ${style.red('✗')} ${headline(a.message)}${at ? ` ${style.dim(`(${at})`)}` : ''}`];
  for (const detail of detailLines(a.message)) lines.push(`      ${detail}`);
  if (a.expected !== null) lines.push(`      expected: ${a.expected}`);
  if (a.actual !== null) lines.push(`      actual:   ${a.actual}`);
  return lines;
}

/** `Failed in 1.20 s — 2 steps passed, 1 failed; 3 assertions passed, 1 failed — AssertionFailed: ...` */
export function formatSummary(style: Style, run: Run): string {
  const s = run.summary;
  const counts = [
    `${s.stepsPassed} step${s.stepsPassed === 1 ? '' : 's'} passed, ${s.stepsFailed} failed${s.stepsSkipped ? `, ${s.stepsSkipped} skipped` : ''}`,
    `${s.assertionsPassed} assertion${s.assertionsPassed === 1 ? '' : 's'} passed, ${s.assertionsFailed} failed`,
  ].join('; ');
  const why = run.reason || run.message ? ` — ${[run.reason, run.message && headline(run.message)].filter(Boolean).join(': ')}` : '';
  return `${style.bold(paintPhase(style, run.phase))} in ${formatDuration(run.durationMs)} — ${counts}${why}`;
}

/**
 * What `test status <id>` shows: the run, its step tree and its failed assertions. A
 * failure's details (an `expect` diff) are printed once: with its assertion, else with
 * the innermost step it failed, else under the message.
 */
export function formatRunDetail(style: Style, run: Run & { steps: StepRecord[]; assertions: AssertionRecord[] }): string {
  const labels = Object.entries(run.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  const places = detailPlaces(run);
  const out = [
    `${style.bold('Run')}       ${run.id}`,
    `${style.bold('Name')}      ${run.name}`,
    `${style.bold('Phase')}     ${paintPhase(style, run.phase)}${run.reason ? ` (${run.reason})` : ''}`,
  ];
  if (run.message) {
    out.push(`${style.bold('Message')}   ${headline(run.message)}`);
    if (places.run) out.push(...detailLines(run.message).map((d) => `            ${d}`));
  }
  out.push(
    `${style.bold('Origin')}    ${run.origin}${run.appName ? `   ${style.bold('App')} ${run.appName}` : ''}${labels ? `   ${style.bold('Labels')} ${labels}` : ''}`,
    `${style.bold('Created')}   ${run.createdAt}   ${style.bold('Started')} ${run.startedAt ?? '-'}   ${style.bold('Duration')} ${formatDuration(run.durationMs)}`,
    `${style.bold('Summary')}   ${formatSummary(style, run)}`,
  );
  if (run.source.type === 'git') {
    const { url, path, revision, commit } = run.source;
    out.splice(out.length - 1, 0, `${style.bold('Source')}    ${url} ${path} at ${revision}${commit ? ` (${commit})` : ''}`);
  }
  if (run.steps.length) out.push('', style.bold('Steps'), ...formatStepTree(style, run.steps, places.steps).map((l) => l.replace(/^/gm, '  ')));
  const failed = run.assertions.filter((a) => !a.passed);
  if (failed.length) out.push('', style.bold('Failed assertions'), ...failed.flatMap((a) => formatFailedAssertion(style, a)));
  return out.join('\n');
}
