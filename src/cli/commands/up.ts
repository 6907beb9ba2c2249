/** `topas up`: start the embedded platform in this process. */
import type { Command } from 'commander';
import { loadConfig, type ConfigFlags, type TopasConfig } from '../../config/config.js';
import { ValidationError } from '../../core/errors.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';

/** Where runs are kept, without credentials. */
function describeDatabase(config: TopasConfig): string {
  if (!config.databaseUrl) return `embedded PGlite in ${config.dataDir}`;
  try {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL at ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

export function registerUp(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('start topas here: REST API, scheduler and local executor on an embedded database')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1, or TOPAS_HOST)')
    .option('--port <port>', 'port to listen on, 0 for any free port (default 4000, or TOPAS_PORT)')
    .option('--data <dir>', 'data folder of the embedded database (default ./.topas, or TOPAS_DATA_DIR)')
    .option('--concurrency <n>', 'global limit on runs executing at once (default 2 × CPU cores, at least 4)')
    .option('--workers <n>', 'Lua worker threads (default: CPU cores)')
    .option('--no-examples', 'do not load the bundled example tests')
    .action(async (opts: ConfigFlags & { examples: boolean }, command: Command) => {
      const flags: ConfigFlags = { host: opts.host, port: opts.port, data: opts.data, concurrency: opts.concurrency, workers: opts.workers };
      if (command.getOptionValueSource('examples') === 'cli') flags.examples = opts.examples;
      let config: TopasConfig;
      try {
        config = loadConfig(flags, ctx.env);
      } catch (err) {
        if (err instanceof ValidationError) throw new CliError(`invalid setting ${err.message}`);
        throw err;
      }
      ctx.err(ctx.errStyle.dim(`starting topas on ${config.host}:${config.port}…`));
      const { startTopas } = await import('../../server/start.js');
      const { createStreamLogger } = await import('../../server/logger.js');
      // Engine, App controller and store failures, structured, on stderr (TOPAS_LOG_LEVEL, TOPAS_LOG_FORMAT).
      const log = createStreamLogger({ level: config.logLevel, format: config.logFormat, stream: { write: (line) => ctx.err(line.trimEnd()) } });
      let topas: Awaited<ReturnType<typeof startTopas>>;
      try {
        topas = await startTopas(config, { log });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EADDRINUSE') throw new CliError(`cannot listen on ${config.host}:${config.port}: the port is in use — choose another with --port`);
        if (code === 'EACCES') throw new CliError(`cannot listen on ${config.host}:${config.port}: permission denied — choose a port above 1023`);
        throw err;
      }
      const s = ctx.style;
      ctx.out(`topas is running at ${s.bold(topas.url)}`);
      ctx.out(`  dashboard:   ${s.bold(`${topas.url}/`)}   (open it in a browser)`);
      ctx.out(`  database:    ${describeDatabase(config)}`);
      ctx.out(`  concurrency: ${config.concurrency} runs at once, ${config.workers} Lua workers`);
      const apps = await topas.apps.list();
      if (apps.length) ctx.out(`  apps:        ${apps.map((a) => a.metadata.name).join(', ')}   (npx topas app status)`);
      ctx.out(s.dim(`  try: TOPAS_URL=${topas.url} npx topas test status   (Ctrl-C stops)`));

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        ctx.err(`${signal}: stopping topas…`);
        topas.close().then(
          () => process.exit(0),
          (err: unknown) => {
            ctx.err(`error: stopping failed: ${(err as Error).message}`);
            process.exit(2);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
