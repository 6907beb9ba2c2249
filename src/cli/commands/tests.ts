/** `topas tests`: test cases across runs, with their last outcomes, pass rate, p95 and flakiness. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { TestSummary } from '../../core/test-summary.js';
import type { TestOutcome } from '../../core/test-case.js';
import { formatDuration, table, type Style } from '../format.js';

/** The last outcomes as one letter each, newest first: ✓ passed, ✗ failed, E error, - skipped. */
export function outcomeStrip(style: Style, recent: readonly TestOutcome[]): string {
  return recent
    .map((o) => (o === 'Passed' ? style.green('✓') : o === 'Failed' ? style.red('✗') : o === 'Error' ? style.red('E') : style.dim('-')))
    .join('');
}

function mark(style: Style, t: TestSummary): string {
  return [t.flaky ? style.yellow('flaky') : '', t.quarantine ? style.dim('quarantined') : ''].filter(Boolean).join(' ') || '-';
}

export function registerTests(program: Command, ctx: CliContext): void {
  program
    .command('tests')
    .description('list test cases across runs: last outcomes (newest first), pass rate, p95 duration, flaky and quarantined marks')
    .option('--flaky', 'only flaky tests')
    .option('--quarantined', 'only quarantined tests')
    .option('--failing', 'only tests whose last outcome is Failed')
    .option('--text <text>', 'only tests whose key contains this text')
    .option('--limit <n>', 'at most this many (1..1000)', '50')
    .option('--json', 'print JSON')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: { flaky?: boolean; quarantined?: boolean; failing?: boolean; text?: string; limit: string; json?: boolean; server?: string }) => {
      const client = ctx.client(opts.server);
      const page = await client.listTests({
        flaky: opts.flaky ? 'true' : undefined,
        quarantined: opts.quarantined ? 'true' : undefined,
        outcome: opts.failing ? 'Failed' : undefined,
        text: opts.text,
        limit: opts.limit,
      });
      if (opts.json) {
        ctx.out(JSON.stringify(page.items, null, 2));
        return;
      }
      if (!page.items.length) {
        ctx.out('no test results match — tests appear here once runs with them end');
        return;
      }
      const rows = page.items.map((t) => [
        t.key,
        t.id,
        outcomeStrip(ctx.style, t.recent),
        t.passRate === null ? '-' : `${Math.round(t.passRate * 100)}%`,
        formatDuration(t.p95Ms),
        mark(ctx.style, t),
      ]);
      ctx.out(table(['TEST', 'ID', 'LAST (newest first)', 'PASS', 'P95', 'MARK'], rows, ctx.style));
      if (page.nextCursor) ctx.out(ctx.style.dim(`(first ${page.items.length}; narrow with --text or raise --limit)`));
    });
}
