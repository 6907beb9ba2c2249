/** `topas test status`: recent runs as a table, or one run with its steps and failures. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../cli-error.js';
import { formatTestRun, getTestRun, kubeTarget, withKubeFlags, type KubeFlags } from '../kube/kube-testruns.js';
import { formatAgo, formatDuration, formatRunDetail, paintPhase, shortIds, table } from '../format.js';

interface StatusOptions extends KubeFlags {
  phase?: string;
  limit: string;
  json?: boolean;
  server?: string;
}

export function registerStatus(test: Command, ctx: CliContext): void {
  const command = test
    .command('status [id]')
    .description('list recent runs, or show one run (full id or a unique prefix of 8+ characters); with --kube, a TestRun by name')
    .option('--phase <phases>', 'only runs in these phases, comma-separated (e.g. Failed,Error)')
    .option('--limit <n>', 'how many runs to list', '20')
    .option('--json', 'print JSON')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)');
  withKubeFlags(command).action(async (id: string | undefined, opts: StatusOptions) => {
      if (opts.kube) {
        if (!id) throw new CliError('--kube needs the TestRun name: topas test status NAME --kube');
        const { api, namespace } = kubeTarget(ctx, opts);
        const tr = await getTestRun(api, namespace, id);
        ctx.out(opts.json ? JSON.stringify(tr, null, 2) : formatTestRun(ctx, tr));
        return;
      }
      const client = ctx.client(opts.server);
      const s = ctx.style;
      if (id) {
        const run = await client.getRun(await client.resolveRunId(id));
        ctx.out(opts.json ? JSON.stringify(run, null, 2) : formatRunDetail(s, run));
        return;
      }
      const page = await client.listRuns({ phase: opts.phase, limit: opts.limit });
      if (opts.json) {
        ctx.out(JSON.stringify(page.items, null, 2));
        return;
      }
      if (!page.items.length) {
        ctx.out(opts.phase ? `no runs in phase ${opts.phase}` : 'no runs yet — start one with: topas test schedule --script FILE --wait');
        return;
      }
      const ids = shortIds(page.items.map((r) => r.id));
      const rows = page.items.map((r) => [ids.get(r.id)!, r.name, paintPhase(s, r.phase), formatDuration(r.durationMs), r.origin, formatAgo(r.startedAt ?? r.createdAt)]);
      ctx.out(table(['ID', 'NAME', 'PHASE', 'DURATION', 'ORIGIN', 'STARTED'], rows, s));
      return;
    });
}
