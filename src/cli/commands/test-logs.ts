/** `topas test logs`: a run's whole log, or follow it live until the run ends. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatLogLine } from '../format.js';
import { exitCodeFor, watchRun } from '../watch-run.js';

export function registerLogs(test: Command, ctx: CliContext): void {
  test
    .command('logs <id>')
    .description('print the log of a run; with -f, follow it until the run ends (exit code as with schedule --wait)')
    .option('-f, --follow', 'stream new lines until the run ends')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (input: string, opts: { follow?: boolean; server?: string }) => {
      const client = ctx.client(opts.server);
      const id = await client.resolveRunId(input);
      if (opts.follow) {
        ctx.exitCode = exitCodeFor((await watchRun(ctx, client, id, { print: true, steps: false })).phase);
        return;
      }
      await client.getRun(id); // a clear "not found" before paging
      let after = 0;
      for (;;) {
        const page = await client.getLogs(id, after);
        for (const line of page.items) ctx.out(formatLogLine(ctx.style, line));
        if (!page.items.length) return;
        after = page.nextSeq;
      }
    });
}
