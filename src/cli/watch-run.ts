/** Following a run to its end, as `test schedule --wait` and `test logs -f` show it. */
import type { StepRecord } from '../core/run-events.js';
import type { RunPhase } from '../core/run-phase.js';
import type { Run } from '../core/run.js';
import type { RunDetail, TopasClient } from './client.js';
import type { CliContext } from './context.js';
import { detailLines, detailPlaces } from '../core/failure-text.js';
import { formatFailedAssertion, formatLogLine, formatStep, formatSummary } from './format.js';

/** 0 Passed, 1 Failed (a test failed), 2 anything else. */
export function exitCodeFor(phase: RunPhase): number {
  return phase === 'Passed' ? 0 : phase === 'Failed' ? 1 : 2;
}

export interface WatchOptions {
  /** Print log lines, steps and the summary; false only waits (for --json). */
  print: boolean;
  /** Also print steps as they finish. */
  steps: boolean;
}

/** Streams the run until it ends and returns its final detail. */
export async function watchRun(ctx: CliContext, client: TopasClient, runId: string, options: WatchOptions): Promise<RunDetail> {
  const s = ctx.style;
  const depth = new Map<number, number>();
  const seen = new Map<number, StepRecord['status']>();
  let phase: RunPhase | null = null;
  for await (const event of client.follow(runId)) {
    if (!options.print) continue;
    if (event.type === 'log') ctx.out(formatLogLine(s, event.line));
    else if (event.type === 'step' && options.steps) {
      const step = event.step;
      const d = step.parentSeq === null ? 0 : (depth.get(step.parentSeq) ?? 0) + 1;
      depth.set(step.seq, d);
      if (step.status === 'running' || seen.get(step.seq) === step.status) continue;
      seen.set(step.seq, step.status);
      if (step.kind === 'hook' && step.status !== 'failed') continue;
      ctx.out(formatStep(s, step, d));
    } else if (event.type === 'phase' && event.run.phase !== phase) {
      phase = event.run.phase;
      if (phase === 'Running') ctx.out(s.dim(`▶ running${event.run.executor ? ` on ${event.run.executor}` : ''}`));
    }
  }
  const run = await client.getRun(runId);
  if (options.print) printOutcome(ctx, run);
  return run;
}

/**
 * The summary line and the failed assertions with file:line. Steps were printed with
 * their failure's first line: the details (an `expect` diff) show once, with the
 * failed assertion, or under the summary when no assertion carries them.
 */
export function printOutcome(ctx: CliContext, run: RunDetail): void {
  const s = ctx.style;
  ctx.out('');
  ctx.out(formatSummary(s, run as Run));
  if (run.message && detailPlaces({ message: run.message, steps: [], assertions: run.assertions }).run) {
    for (const line of detailLines(run.message)) ctx.out(`  ${line}`);
  }
  const failed = run.assertions.filter((a) => !a.passed);
  if (failed.length) {
    ctx.out(s.bold('Failed assertions'));
    for (const a of failed) for (const line of formatFailedAssertion(s, a)) ctx.out(line);
  }
}
