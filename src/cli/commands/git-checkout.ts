/**
 * `topas git-checkout`: checks a git source out into a folder and prints the commit.
 * A runner Pod's init container runs it (into the `/topas/workspace` emptyDir);
 * credentials come from `GIT_USERNAME`/`GIT_PASSWORD` (a basic-auth Secret). Exit 0
 * with the SHA on stdout, or 2 with the reason on stderr; `--termination-log` also
 * writes the SHA, or the reason, to the container's termination message file, where
 * the controller reads it (`state.terminated.message`).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { GitRevisionSchema, GitUrlSchema, GitPathSchema } from '../../core/schemas/run-request.js';
import { DEFAULT_GIT_REVISION } from '../../core/run.js';
import { TopasError } from '../../core/errors.js';
import { displayUrl, gitCheckout } from '../../runner/git-checkout.js';
import { readCheckedOutTest } from '../../runner/git-test-source.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';

interface GitCheckoutFlags {
  url: string;
  revision: string;
  dest: string;
  path?: string;
  timeout: string;
  allowFile?: boolean;
  terminationLog?: string;
}

/** The flag's value, or a CliError naming the flag and what is wrong. */
function checked(flag: string, schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }, value: string): string {
  const result = schema.safeParse(value);
  if (!result.success) throw new CliError(`${flag} ${displayUrl(value)}: ${result.error!.issues[0]!.message}`);
  return value;
}

export function registerGitCheckout(program: Command, ctx: CliContext): void {
  program
    .command('git-checkout')
    .description("check a test's git repository out into a folder (a runner Pod's init container); prints the commit SHA")
    .requiredOption('--url <url>', 'the repository (https://, http://, or file:// with --allow-file)')
    .option('--revision <rev>', "branch, tag or commit SHA (default HEAD: the repository's default branch)", DEFAULT_GIT_REVISION)
    .requiredOption('--dest <dir>', 'an empty folder to check out into')
    .option('--path <path>', 'fail unless this script exists in the checkout (e.g. tests/smoke.lua)')
    .option('--timeout <seconds>', 'give up after this many seconds', '120')
    .option('--allow-file', 'allow file:// URLs (the topas server passes it when it allows them)')
    .option('--termination-log <file>', "also write the commit SHA (or why the checkout failed) to this file: a container's terminationMessagePath")
    .action(async (opts: GitCheckoutFlags) => {
      const url = checked('--url', GitUrlSchema, opts.url);
      const revision = checked('--revision', GitRevisionSchema, opts.revision);
      if (opts.path !== undefined) checked('--path', GitPathSchema, opts.path);
      const seconds = Number(opts.timeout);
      if (!Number.isInteger(seconds) || seconds < 1) throw new CliError(`--timeout ${opts.timeout}: expected a whole number of seconds`);
      const { GIT_USERNAME: username, GIT_PASSWORD: password } = ctx.env;
      try {
        const { commit } = await gitCheckout(
          { url, revision },
          { dest: opts.dest, timeoutMs: seconds * 1000, allowFile: opts.allowFile === true, credentials: password ? { username: username || 'git', password } : null },
        );
        if (opts.path !== undefined) await readCheckedOutTest(opts.dest, opts.path, `${displayUrl(url)} at ${revision}`);
        if (opts.terminationLog) await writeFile(opts.terminationLog, commit);
        ctx.out(commit);
        ctx.err(`checked out ${displayUrl(url)} at ${revision} (${commit})`);
      } catch (error) {
        if (opts.terminationLog) await writeFile(opts.terminationLog, error instanceof Error ? error.message : String(error)).catch(() => {});
        if (error instanceof TopasError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
