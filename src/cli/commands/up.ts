/** `topas up`: start the embedded platform in this process. */
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig, type ConfigFlags, type TopasConfig } from '../../config/config.js';
import { ValidationError } from '../../core/errors.js';
import { describeDays, retentionEnabled, type RetentionPolicy } from '../../core/retention.js';
import { DataFolderInUseError } from '../../store/data-folder-lock.js';
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

/** `runs 30 days (env=prod: 90 days), logs 7 days`; null when everything is kept. */
export function describeRetention(policy: RetentionPolicy): string | null {
  if (!retentionEnabled(policy)) return null;
  const overrides = policy.overrides.map((o) => `${o.label}=${o.value}: ${describeDays(o.days)}`).join(', ');
  const runs = `runs ${describeDays(policy.days)}${overrides ? ` (${overrides})` : ''}`;
  return policy.logDays === null ? runs : `${runs}, logs ${describeDays(policy.logDays)}`;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * How to call the CLI from here: `npx topas` inside the checkout (or a project that
 * has topas as a dependency), plain `topas` where it was installed globally.
 */
export function commandName(cwd = process.cwd()): string {
  const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));
  // The project that holds the package: the checkout itself, or the folder whose node_modules has it.
  const marker = `${sep}node_modules${sep}`;
  const owner = packageRoot.includes(marker) ? packageRoot.slice(0, packageRoot.lastIndexOf(marker)) : packageRoot;
  const rel = relative(owner, cwd);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? 'npx topas' : 'topas';
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
    .option('--allowed-host <name>', 'also answer requests for this host name (repeatable; default: only localhost, 127.0.0.1, [::1] on a loopback address; or TOPAS_ALLOWED_HOSTS)', collect, [])
    .option('--insecure-no-auth', 'turn authentication off: anyone who can reach the port can run commands as this user (only for trusted networks)')
    .option('--kubernetes', 'run tests as runner Pods and reconcile TestRun resources in the cluster of the kubeconfig (or TOPAS_KUBERNETES=1)')
    .option('--kubeconfig <file>', 'with --kubernetes: the kubeconfig (default KUBECONFIG, else ~/.kube/config, else in-cluster)')
    .option('--context <name>', 'with --kubernetes: the kubeconfig context')
    .option('--namespace <ns>', "with --kubernetes: namespace of API runs' Pods and of the leader Lease (default: the context's; or TOPAS_NAMESPACE)")
    .option('--watch-namespace <ns>', 'with --kubernetes: reconcile TestRuns of this namespace only (default all; or TOPAS_WATCH_NAMESPACE)')
    .option('--runner-image <image>', 'with --kubernetes: the runner Pods\' image (or TOPAS_RUNNER_IMAGE)')
    .option('--runner-server-url <url>', 'with --kubernetes or --nats: the URL runner Pods or workers reach this server at (default: its own URL; or TOPAS_RUNNER_SERVER_URL)')
    .option('--nats <url>', 'hand runs to `topas worker` processes through this NATS JetStream server, e.g. nats://127.0.0.1:4222 (or TOPAS_NATS_URL)')
    .option('--nats-stream <name>', 'with --nats: the JetStream stream of the work queue (default TOPAS_RUNS; or TOPAS_NATS_STREAM)')
    .option('--nats-subject <prefix>', 'with --nats: the subject prefix of run messages (default topas.runs; or TOPAS_NATS_SUBJECT)')
    .option('--categories <file>', 'failure-category rules (categories.yaml), stored at start when they differ from the stored ones (or TOPAS_CATEGORIES_FILE)')
    .option('--git-allow-file', "let git sources use file:// URLs, which read this machine's disk (or TOPAS_GIT_ALLOW_FILE=1; default: refused)")
    .option('--retention-days <days>', 'delete finished runs this many days after they finished (or TOPAS_RETENTION_DAYS; default: keep forever)')
    .option('--retention <label=value:days>', 'keep runs with this label longer, e.g. env=prod:90 or release=true:forever (repeatable; or TOPAS_RETENTION_OVERRIDES, a comma list)', collect, [])
    .option('--log-retention-days <days>', "delete finished runs' log lines this many days after they finished, keeping the runs (or TOPAS_LOG_RETENTION_DAYS; default: as long as the run)")
    .action(async (opts: ConfigFlags & { examples: boolean; allowedHost: string[]; insecureNoAuth?: boolean; retention: string[] }, command: Command) => {
      const flags: ConfigFlags = {
        host: opts.host,
        port: opts.port,
        data: opts.data,
        concurrency: opts.concurrency,
        workers: opts.workers,
        allowedHosts: opts.allowedHost,
        insecureNoAuth: opts.insecureNoAuth === true,
        kubernetes: opts.kubernetes === true,
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        namespace: opts.namespace,
        watchNamespace: opts.watchNamespace,
        runnerImage: opts.runnerImage,
        runnerServerUrl: opts.runnerServerUrl,
        nats: opts.nats,
        natsStream: opts.natsStream,
        natsSubject: opts.natsSubject,
        gitAllowFile: opts.gitAllowFile === true,
        categories: opts.categories,
        retentionDays: opts.retentionDays,
        retentionOverrides: opts.retention,
        logRetentionDays: opts.logRetentionDays,
      };
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
        // Another topas serves this data folder: say which, change nothing, exit 2.
        if (err instanceof DataFolderInUseError) throw new CliError(err.message);
        // --kubernetes: no usable kubeconfig, or the cluster does not answer.
        if (code === 'KubeConfigInvalid' || code === 'KubeUnreachable') throw new CliError(`--kubernetes: ${(err as Error).message}`);
        if (code === 'NatsUnavailable') throw new CliError(`--nats: ${(err as Error).message}`);
        if (code === 'EADDRINUSE') throw new CliError(`cannot listen on ${config.host}:${config.port}: the port is in use — choose another with --port`);
        if (code === 'EACCES') throw new CliError(`cannot listen on ${config.host}:${config.port}: permission denied — choose a port above 1023`);
        throw err;
      }
      const s = ctx.style;
      const cli = commandName();
      ctx.out(`topas is running at ${s.bold(topas.url)}`);
      if (topas.admin) {
        ctx.out(`  dashboard:   ${s.bold(topas.loginUrl())}`);
        ctx.out(s.dim(`               (a one-time login link, valid 15 minutes; a new one: ${cli} token url)`));
        ctx.out(
          topas.admin.file
            ? `  admin token: ${topas.admin.file}   (the CLI here reads it; other tokens: ${cli} token create --role runner --name ci)`
            : `  admin token: from TOPAS_ADMIN_TOKEN   (set TOPAS_TOKEN to it for the CLI)`,
        );
      } else {
        ctx.out(`  dashboard:   ${s.bold(topas.loginUrl())}   (open it in a browser)`);
        ctx.err(ctx.errStyle.red(`WARNING: authentication is OFF (--insecure-no-auth): anyone who can reach ${topas.url} can run commands as this user.`));
      }
      ctx.out(`  database:    ${describeDatabase(config)}`);
      if (config.kubernetes) {
        const k = config.kubernetes;
        ctx.out(`  concurrency: ${config.concurrency} runs at once, each in a runner Pod (${k.runnerImage})`);
        ctx.out(`  kubernetes:  TestRuns of ${k.watchNamespace ? `namespace ${k.watchNamespace}` : 'every namespace'}; leader election ${k.leaderElection ? 'on' : 'off'}   (kubectl get testruns)`);
      } else if (config.nats) {
        ctx.out(`  concurrency: ${config.concurrency} runs at once, each on a topas worker pulling from NATS`);
        ctx.out(`  nats:        stream ${config.nats.stream} at ${config.nats.url.replace(/\/\/[^@/]*@/, '//')}   (start workers: ${cli} worker --nats ${config.nats.url.replace(/\/\/[^@/]*@/, '//')})`);
      } else ctx.out(`  concurrency: ${config.concurrency} runs at once, ${config.workers} Lua workers`);
      const retention = describeRetention(config.retention);
      if (retention) ctx.out(`  retention:   ${retention}`);
      const apps = await topas.apps.list();
      if (apps.length) ctx.out(`  apps:        ${apps.map((a) => a.metadata.name).join(', ')}   (${cli} app status)`);
      ctx.out(s.dim(`  try: TOPAS_URL=${topas.url} ${cli} test status   (Ctrl-C stops)`));

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
