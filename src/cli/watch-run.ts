/** Following a run to its end, as `test schedule --wait` and `test logs -f` show it. */
import type { RunPhase } from '../core/run-phase.js';
import type { Run } from '../core/run.js';
import type { RunDetail, TopasClient } from './client.js';
import type { CliContext } from './context.js';
import { detailLines, detailPlaces } from '../core/failure-text.js';
import { formatFailedAssertion, formatSummary } from './format.js';
import { LiveRunPrinter } from './live-run-printer.js';

/** 0 Passed, 1 Failed (a test failed), 2 anything else. */
export function exitCodeFor(phase: RunPhase): number {
  return phase === 'Passed' ? 0 : phase === 'Failed' ? 1 : 2;
}

export interface WatchOptions {
  /** Print log lines, steps and the summary; false only waits (for --json). */
  print: boolean;
  /** Also print the step tree (as `test status <id>` shows it), each step once it finished. */
  steps: boolean;
}

/** Streams the run until it ends and returns its final detail. */
export async function watchRun(ctx: CliContext, client: TopasClient, runId: string, options: WatchOptions): Promise<RunDetail> {
  const printer = new LiveRunPrinter({ style: ctx.style, out: (line) => ctx.out(line), steps: options.steps });
  for await (const event of client.follow(runId)) {
    if (!options.print) continue;
    if (event.type === 'log') printer.log(event.line);
    else if (event.type === 'step') printer.step(event.step);
    else if (event.type === 'sync') printer.sync();
    else printer.phase(event.run);
  }
  if (options.print) printer.end();
  const run = await client.getRun(runId);
  if (options.print && run.logsExpiredAt) {
    ctx.err(ctx.errStyle.dim(`The log lines of this run were deleted on ${run.logsExpiredAt.slice(0, 10)} by log retention (TOPAS_LOG_RETENTION_DAYS). Its steps, assertions and results are kept.`));
  }
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
