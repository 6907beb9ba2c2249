/** `topas test cancel`: stop a queued or running run. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { paintPhase } from '../format.js';

export function registerCancel(test: Command, ctx: CliContext): void {
  test
    .command('cancel <id>')
    .description('cancel a queued or running run (full id or a unique prefix of 8+ characters)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (input: string, opts: { server?: string }) => {
      const client = ctx.client(opts.server);
      const run = await client.cancelRun(await client.resolveRunId(input));
      ctx.out(`run ${run.id} ${JSON.stringify(run.name)} is ${paintPhase(ctx.style, run.phase)}`);
      return;
    });
}
