import { describe, expect, it } from 'vitest';
import type { LogLine, StepKind, StepRecord } from '../core/run-events.js';
import { createStyle, formatStepTree } from './format.js';
import { LiveRunPrinter } from './live-run-printer.js';

const plain = createStyle({ isTTY: false }, {});
const TS = '2025-01-31T00:00:00.000Z';
/** The time of the i-th happening: one millisecond apart. */
const at = (i: number) => new Date(Date.parse(TS) + i).toISOString();
/** A printed line without its time and duration. */
const bare = (line: string) => line.replace(/^\d\d:\d\d:\d\d\.\d{3} /, '').replace(/ \(\d+ ms\)$/, '');

/** What happened in a run with hooks and nested steps, in time order (as the runner reports it). */
type Happening = { log: string; stepSeq: number | null } | { start: number; parentSeq: number | null; name: string; kind?: StepKind } | { end: number };
const timeline: Happening[] = [
  { log: 'top-level', stepSeq: null },
  { start: 1, parentSeq: null, name: 'before_all', kind: 'hook' },
  { log: 'in before_all', stepSeq: 1 },
  { end: 1 },
  { start: 2, parentSeq: null, name: 'outer', kind: 'test' },
  { log: 'in outer', stepSeq: 2 },
  { start: 3, parentSeq: 2, name: 'inner one' },
  { log: 'in inner one', stepSeq: 3 },
  { start: 4, parentSeq: 3, name: 'deepest' },
  { end: 4 },
  { end: 3 },
  { start: 5, parentSeq: 2, name: 'inner two' },
  { end: 5 },
  { end: 2 },
  { log: 'between the tests', stepSeq: null },
  { start: 6, parentSeq: null, name: 'second', kind: 'test' },
  { log: 'in second', stepSeq: 6 },
  { end: 6 },
  { start: 7, parentSeq: null, name: 'after_all', kind: 'hook' },
  { log: 'in after_all', stepSeq: 7 },
  { end: 7 },
];

const expected = [
  '▶ running on local',
  'top-level',
  'in before_all',
  '✓ before_all',
  'in outer',
  'in inner one',
  '✓ outer',
  '  ✓ inner one',
  '    ✓ deepest',
  '  ✓ inner two',
  'between the tests',
  'in second',
  '✓ second',
  'in after_all',
  '✓ after_all',
];

/**
 * Replays the timeline as the server streams it: in "looks" (cut where `cuts` says),
 * each sending the look's new log lines, then the steps that changed in it (latest
 * state, by seq), then `sync`, then the run's phase when it changed — the run is
 * Queued in a first, empty look. Returns what the printer printed and the final steps.
 */
function replay(cuts: Set<number>): { lines: string[]; steps: StepRecord[] } {
  const lines: string[] = [];
  const printer = new LiveRunPrinter({ style: plain, out: (l) => lines.push(l), steps: true });
  const run = { phase: 'Queued' as const, startedAt: null, executor: null };
  printer.phase(run);
  const steps = new Map<number, StepRecord>();
  let logSeq = 0;
  let logs: LogLine[] = [];
  let changed = new Set<number>();
  let phaseSent = false;
  const flush = () => {
    for (const line of logs) printer.log(line);
    for (const seq of [...changed].sort((a, b) => a - b)) printer.step({ ...steps.get(seq)! });
    printer.sync();
    if (!phaseSent) printer.phase({ phase: 'Running', startedAt: TS, executor: 'local' });
    phaseSent = true;
    logs = [];
    changed = new Set();
  };
  timeline.forEach((h, i) => {
    if ('log' in h) logs.push({ runId: 'r', seq: ++logSeq, ts: at(i), level: 'info', message: h.log, stepSeq: h.stepSeq });
    else if ('start' in h) {
      steps.set(h.start, { runId: 'r', seq: h.start, parentSeq: h.parentSeq, kind: h.kind ?? 'step', name: h.name, status: 'running', startedAt: at(i), finishedAt: null, durationMs: null, message: null, file: null, line: null });
      changed.add(h.start);
    } else {
      const step = steps.get(h.end)!;
      steps.set(h.end, { ...step, status: 'passed', finishedAt: at(i), durationMs: Date.parse(at(i)) - Date.parse(step.startedAt) });
      changed.add(h.end);
    }
    if (cuts.has(i)) flush();
  });
  flush();
  printer.phase({ phase: 'Passed', startedAt: TS, executor: 'local' });
  printer.end();
  return { lines, steps: [...steps.values()] };
}

/** A small deterministic generator, so a failing split can be replayed. */
function* randomCuts(count: number, seed = 42): Generator<Set<number>> {
  let x = seed;
  const next = () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < count; n++) yield new Set(timeline.map((_, i) => i).filter(() => next() < 0.3));
}

describe('the live view of a run', () => {
  it('prints the step tree in start order with hooks, parents before children, whatever the batching', () => {
    const splits = [new Set<number>(), new Set(timeline.map((_, i) => i)), ...timeline.map((_, i) => new Set([i])), ...randomCuts(300)];
    for (const cuts of splits) expect(replay(cuts).lines.map(bare), `looks cut after events ${[...cuts].join(',')}`).toEqual(expected);
  });

  it('prints the same tree lines as test status', () => {
    const { lines, steps } = replay(new Set([3, 9, 15]));
    expect(lines.filter((l) => /^\s*✓/.test(l))).toEqual(formatStepTree(plain, steps));
  });

  it('with steps off prints log lines only, after the running line', () => {
    const lines: string[] = [];
    const printer = new LiveRunPrinter({ style: plain, out: (l) => lines.push(l), steps: false });
    printer.log({ runId: 'r', seq: 1, ts: TS, level: 'warn', message: 'early', stepSeq: 1 });
    printer.step({ runId: 'r', seq: 1, parentSeq: null, kind: 'test', name: 't', status: 'passed', startedAt: TS, finishedAt: TS, durationMs: 1, message: null, file: null, line: null });
    printer.sync();
    printer.phase({ phase: 'Failed', startedAt: TS, executor: 'local' });
    printer.end();
    expect(lines).toEqual(['▶ running on local', '00:00:00.000 WARN  early']);
  });

  it('says nothing about running for a run cancelled while queued', () => {
    const lines: string[] = [];
    const printer = new LiveRunPrinter({ style: plain, out: (l) => lines.push(l), steps: true });
    printer.phase({ phase: 'Queued', startedAt: null, executor: null });
    printer.phase({ phase: 'Cancelled', startedAt: null, executor: null });
    printer.end();
    expect(lines).toEqual([]);
  });
});
