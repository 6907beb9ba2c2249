/** `topas report profile`: what runs use per test (p50/p95 CPU time and peak memory) and how many fit at once. */
import type { Command } from 'commander';
import { bytes } from '../../core/resource-profile.js';
import type { CliContext } from '../context.js';
import { table } from '../format.js';

interface ProfileOptions {
  from?: string;
  to?: string;
  last?: string;
  limit?: string;
  json?: boolean;
  server?: string;
}

const ms = (n: number) => (n >= 1000 ? `${Number((n / 1000).toFixed(1))}s` : `${Number(n.toFixed(1))}ms`);
const cores = (n: number) => Number(n.toFixed(n >= 1 ? 2 : 3)).toString();

/** Adds `profile` to the `report` command. */
export function registerReportProfile(report: Command, ctx: CliContext): void {
  report
    .command('profile')
    .description('print what runs use per test (p50/p95 CPU time and peak memory) and how many fit at once in the CPU/memory budget')
    .option('--from <time>', 'runs created at or after this ISO-8601 time (default: 14 days before --to)')
    .option('--to <time>', 'runs created before this ISO-8601 time (default: the end of today, UTC)')
    .option('--last <n>', 'the newest N finished runs of each test (default 100)')
    .option('--limit <n>', 'tests listed, heaviest first (default 50)')
    .option('--json', 'print the API answer as JSON')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: ProfileOptions) => {
      const r = await ctx.client(opts.server).resourceProfile({ from: opts.from, to: opts.to, last: opts.last, limit: opts.limit });
      if (opts.json) {
        ctx.out(JSON.stringify(r, null, 2));
        return;
      }
      const s = ctx.style;
      if (r.items.length === 0) ctx.out(s.dim(`no finished run with a profile from ${r.from} to ${r.to}`));
      else {
        ctx.out(
          table(
            ['TEST', 'RUNS', 'CPU p50', 'CPU p95', 'CORES p95', 'MEMORY p50', 'MEMORY p95'],
            r.items.map((i) => [
              i.name,
              String(i.runs),
              ms(i.cpuMs.p50),
              ms(i.cpuMs.p95),
              i.cpuCores ? cores(i.cpuCores.p95) : '-',
              bytes(i.peakMemoryBytes.p50),
              bytes(i.peakMemoryBytes.p95),
            ]),
            s,
          ),
        );
      }
      const rec = r.recommendation;
      ctx.out('');
      ctx.out(`${s.bold(`Parallelism: ${rec.parallelism}`)} (limited by ${rec.limitedBy})`);
      ctx.out(rec.explanation);
    });
}
