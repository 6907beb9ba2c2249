/**
 * `topas runner`: execute one run as a remote runner (the runner Pod's main
 * container, `runner/remote-runner.ts`). Prints a human-readable log on stdout (what
 * `kubectl logs` shows), its own diagnostics on stderr, and exits 0 Passed, 1 Failed,
 * 2 anything else — like `test schedule --wait`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assertionRecord, endedStep, startedStep, type NumberedRunEvent, type StepRecord } from '../../core/run-events.js';
import { parseEgressAllow, EGRESS_SETTING } from '../../runner/egress-policy.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { formatDuration, formatFailedAssertion, formatLogLine, formatStep, paintPhase } from '../format.js';
import { exitCodeFor } from '../watch-run.js';

interface RunnerFlags {
  run?: string;
  server?: string;
  tokenFile?: string;
  source?: string;
  terminationLog?: string;
  cgroup?: string;
}

export function registerRunner(program: Command, ctx: CliContext): void {
  program
    .command('runner')
    .description('execute one run for a topas server as a remote runner (the entrypoint of runner Pods)')
    .option('--run <id>', 'the run to execute (default TOPAS_RUN_ID)')
    .option('--server <url>', 'the topas server (default TOPAS_SERVER)')
    .option('--token-file <file>', "file holding the run's per-run token (default TOPAS_TOKEN_FILE)")
    .option('--source <path>', "the script file, its folder's files beside it (default TOPAS_SOURCE; when missing, fetched from the server)")
    .option('--termination-log <file>', 'where the final result is written as JSON, as a last resort (default TOPAS_TERMINATION_LOG)')
    .option('--cgroup <dir>', "the container's own cgroup folder: report its CPU time and peak memory as the run's profile (default TOPAS_RUNNER_CGROUP; runner Pods set /sys/fs/cgroup)")
    .action(async (opts: RunnerFlags) => {
      const env = ctx.env;
      const runId = opts.run ?? env.TOPAS_RUN_ID;
      const server = opts.server ?? env.TOPAS_SERVER;
      const tokenFile = opts.tokenFile ?? env.TOPAS_TOKEN_FILE;
      const source = opts.source ?? env.TOPAS_SOURCE;
      const terminationLog = opts.terminationLog ?? env.TOPAS_TERMINATION_LOG;
      const cgroupDir = opts.cgroup ?? env.TOPAS_RUNNER_CGROUP;
      if (!runId) throw new CliError('--run (or TOPAS_RUN_ID) is required');
      if (!server) throw new CliError('--server (or TOPAS_SERVER) is required');
      if (!tokenFile) throw new CliError('--token-file (or TOPAS_TOKEN_FILE) is required');
      let token: string;
      try {
        token = readFileSync(tokenFile, 'utf8').trim();
      } catch (error) {
        throw new CliError(`cannot read the token file ${tokenFile}: ${(error as Error).message}`);
      }
      const egress = parseEgressAllow(env[EGRESS_SETTING]);
      if (egress.errors.length) throw new CliError(`invalid ${EGRESS_SETTING}: ${egress.errors.join('; ')}`);
      const { runRemote } = await import('../../runner/remote-runner.js');
      const print = printer(ctx);
      ctx.out(ctx.style.dim(`run ${runId} on ${server}`));
      const started = Date.now();
      const completion = await runRemote({
        runId,
        server,
        token,
        ...(source ? { source } : {}),
        ...(terminationLog ? { terminationLog } : {}),
        ...(cgroupDir ? { cgroupDir } : {}),
        egress: egress.policy,
        onEvent: print,
        log: (level, msg, fields) => ctx.err(JSON.stringify({ level, msg, runId, ...fields })),
      }).catch((error: unknown) => {
        throw new CliError(error instanceof Error ? error.message : String(error));
      });
      const s = completion.summary;
      const why = completion.reason || completion.message ? ` — ${[completion.reason, completion.message].filter(Boolean).join(': ')}` : '';
      ctx.out(
        `${ctx.style.bold(paintPhase(ctx.style, completion.phase))} in ${formatDuration(Date.now() - started)} — ${s.stepsPassed} steps passed, ${s.stepsFailed} failed; ${s.assertionsPassed} assertions passed, ${s.assertionsFailed} failed${why}`,
      );
      ctx.exitCode = exitCodeFor(completion.phase);
    });
}

/** Events as lines: log lines, finished steps, failed assertions. */
function printer(ctx: CliContext): (event: NumberedRunEvent) => void {
  const started = new Map<number, StepRecord>();
  const depth = new Map<number, number>();
  return (event) => {
    const ts = new Date(event.ts).toISOString();
    switch (event.type) {
      case 'log':
        ctx.out(formatLogLine(ctx.style, { runId: '', seq: event.seq, ts, level: event.level, message: event.message, stepSeq: event.stepSeq }));
        return;
      case 'step.start':
        depth.set(event.seq, event.parentSeq === null ? 0 : (depth.get(event.parentSeq) ?? 0) + 1);
        started.set(event.seq, startedStep('', event, ts));
        return;
      case 'step.end': {
        const step = started.get(event.seq);
        if (!step) return;
        started.delete(event.seq);
        const ended = endedStep(step, event, ts);
        ctx.out(formatStep(ctx.style, ended, depth.get(event.seq) ?? 0));
        return;
      }
      case 'assertion':
        if (event.passed) return;
        for (const line of formatFailedAssertion(ctx.style, assertionRecord('', event, ts)))
          ctx.out(line);
    }
  };
}
