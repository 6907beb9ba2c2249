/** The `topas` (alias `kctrl`) command tree. */
import { Command } from 'commander';
import { TopasError } from '../core/errors.js';
import { registerApp } from './commands/app.js';
import { registerCrds } from './commands/crds.js';
import { registerGitCheckout } from './commands/git-checkout.js';
import { registerUp } from './commands/up.js';
import { registerCancel } from './commands/test-cancel.js';
import { registerQuarantine } from './commands/test-quarantine.js';
import { registerTests } from './commands/tests.js';
import { registerList } from './commands/test-list.js';
import { registerLogs } from './commands/test-logs.js';
import { registerSchedule } from './commands/test-schedule.js';
import { registerStatus } from './commands/test-status.js';
import { registerToken } from './commands/token.js';
import { registerRunner } from './commands/runner.js';
import { registerWorker } from './commands/worker.js';
import { registerReport } from './commands/report-junit.js';
import { registerCategories } from './commands/categories.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';

export function buildProgram(ctx: CliContext, name = 'topas'): Command {
  const program = new Command(name)
    .description('topas — schedule Lua scenario tests, follow them live, triage the results')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (t) => ctx.out(t.trimEnd()), writeErr: (t) => ctx.err(t.trimEnd()) })
    .option('--token <token>', 'API token to send (default TOPAS_TOKEN, else the admin token in the data folder: TOPAS_DATA_DIR or ./.topas)')
    .exitOverride();
  // `--token` may come before or after the command; every client the command makes sends it.
  program.hook('preAction', () => {
    const token = program.opts<{ token?: string }>().token;
    if (token !== undefined) ctx.token = token;
  });
  registerUp(program, ctx);
  const test = program.command('test').description('schedule, inspect and cancel test runs; quarantine test cases');
  registerSchedule(test, ctx);
  registerStatus(test, ctx);
  registerLogs(test, ctx);
  registerList(test, ctx);
  registerCancel(test, ctx);
  registerQuarantine(test, ctx);
  registerTests(program, ctx);
  registerReport(program, ctx);
  registerCategories(program, ctx);
  registerApp(program, ctx);
  registerToken(program, ctx);
  registerCrds(program, ctx);
  registerGitCheckout(program, ctx);
  registerRunner(program, ctx);
  registerWorker(program, ctx);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function runCli(ctx: CliContext, argv: string[]): Promise<number> {
  const name = /kctrl(\.js)?$/.test(argv[1] ?? '') ? 'kctrl' : 'topas';
  const program = buildProgram(ctx, name);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    const commanderCode = (err as { code?: string }).code;
    if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' || commanderCode === 'commander.help') return 0;
    if (commanderCode?.startsWith('commander.')) return 2; // usage error, already printed
    if (err instanceof CliError) {
      ctx.err(`${ctx.errStyle.red('error:')} ${err.message}`);
      return err.exitCode;
    }
    // A typed error's message says what was wrong and how to fix it: no stack.
    if (err instanceof TopasError) {
      ctx.err(`${ctx.errStyle.red('error:')} ${err.message}`);
      return 2;
    }
    ctx.err(`${ctx.errStyle.red('error:')} ${(err as Error).stack ?? String(err)}`);
    return 2;
  }
}
