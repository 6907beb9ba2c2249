/** `topas test quarantine` / `unquarantine`: a test's failures stop (or start again) failing runs. */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A test id from what the user typed: the 16-hex-digit id, else the key (`classname::name`), hashed as the server does. */
export function testIdOf(input: string): string {
  return /^[0-9a-f]{16}$/.test(input) ? input : createHash('md5').update(input, 'utf8').digest('hex').slice(0, 16);
}

export function registerQuarantine(test: Command, ctx: CliContext): void {
  test
    .command('quarantine <idOrKey>')
    .description('quarantine a test case (its id, or its key `classname::name`): it still runs and is recorded, but its failures no longer fail runs')
    .requiredOption('--reason <text>', 'why (1..500 characters; shown next to the test and kept in the audit log)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (input: string, opts: { reason: string; server?: string }) => {
      const t = await ctx.client(opts.server).quarantineTest(testIdOf(input), opts.reason);
      ctx.out(`test ${JSON.stringify(t.key)} is quarantined: ${t.quarantine?.reason ?? ''}`);
    });
  test
    .command('unquarantine <idOrKey>')
    .description('release a test case from quarantine: its next failure fails the run again')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (input: string, opts: { server?: string }) => {
      const t = await ctx.client(opts.server).releaseTest(testIdOf(input));
      ctx.out(`test ${JSON.stringify(t.key)} is no longer quarantined`);
    });
}
