/** `topas app apply/status/delete`: Apps (systems under test), as kubectl would handle them. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { AppFileError, readAppFile } from '../../apps/app-file.js';
import { isConditionTrue, type App, type ServiceStatus } from '../../core/app.js';
import { CliError } from '../cli-error.js';
import type { TopasClient } from '../client.js';
import type { CliContext } from '../context.js';
import { formatAgo, table, type Style } from '../format.js';

interface ServerOption {
  server?: string;
}

export function registerApp(program: Command, ctx: CliContext): void {
  const app = program.command('app').description('apply, inspect and delete Apps (the systems under test)');

  app
    .command('apply')
    .description('create or update Apps from a YAML file (apiVersion topas.dev/v1alpha1, kind App)')
    .requiredOption('-f, --file <file>', 'App file (YAML or JSON; several documents allowed)')
    .option('--wait', 'wait until every applied App is Ready')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds (default 120)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (opts: ServerOption & { file: string; wait?: boolean; timeout?: string }) => {
      const timeoutMs = opts.timeout === undefined ? 120_000 : Number(opts.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError(`--timeout ${opts.timeout}: expected a number of seconds`);
      let manifests;
      try {
        manifests = await readAppFile(opts.file);
      } catch (err) {
        if (err instanceof AppFileError) throw new CliError(err.message);
        throw err;
      }
      const client = ctx.client(opts.server);
      for (const manifest of manifests) {
        const { app: applied, created } = await client.applyApp(manifest.metadata.name, manifest);
        ctx.out(`app/${applied.metadata.name} ${created ? 'created' : 'configured'} (generation ${applied.metadata.generation})`);
      }
      if (!opts.wait) return;
      const deadline = Date.now() + timeoutMs;
      for (const manifest of manifests) await waitReady(ctx, client, manifest.metadata.name, deadline, timeoutMs);
    });

  app
    .command('status')
    .description('show Apps with their services, databases and conditions')
    .argument('[name]', 'one App (default: all)')
    .option('-o, --output <format>', 'text, yaml or json', 'text')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (name: string | undefined, opts: ServerOption & { output: string }) => {
      if (!['text', 'yaml', 'json'].includes(opts.output)) throw new CliError(`--output ${opts.output}: expected text, yaml or json`);
      const client = ctx.client(opts.server);
      const apps = name ? [await client.getApp(name)] : await client.listApps();
      if (opts.output === 'json') return ctx.out(JSON.stringify(name ? apps[0] : { items: apps }, null, 2));
      if (opts.output === 'yaml') return ctx.out(apps.map((a) => stringify(a).trimEnd()).join('\n---\n'));
      if (!apps.length) return ctx.out('No Apps. Create one with: topas app apply -f app.yaml');
      if (!name) {
        ctx.out(
          table(
            ['NAME', 'READY', 'SERVICES', 'DATABASES', 'GENERATION', 'AGE'],
            apps.map((a) => [
              a.metadata.name,
              readyWord(a),
              a.status.services.map((s) => `${s.name} ${s.readyReplicas}/${s.replicas}`).join(', ') || '-',
              a.status.databases.map((d) => `${d.name}${d.ready ? '' : ' (not ready)'}`).join(', ') || '-',
              String(a.metadata.generation),
              formatAgo(a.metadata.creationTimestamp),
            ]),
            ctx.style,
          ),
        );
        return;
      }
      ctx.out(formatApp(ctx.style, apps[0]!));
    });

  app
    .command('delete')
    .description('stop an App and remove it, its databases included')
    .argument('<name>', 'the App')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .action(async (name: string, opts: ServerOption) => {
      await ctx.client(opts.server).deleteApp(name);
      ctx.out(`app/${name} deleted`);
    });
}

/**
 * Waits until the App is Ready on its current generation, printing a progress line
 * each time it changes. Gives up (exit 2) at the deadline, or at once when a service
 * is crash looping (it will not become ready by itself), with the replicas' last lines.
 */
