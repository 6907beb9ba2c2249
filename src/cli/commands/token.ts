/** `topas token create/list/revoke/url`: API tokens with roles, and dashboard login links (admin). */
import type { Command } from 'commander';
import { isRole, ROLES } from '../../core/roles.js';
import { TOKEN_NAME } from '../../core/token.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { formatAgo, table } from '../format.js';

const SERVER_HELP = 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)';

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('create, list and revoke API tokens; make dashboard login links (needs an admin token)');

  token
    .command('create')
    .description('create an API token and print its secret (shown this once; topas keeps only a hash)')
    .requiredOption('--name <name>', 'a name for it, unique among live tokens (e.g. ci, alice)')
    .requiredOption('--role <role>', `what it may do: ${ROLES.join(' < ')}`)
    .option('--server <url>', SERVER_HELP)
    .action(async (opts: { name: string; role: string; server?: string }) => {
      if (!isRole(opts.role)) throw new CliError(`--role ${opts.role}: expected one of ${ROLES.join(', ')}`);
      if (!TOKEN_NAME.test(opts.name)) throw new CliError(`--name ${opts.name}: use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`);
      const created = await ctx.client(opts.server).createToken(opts.name, opts.role);
      ctx.out(created.token);
      ctx.err(ctx.errStyle.dim(`token ${JSON.stringify(created.name)} (${created.role}, id ${created.id}) created — the secret above is shown once; use it as TOPAS_TOKEN or "Authorization: Bearer …"`));
    });

  token
    .command('list')
    .description('list API tokens (never their secrets)')
    .option('--json', 'print them as JSON')
    .option('--server <url>', SERVER_HELP)
    .action(async (opts: { json?: boolean; server?: string }) => {
      const tokens = await ctx.client(opts.server).listTokens();
      if (opts.json) return ctx.out(JSON.stringify(tokens, null, 2));
      ctx.out(
        table(
          ['ID', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'STATUS'],
          tokens.map((t) => [t.id, t.name, t.role, formatAgo(t.createdAt), formatAgo(t.lastUsedAt), t.revokedAt ? `revoked ${formatAgo(t.revokedAt)}` : 'active']),
          ctx.style,
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke a token by id or name: it and the dashboard sessions made from it stop working at once')
    .argument('<idOrName>', 'the token id, or the name of a live token')
    .option('--server <url>', SERVER_HELP)
    .action(async (idOrName: string, opts: { server?: string }) => {
      await ctx.client(opts.server).revokeToken(idOrName);
      ctx.out(`token ${idOrName} revoked`);
    });

  token
    .command('url')
    .description('print a one-time dashboard login URL (valid 15 minutes, works once, logs in as the token used)')
    .option('--server <url>', SERVER_HELP)
    .action(async (opts: { server?: string }) => {
      ctx.out(await ctx.client(opts.server).loginUrl());
    });
}
