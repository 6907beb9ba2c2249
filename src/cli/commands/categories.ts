/** `topas categories get/apply`: the failure-category rules as a `categories.yaml` file. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CategoriesFileError, readCategoriesFile } from '../../config/categories-file.js';
import type { CategoryRules } from '../../core/categories.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';

interface ServerOption {
  server?: string;
}

/** The rules as a categories.yaml document, with a header saying where they came from. */
export function categoriesYaml(state: { rules: CategoryRules['rules']; version: number; updatedBy: string | null; defaults: boolean }): string {
  const origin = state.defaults ? 'the shipped defaults' : `version ${state.version}${state.updatedBy ? `, last changed by ${state.updatedBy}` : ''}`;
  return [
    `# topas failure categories (${origin}).`,
    '# Ordered: the first rule whose every matcher matches a failed test gives its category; none: Regression.',
    '# Apply with: topas categories apply -f categories.yaml',
    stringify({ rules: state.rules }, { lineWidth: 0 }).trimEnd(),
    '',
  ].join('\n');
}

export function registerCategories(program: Command, ctx: CliContext): void {
  const categories = program.command('categories').description('read and replace the failure-category rules (categories.yaml)');

  categories
    .command('get')
    .description('print the rules in force as categories.yaml')
    .option('-o, --output <file>', 'write them to this file (default: standard output)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: ServerOption & { output?: string }) => {
      const yaml = categoriesYaml(await ctx.client(opts.server).getCategories());
      if (!opts.output) return ctx.out(yaml.trimEnd());
      try {
        await writeFile(opts.output, yaml);
      } catch (err) {
        throw new CliError(`cannot write ${opts.output}: ${(err as Error).message}`);
      }
      ctx.err(ctx.errStyle.dim(`wrote ${opts.output}`));
    });

  categories
    .command('apply')
    .description('replace the rules with those of a categories.yaml (needs the editor role); --reapply also re-categorizes past failures')
    .requiredOption('-f, --file <file>', 'the categories file (YAML or JSON)')
    .option('--reapply [since]', 're-categorize past failures with the new rules: all, or those of runs created since this ISO-8601 time; waits until done')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: ServerOption & { file: string; reapply?: string | boolean }) => {
      let rules: CategoryRules;
      try {
        rules = readCategoriesFile(opts.file);
      } catch (err) {
        if (err instanceof CategoriesFileError) throw new CliError(err.message);
        throw err;
      }
      const client = ctx.client(opts.server);
      const saved = await client.putCategories(rules);
      ctx.out(`categories configured (version ${saved.version}, ${saved.rules.length} rule${saved.rules.length === 1 ? '' : 's'})`);
      if (opts.reapply === undefined) {
        ctx.err(ctx.errStyle.dim('past failures keep their category; re-categorize them with --reapply [SINCE]'));
        return;
      }
      let job = await client.applyCategories(typeof opts.reapply === 'string' ? opts.reapply : null);
      while (job.state === 'running') {
        await new Promise((r) => setTimeout(r, 250));
        job = await client.categoryJob(job.id);
      }
      if (job.state === 'failed') throw new CliError(`re-categorization ${job.id} failed: ${job.error ?? 'unknown error'}`);
      ctx.out(`re-categorized ${job.processed} past failure${job.processed === 1 ? '' : 's'}, ${job.changed} changed`);
    });
}
