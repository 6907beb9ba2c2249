/**
 * `topas report import`: test results from other tools (JUnit XML, Gauge's console
 * output) become one topas run (origin `import`), with the same history, categories
 * and flakiness as runs topas executed. Exit 0 once imported, whatever the tests did:
 * the CI step that ran the tests already failed the build; `--fail-on-failures`
 * exits 1 when the imported run is Failed (for pipelines that only import).
 */
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { REPORT_FORMATS } from '../../core/report-import/imported-case.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';

interface ImportOptions {
  name?: string;
  label: string[];
  definition?: string;
  format?: string;
  failOnFailures?: boolean;
  json?: boolean;
  server?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerReportImport(report: Command, ctx: CliContext): void {
  report
    .command('import')
    .description('import JUnit XML reports (or Gauge console output) as one run of origin import; prints its id')
    .argument('<files...>', 'report files (Surefire, Gradle, pytest, jest-junit, gotestsum, … JUnit XML; or Gauge output with --format gauge-stdout)')
    .option('--name <name>', "the run's name (default: the report's root suite name, else the first file's name)")
    .option('--label <key=value>', 'a label of the run (repeatable)', collect, [])
    .option('--definition <name>', 'the test definition these results belong to (id or name)')
    .option('--format <format>', `the files' format: ${REPORT_FORMATS.join(' or ')} (default junit)`)
    .option('--fail-on-failures', 'exit 1 when the imported run is Failed (default: exit 0 once imported)')
    .option('--json', 'print the answer as JSON (run, counts, files)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (files: string[], opts: ImportOptions) => {
      for (const label of opts.label) if (label.indexOf('=') <= 0) throw new CliError(`--label ${label}: expected KEY=value`);
      if (opts.format !== undefined && !(REPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new CliError(`--format ${opts.format}: expected ${REPORT_FORMATS.join(' or ')}`);
      for (const file of files) {
        try {
          await access(file);
        } catch {
          throw new CliError(`${file}: no such file (give the paths of the report files to import)`);
        }
      }
      const query: [string, string][] = [
        ...opts.label.map((l): [string, string] => ['label', l]),
        ...(([['name', opts.name], ['definition', opts.definition], ['format', opts.format]] as [string, string | undefined][]).filter(
          (p): p is [string, string] => p[1] !== undefined,
        )),
      ];
      const answer = await ctx.client(opts.server).importReports(
        query,
        files.map((path) => ({ path, name: basename(path) })),
      );
      const { run, counts } = answer;
      if (opts.json) ctx.out(JSON.stringify(answer, null, 2));
      else {
        ctx.out(run.id);
        const parts = [`${counts.passed} passed`, `${counts.failures} failed`, `${counts.errors} error${counts.errors === 1 ? '' : 's'}`, `${counts.skipped} skipped`];
        if (counts.flaky) parts.push(`${counts.flaky} flaky`);
        ctx.err(`imported ${answer.files.length} file${answer.files.length === 1 ? '' : 's'} as run ${run.id} (${run.name}): ${run.phase}, ${counts.tests} tests — ${parts.join(', ')}`);
      }
      if (opts.failOnFailures && run.phase !== 'Passed') ctx.exitCode = 1;
    });
}
