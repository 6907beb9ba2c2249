/** `topas test logs`: a run's whole log, or follow it live until the run ends. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatLogLine } from '../format.js';
import { exitCodeFor, watchRun } from '../watch-run.js';
import { followTestRun, getTestRun, kubeError, kubeTarget, reportEnd, withKubeFlags, type KubeFlags } from '../kube/kube-testruns.js';

export function registerLogs(test: Command, ctx: CliContext): void {
  const command = test
    .command('logs <id>')
    .description('print the log of a run; with -f, follow it until the run ends (exit code as with schedule --wait); with --kube, a TestRun by name')
    .option('-f, --follow', 'stream new lines until the run ends')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)');
  withKubeFlags(command).action(async (input: string, opts: { follow?: boolean; server?: string } & KubeFlags) => {
      if (opts.kube) {
        const { api, namespace } = kubeTarget(ctx, opts);
        if (opts.follow) {
          reportEnd(ctx, await followTestRun(ctx, api, namespace, input, { print: true }));
          return;
        }
        const tr = await getTestRun(api, namespace, input);
        if (!tr.status?.podName) {
          ctx.err(ctx.errStyle.dim(`TestRun ${namespace}/${input} has no runner Pod yet (phase ${tr.status?.phase ?? 'Queued'})`));
          return;
        }
        try {
          ctx.out((await api.podLog(namespace, tr.status.podName, { container: 'runner' })).replace(/\n$/, ''));
        } catch (error) {
          kubeError(error, `the log of Pod ${namespace}/${tr.status.podName} (it may have been deleted; the run's log stays in topas: topas test logs ${tr.status.runId ?? ''})`);
        }
        return;
      }
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
        // Log retention deleted the lines: say so rather than print nothing.
        if (page.notice && after === 0 && !page.items.length) ctx.err(ctx.errStyle.dim(page.notice));
        if (!page.items.length) return;
        after = page.nextSeq;
      }
    });
}
