/** `topas test list`: the stored test definitions. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatAgo, shortIds, table } from '../format.js';

export function registerList(test: Command, ctx: CliContext): void {
  test
    .command('list')
    .description('list stored test definitions')
    .option('--json', 'print JSON')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: { json?: boolean; server?: string }) => {
      const client = ctx.client(opts.server);
      const all = await client.allDefinitions();
      if (opts.json) {
        ctx.out(JSON.stringify(all, null, 2));
        return;
      }
      if (!all.length) {
        ctx.out('no test definitions yet — create one with POST /api/definitions');
        return;
      }
      const oneLine = (text: string) => (text.split('\n')[0] ?? '').slice(0, 60);
      const ids = shortIds(all.map((d) => d.id));
      const rows = all.map((d) => [d.name, ids.get(d.id)!, `${d.timeoutSeconds}s`, d.appName ?? '-', formatAgo(d.updatedAt), oneLine(d.description)]);
      ctx.out(table(['NAME', 'ID', 'TIMEOUT', 'APP', 'UPDATED', 'DESCRIPTION'], rows, ctx.style));
      return;
    });
}