async function waitReady(ctx: CliContext, client: TopasClient, name: string, deadline: number, timeoutMs: number): Promise<void> {
  let shown = '';
  for (;;) {
    const current = await client.getApp(name);
    const observed = current.status.observedGeneration >= current.metadata.generation;
    if (observed && isConditionTrue(current.status, 'Ready')) {
      ctx.out(`app/${name} ready`);
      return;
    }
    const line = progressLine(current);
    if (line !== shown) ctx.out(ctx.style.dim(line));
    shown = line;
    const looping = observed ? current.status.services.find((s) => s.reason === 'CrashLoopBackOff') : undefined;
    if (looping) throw new CliError(crashLoopReport(name, looping));
    if (Date.now() >= deadline) {
      ctx.err(formatApp(ctx.errStyle, current));
      throw new CliError(`app/${name} is not ready after ${Math.round(timeoutMs / 1000)} s`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `app/shop: web 1/2 ready (replica 1 not ready: ...); db starting` — what an App waits for. */
export function progressLine(a: App): string {
  const services = a.status.services.map((s) => {
    const restarts = s.restarts ? `, ${s.restarts} restart${s.restarts === 1 ? '' : 's'}` : '';
    return `${s.name} ${s.readyReplicas}/${s.replicas} ready${restarts}${s.message ? ` (${s.message})` : ''}`;
  });
  const databases = a.status.databases.map((d) => `${d.name} ${d.ready ? 'ready' : (d.message ?? 'starting')}`);
  return `app/${a.metadata.name}: ${[...services, ...databases].join('; ') || 'nothing to run'}`;
}

/** Why waiting is pointless: the service's state and each crashing replica's last exit and lines. */
function crashLoopReport(app: string, service: ServiceStatus): string {
  const out = [`app/${app}: service ${service.name} is crash looping, every replica exits soon after it starts: ${service.message ?? 'see topas app status'}`];
  for (const r of service.replicaStatuses ?? []) {
    if (!r.lastExit) continue;
    out.push(`  replica ${r.index} (${r.version}, ${r.restarts} restart${r.restarts === 1 ? '' : 's'}): ${r.lastExit}`);
    if (r.lastLog?.length) out.push(`    last lines:`, ...r.lastLog.map((l) => `      ${l}`));
  }
  out.push(`fix the service's command or configuration and apply again; its whole output is in the data folder, apps/${app}/logs/${service.name}.log`);
  return out.join('\n');
}

function readyWord(a: App): string {
  if (a.status.observedGeneration < a.metadata.generation) return 'Progressing';
  return isConditionTrue(a.status, 'Ready') ? 'True' : isConditionTrue(a.status, 'Degraded') ? 'Degraded' : 'False';
}

const addr = (e: { host: string; port: number } | null) => (e ? `${e.host}:${e.port}` : '-');

/** One App in detail, like `kubectl describe`. */
export function formatApp(style: Style, a: App): string {
  const out: string[] = [];
  out.push(`${style.bold('App')} ${a.metadata.name}   ${style.bold('Generation')} ${a.metadata.generation} (observed ${a.status.observedGeneration})   ${style.bold('Ready')} ${readyWord(a)}`);
  if (a.status.services.length) {
    out.push('', table(
      ['SERVICE', 'VERSION', 'READY', 'RESTARTS', 'ENDPOINT'],
      a.status.services.map((s) => [
        s.name,
        s.version,
        `${s.readyReplicas}/${s.replicas}`,
        String(s.restarts),
        [addr(s.endpoint), ...Object.entries(s.ports ?? {}).map(([n, e]) => `${n}=${addr(e)}`)].join(' '),
      ]),
      style,
    ));
  }
  if (a.status.databases.length) {
    out.push('', table(
      ['DATABASE', 'ENGINE', 'READY', 'ENDPOINT', 'INITIALIZED'],
      a.status.databases.map((d) => [d.name, d.engine, d.ready ? 'yes' : 'no', addr(d.endpoint), d.initializedAt ? formatAgo(d.initializedAt) : '-']),
      style,
    ));
  }
  if (a.status.conditions.length) {
    out.push('', table(
      ['CONDITION', 'STATUS', 'REASON', 'MESSAGE', 'SINCE'],
      a.status.conditions.map((c) => [c.type, c.status, c.reason, c.message, formatAgo(c.lastTransitionTime)]),
      style,
    ));
  }
  return out.join('\n');
}
