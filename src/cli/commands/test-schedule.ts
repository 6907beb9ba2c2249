/** `topas test schedule`: start a run from a script file, a definition or a git repository, optionally wait for it. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { TopasError } from '../../core/errors.js';
import { appNameFromHeader } from '../../core/script-header.js';
import { bundleTestFolder } from '../../runner/test-folder.js';
import { ApiError, CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { exitCodeFor, watchRun } from '../watch-run.js';
import { writeReport } from './report-junit.js';
import { scheduleOnCluster, withKubeFlags, type KubeFlags } from '../kube/kube-testruns.js';

interface ScheduleOptions extends KubeFlags {
  script?: string;
  definition?: string;
  git?: string;
  gitPath?: string;
  gitRevision?: string;
  name?: string;
  env: string[];
  timeout?: string;
  label: string[];
  app?: string;
  readOnly?: boolean;
  wait?: boolean;
  json?: boolean;
  junit?: string;
  server?: string;
  bundle: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `K=V` pairs of a repeatable flag into an object; the flag is named in errors. */
export function parsePairs(flag: string, pairs: string[]): Record<string, string> | undefined {
  if (!pairs.length) return undefined;
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${flag} ${pair}: expected KEY=value`);
    result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
}

async function readScript(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError(`cannot read script ${file}: ${why}`);
  }
}

/** The script's folder files, or a CLI error saying why they cannot travel. */
async function bundleOrExplain(script: string): Promise<Record<string, string>> {
  try {
    return await bundleTestFolder(script);
  } catch (err) {
    if (err instanceof TopasError) throw new CliError(err.message);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && err instanceof Error) throw new CliError(`cannot read the folder of ${script}: ${err.message} (--no-bundle sends the script alone)`);
    throw err;
  }
}

/** A server message about `source.git.*` in the flags' words (`--git-path: must be ...`). */
function namingGitFlags(message: string): string {
  return message.replace(/\bsource\.git\.url:/g, '--git:').replace(/\bsource\.git\.path:/g, '--git-path:').replace(/\bsource\.git\.revision:/g, '--git-revision:');
}

export function registerSchedule(test: Command, ctx: CliContext): void {
  const command = test
    .command('schedule')
    .description('start a test run from a Lua file, a stored definition or a git repository')
    .option('--script <file>', 'Lua file to run')
    .option('--definition <nameOrId>', 'stored test definition to run: its name, its id, or the ID that "test list" shows')
    .option('--git <url>', 'run a test from a git repository (https://, or file:// on a server started with --git-allow-file); with --git-path')
    .option('--git-path <path>', "the script's path inside the repository, e.g. tests/smoke.lua (its folder's files come with it)")
    .option('--git-revision <rev>', "branch, tag or commit SHA to check out (default HEAD: the repository's default branch)")
    .option('--name <name>', 'display name of the run (default: file or definition name)')
    .option('--env <KEY=value>', 'environment variable for the script (repeatable)', collect, [])
    .option('--timeout <seconds>', 'wall-clock limit of the run in seconds')
    .option('--label <key=value>', 'label to filter runs by (repeatable)', collect, [])
    .option('--app <name>', 'the App (system under test) the run targets; its services resolve as host names and `sut` acts on it (default: an "-- app: NAME" line in the script header)')
    .option('--read-only', 'the run only reads the App (no sut changes): it may overlap other read-only runs of the App')
    .option('--wait', 'stream logs and steps until the run ends; exit 0 passed, 1 failed, 2 error/timed out/cancelled')
    .option('--json', 'print the run as JSON (the final run with --wait)')
    .option('--junit <file>', 'with --wait: write the run\'s JUnit XML report to this file when it ends (for CI test reports)')
    .option('--server <url>', 'topas API URL (default TOPAS_URL or http://127.0.0.1:4000)')
    .option('--no-bundle', "send the script alone, without the other files of its folder (Lua modules, Postman collections, .proto files)");
  withKubeFlags(command).action(async (opts: ScheduleOptions) => {
      const sources = [opts.script && '--script', opts.definition && '--definition', opts.git && '--git'].filter(Boolean);
      if (sources.length !== 1) {
        throw new CliError(`give exactly one of --script FILE, --definition NAME and --git URL${sources.length ? ` (got ${sources.join(' and ')})` : ''}`);
      }
      if (opts.junit !== undefined && !opts.wait) throw new CliError('--junit FILE needs --wait: the report is written when the run ends');
      if (opts.junit !== undefined && opts.kube) throw new CliError('--junit goes with the topas API, not --kube (read the report later with: topas report junit)');
      if (opts.git && !opts.gitPath) throw new CliError("--git needs --git-path PATH: the script's path inside the repository (e.g. tests/smoke.lua)");
      if (!opts.git && (opts.gitPath || opts.gitRevision)) throw new CliError(`${opts.gitPath ? '--git-path' : '--git-revision'} goes with --git URL`);
      const script = opts.script ? await readScript(opts.script) : undefined;
      // `-- app: NAME` in the script's header names its App when --app does not
      const app = opts.app ?? (script === undefined ? undefined : (appNameFromHeader(script) ?? undefined));
      if (opts.readOnly && !app) throw new CliError('--read-only needs --app NAME (or an "-- app: NAME" line in the script header)');
      let timeoutSeconds: number | undefined;
      if (opts.timeout !== undefined) {
        timeoutSeconds = Number(opts.timeout);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw new CliError(`--timeout ${opts.timeout}: expected a whole number of seconds`);
      }
      const common = {
        name: opts.name,
        env: parsePairs('--env', opts.env),
        labels: parsePairs('--label', opts.label),
        timeoutSeconds,
        appName: app,
        ...(opts.readOnly ? { appReadOnly: true } : {}),
        origin: 'cli',
      };
      if (opts.kube) {
        await scheduleOnCluster(ctx, {
          kube: true,
          namespace: opts.namespace,
          context: opts.context,
          kubeconfig: opts.kubeconfig,
          name: opts.name,
          wait: opts.wait,
          json: opts.json,
          readOnly: opts.readOnly,
          bundle: opts.bundle,
          ...(opts.script ? { script: opts.script, scriptText: script! } : {}),
          ...(opts.git ? { git: { url: opts.git, path: opts.gitPath!, ...(opts.gitRevision ? { revision: opts.gitRevision } : {}) } } : {}),
          ...(opts.definition ? { definition: opts.definition } : {}),
          ...(common.env ? { env: common.env } : {}),
          ...(common.labels ? { labels: common.labels } : {}),
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(app ? { appName: app } : {}),
        });
        return;
      }
      const client = ctx.client(opts.server);
      const body = opts.git
        ? { ...common, source: { git: { url: opts.git, path: opts.gitPath!, ...(opts.gitRevision ? { revision: opts.gitRevision } : {}) } } }
        : opts.script
        ? {
            ...common,
            script: script!,
            fileName: basename(opts.script),
            ...(opts.bundle ? { files: await bundleOrExplain(opts.script) } : {}),
          }
        : { ...common, definitionId: await client.resolveDefinitionId(opts.definition!) };
      const run = await client.createRun(body).catch((err: unknown) => {
        // the server names the request's fields; the user typed flags
        if (err instanceof ApiError && err.status === 400 && opts.git) throw new CliError(namingGitFlags(err.message), err.exitCode);
        throw err;
      });

      if (!opts.wait) {
        if (opts.json) ctx.out(JSON.stringify(run, null, 2));
        else {
          ctx.out(run.id);
          ctx.err(ctx.errStyle.dim(`scheduled ${JSON.stringify(run.name)} — follow it with: topas test logs ${run.id} -f`));
        }
        return;
      }
      if (!opts.json) ctx.out(ctx.style.dim(`run ${run.id} ${JSON.stringify(run.name)} queued`));
      const final = await watchRun(ctx, client, run.id, { print: !opts.json, steps: true });
      if (opts.junit !== undefined) {
        await writeReport(opts.junit, await client.runJUnit(run.id));
        if (!opts.json) ctx.err(ctx.errStyle.dim(`wrote the JUnit report to ${opts.junit}`));
      }
      if (opts.json) ctx.out(JSON.stringify(final, null, 2));
      ctx.exitCode = exitCodeFor(final.phase);
    });
}
