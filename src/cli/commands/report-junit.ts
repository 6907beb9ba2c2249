/** `topas report junit`: one JUnit XML file for the runs a filter selects (CI test reports). */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { registerReportProfile } from './report-profile.js';
import { registerReportImport } from './report-import.js';

interface JUnitOptions {
  label: string[];
  category: string[];
  phase?: string;
  origin?: string;
  app?: string;
  definition?: string;
  name?: string;
  since?: string;
  until?: string;
  output?: string;
  server?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Writes a JUnit report to `file`, or a CLI error naming the file. */
export async function writeReport(file: string, xml: string): Promise<void> {
  try {
    await writeFile(file, xml);
  } catch (err) {
    throw new CliError(`cannot write the JUnit report to ${file}: ${(err as Error).message}`);
  }
}

/** How many `<testsuite>` (runs) and `<testcase>` a report holds, for the summary line. */
function counts(xml: string): { runs: number; tests: number } {
  return { runs: (xml.match(/<testsuite /g) ?? []).length, tests: (xml.match(/<testcase /g) ?? []).length };
}

export function registerReport(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('export run results for other tools, import theirs');
  registerReportProfile(report, ctx);
  report
    .command('results')
    .description("write a run's test cases as JSON (results.json): key, outcome, duration, message, failure category")
    .argument('<run>', 'run id (or a unique prefix)')
    .option('-o, --output <file>', 'write it to this file (default: standard output)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (run: string, opts: { output?: string; server?: string }) => {
      const client = ctx.client(opts.server);
      const json = JSON.stringify(JSON.parse(await client.runResults(await client.resolveRunId(run))), null, 2);
      if (!opts.output) return ctx.out(json);
      try {
        await writeFile(opts.output, `${json}\n`);
      } catch (err) {
        throw new CliError(`cannot write the results to ${opts.output}: ${(err as Error).message}`);
      }
      const count = (JSON.parse(json) as { results: unknown[] }).results.length;
      ctx.err(ctx.errStyle.dim(`wrote ${opts.output}: ${count} test case${count === 1 ? '' : 's'}`));
    });
  registerReportImport(report, ctx);

  report
    .command('junit')
    .description('write one JUnit XML report (a testsuite per run) for the runs the filters select, newest first, at most 500')
    .option('--label <key=value>', 'only runs with this label (repeatable; all must match)', collect, [])
    .option('--phase <phases>', 'only runs in these phases, comma-separated (Failed,Error)')
    .option('--origin <origins>', 'only runs from these origins, comma-separated (cli,api,ui,crd,schedule)')
    .option('--app <name>', 'only runs of this App')
    .option('--category <name>', 'only failed runs of this failure category (repeatable: any of them)', collect, [])
    .option('--definition <id>', 'only runs started from this definition id')
    .option('--name <text>', 'only runs whose name contains this text')
    .option('--since <time>', 'only runs created at or after this ISO-8601 time')
    .option('--until <time>', 'only runs created before this ISO-8601 time')
    .option('-o, --output <file>', 'write the report to this file (default: standard output)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: JUnitOptions) => {
      for (const label of opts.label) if (label.indexOf('=') <= 0) throw new CliError(`--label ${label}: expected KEY=value`);
      const query: [string, string][] = [
        ...opts.label.map((l): [string, string] => ['label', l]),
        ...opts.category.map((c): [string, string] => ['category', c]),
        ...(
          [
            ['phase', opts.phase],
            ['origin', opts.origin],
            ['app', opts.app],
            ['definition', opts.definition],
            ['q', opts.name],
            ['since', opts.since],
            ['until', opts.until],
          ] as [string, string | undefined][]
        ).filter((p): p is [string, string] => p[1] !== undefined),
      ];
      const { xml, truncated } = await ctx.client(opts.server).junitReport(query);
      const { runs, tests } = counts(xml);
      if (truncated) ctx.err(ctx.errStyle.dim('more runs match than one report holds (500): this one has the newest; narrow the filters (--since/--until) for the others'));
      if (!opts.output) {
        ctx.out(xml.trimEnd());
        return;
      }
      await writeReport(opts.output, xml);
      ctx.err(ctx.errStyle.dim(`wrote ${opts.output}: ${runs} run${runs === 1 ? '' : 's'}, ${tests} test case${tests === 1 ? '' : 's'}`));
    });
}
