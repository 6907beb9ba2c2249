/**
 * What `test schedule --wait` and `test logs -f` print while a run executes: log
 * lines and the step tree exactly as `test status <id>` shows it — in start order,
 * indented under its parent, hooks included — each top-level block's tree once the
 * block has finished, after the block's log lines and before the lines logged after it.
 *
 * The server streams in batches ("looks"): the log lines stored since the last look,
 * then the steps that changed, then `sync`, each look one moment of the run. Every step
 * a look's log line belongs to, and every step that ended before it, is in the same look
 * or an earlier one; every line logged before a step ended is in the step's look or an
 * earlier one. So at `sync` the order of the look's lines is known and does not depend
 * on how the events were batched. One case is guessed: a line logged outside every step (stepSeq null)
 * in the same millisecond in which a block started and ended is taken as logged
 * before the block.
 */
import type { LogLine, StepRecord } from '../core/run-events.js';
import type { Run } from '../core/run.js';
import { formatLogLine, formatStep, type Style } from './format.js';

export interface LiveRunPrinterOptions {
  style: Style;
  out: (line: string) => void;
  /** Print the step tree (false: log lines only). */
  steps: boolean;
}

export class LiveRunPrinter {
  /** Every step seen, by seq, in its latest state. */
  private readonly steps = new Map<number, StepRecord>();
  /** The seq of the next step to print (steps are numbered 1, 2, … in start order). */
  private nextSeq = 1;
  private readonly depth = new Map<number, number>();
  /** The current look's log lines and steps, until its `sync`. */
  private lookLogs: LogLine[] = [];
  private lookSteps: StepRecord[] = [];
  /** Looks that came before the run was seen running (so `▶ running` comes first); null once it was. */
  private beforeStart: (() => void)[] | null = [];

  constructor(private readonly options: LiveRunPrinterOptions) {}

  log(line: LogLine): void {
    this.lookLogs.push(line);
  }

  step(step: StepRecord): void {
    if (this.options.steps) this.lookSteps.push(step);
  }

  /** The end of a look: prints its lines in order. */
  sync(): void {
    const logs = this.lookLogs;
    const steps = this.lookSteps;
    this.lookLogs = [];
    this.lookSteps = [];
    if (this.beforeStart) this.beforeStart.push(() => this.print(logs, steps));
    else this.print(logs, steps);
  }

  /** A phase change: the first one past Queued announces the run, then what waited for it. */
  phase(run: Pick<Run, 'phase' | 'startedAt' | 'executor'>): void {
    if (!this.beforeStart || run.phase === 'Queued') return;
    const waiting = this.beforeStart;
    this.beforeStart = null;
    if (run.startedAt) this.options.out(this.options.style.dim(`▶ running${run.executor ? ` on ${run.executor}` : ''}`));
    for (const look of waiting) look();
  }

  /** The run ended: whatever still waits is printed. */
  end(): void {
    this.sync();
    if (this.beforeStart) this.phase({ phase: 'Running', startedAt: null, executor: null });
    for (let step = this.steps.get(this.nextSeq); step; step = this.steps.get(++this.nextSeq)) this.printStep(step);
  }

  private print(logs: LogLine[], steps: StepRecord[]): void {
    for (const step of steps) this.steps.set(step.seq, step);
    for (const line of logs) {
      // A line logged after a finished block (outside it) comes after the block's tree.
      for (let block = this.finishedBlock(); block !== null && this.loggedAfter(line, block); block = this.finishedBlock()) this.printBlock(block);
      this.options.out(formatLogLine(this.options.style, line));
    }
    for (let block = this.finishedBlock(); block !== null; block = this.finishedBlock()) this.printBlock(block);
  }

  /** The seq of the next top-level block to print, if it has finished; else null. */
  private finishedBlock(): number | null {
    const next = this.steps.get(this.nextSeq);
    return next && next.status !== 'running' ? next.seq : null;
  }

  /**
   * Whether a line was logged after a finished top-level block. A line inside a step
   * says where it was; a line outside every step was logged before the block started
   * or after it ended, which its time tells unless the block took under a millisecond.
   */
  private loggedAfter(line: LogLine, block: number): boolean {
    if (line.stepSeq !== null) return this.topLevelOf(line.stepSeq) !== block;
    return Date.parse(line.ts) > Date.parse(this.steps.get(block)!.startedAt);
  }

  /** Prints a finished top-level step and its descendants, in start order. */
  private printBlock(block: number): void {
    for (let step = this.steps.get(this.nextSeq); step && (step.seq === block || this.topLevelOf(step.seq) === block); step = this.steps.get(++this.nextSeq)) {
      this.printStep(step);
    }
  }

  private printStep(step: StepRecord): void {
    const d = step.parentSeq === null ? 0 : (this.depth.get(step.parentSeq) ?? 0) + 1;
    this.depth.set(step.seq, d);
    this.options.out(formatStep(this.options.style, step, d));
  }

  /** The top-level step a step belongs to; undefined while the step is not known. */
  private topLevelOf(seq: number): number | undefined {
    let step = this.steps.get(seq);
    while (step && step.parentSeq !== null) step = this.steps.get(step.parentSeq);
    return step?.seq;
  }
}
