/**
 * `--kube`: the test commands against a cluster instead of a topas server. A run is
 * a `TestRun` resource there: `schedule` creates one, `status` and `logs` read it by
 * name, and `--wait` / `-f` follow its runner Pod's log until the TestRun ends. The
 * cluster is found as kubectl finds it (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`).
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { TopasError } from '../../core/errors.js';
import { isTerminal, type RunPhase } from '../../core/run-phase.js';
import { contextNamespace, loadKubeConfig } from '../../kube/kube-config.js';
import { isAlreadyExists, isNotFound, KubeApi, KubeApiError, RESOURCES, type KubeObject } from '../../kube/kube-api.js';
import { RUNNER_CONTAINER } from '../../kubernetes/manifests/runner-pod.js';
import { bundleTestFolder } from '../../runner/test-folder.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { formatDuration, paintPhase } from '../format.js';
import { exitCodeFor } from '../watch-run.js';
import { filesOwnerPatch, scheduleManifests } from './testrun-manifest.js';
import { SourceTooLargeError } from '../../kubernetes/manifests/source-config-map.js';

export interface KubeFlags {
  kube?: boolean;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

/** Adds `--kube`, `--namespace`, `--context`, `--kubeconfig` to a command. */
export function withKubeFlags(command: Command): Command {
  return command
    .option('--kube', 'act on TestRun resources in a Kubernetes cluster instead of a topas server')
    .option('-n, --namespace <ns>', "with --kube: the namespace (default: the kubeconfig context's, else default)")
    .option('--context <name>', 'with --kube: the kubeconfig context to use')
    .option('--kubeconfig <file>', 'with --kube: the kubeconfig file (default KUBECONFIG, else ~/.kube/config)');
}

/** The cluster the flags name, as kubectl would pick it. */
export function kubeTarget(ctx: CliContext, flags: KubeFlags): { api: KubeApi; namespace: string } {
  try {
    const kc = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), env: ctx.env });
    return { api: new KubeApi(kc), namespace: flags.namespace || contextNamespace(kc) };
  } catch (error) {
    if (error instanceof TopasError) throw new CliError(error.message);
    throw error;
  }
}

/** What the CLI reads of a TestRun. */
export interface TestRunObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    phase?: RunPhase;
    runId?: string;
    podName?: string;
    startTime?: string;
    completionTime?: string;
    reason?: string;
    message?: string;
    summary?: { stepsPassed?: number; stepsFailed?: number; assertionsPassed?: number; assertionsFailed?: number };
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** A Kubernetes API answer as a CLI error that names the resource. */
export function kubeError(error: unknown, what: string): never {
  if (error instanceof KubeApiError) {
    if (error.status === 404) throw new CliError(`${what} not found`);
    throw new CliError(`${what}: ${error.message}`);
  }
  if (error instanceof TopasError) throw new CliError(error.message);
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') throw new CliError(`the Kubernetes API does not answer (${(error as Error).message})`);
  throw error;
}

export async function getTestRun(api: KubeApi, namespace: string, name: string): Promise<TestRunObject> {
  try {
    return await api.get<TestRunObject>(RESOURCES.testRun, namespace, name);
  } catch (error) {
    kubeError(error, `TestRun ${namespace}/${name}`);
  }
}

/** Creates the TestRun and returns it; null when its name is taken and `nullIfExists`. */
export async function createTestRun(api: KubeApi, namespace: string, testRun: TestRunObject, nullIfExists = false): Promise<TestRunObject | null> {
  try {
    return await api.create<TestRunObject>(RESOURCES.testRun, namespace, testRun);
  } catch (error) {
    if (nullIfExists && isAlreadyExists(error)) return null;
    if (isNotFound(error)) throw new CliError('the cluster does not know TestRuns: install the CRDs first (topas crds | kubectl apply -f -)');
    kubeError(error, 'creating the TestRun');
  }
}

/** The lines `test status NAME --kube` prints. */
export function formatTestRun(ctx: CliContext, tr: TestRunObject): string {
  const s = ctx.style;
  const st = tr.status ?? {};
  const phase = st.phase ?? 'Queued';
  const sum = st.summary ?? {};
  const duration = st.startTime && st.completionTime ? Date.parse(st.completionTime) - Date.parse(st.startTime) : null;
  const lines = [
    `${s.bold(`${tr.metadata.namespace}/${tr.metadata.name}`)}  ${paintPhase(s, phase)}${st.reason && phase !== 'Passed' ? ` (${st.reason})` : ''}`,
    `run       ${st.runId ?? '-'}`,
    `pod       ${st.podName ?? '-'}`,
    `duration  ${formatDuration(duration)}`,
    `steps     ${sum.stepsPassed ?? 0} passed, ${sum.stepsFailed ?? 0} failed; assertions ${sum.assertionsPassed ?? 0} passed, ${sum.assertionsFailed ?? 0} failed`,
  ];
  if (st.message && phase !== 'Passed') lines.push(`message   ${st.message}`);
  if (st.conditions?.length) {
    lines.push('conditions');
    for (const c of st.conditions) lines.push(`  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`);
  }
  return lines.join('\n');
}

export interface FollowOptions {
  /** Print the runner's log as it comes. */
  print: boolean;
  /** How often the TestRun is read while waiting. Default 500 ms. */
  pollMs?: number;
  /** How long to wait for the rest of the log once the TestRun ended. Default 5 s. */
  drainMs?: number;
}

/**
 * Follows a TestRun to its end: streams its runner Pod's log once the runner container
 * has started (until then the API server refuses the log, so it is asked again at the
 * next look), and returns the TestRun as it ended. The exit code is the run's (`exitCodeFor`).
 */
export async function followTestRun(ctx: CliContext, api: KubeApi, namespace: string, name: string, options: FollowOptions): Promise<TestRunObject> {
  const pollMs = options.pollMs ?? 500;
  let logs: Promise<void> | null = null;
  let streamed = false;
  const abort = new AbortController();
  const follow = (podName: string): Promise<void> => {
    let carry = '';
    return api
      .followPodLog(namespace, podName, { container: RUNNER_CONTAINER }, (text) => {
        streamed = true;
        const parts = (carry + text).split('\n');
        carry = parts.pop()!;
        for (const line of parts) ctx.out(line);
      }, abort.signal)
      .then(() => {
        if (carry) ctx.out(carry);
      })
      .catch(() => {
        // Not started yet (asked again at the next look), or gone (deleted, TTL): the status still says how the run ended.
        if (!streamed) logs = null;
      });
  };
  try {
    for (;;) {
      const tr = await getTestRun(api, namespace, name);
      const st = tr.status ?? {};
      if (options.print && st.podName && !logs && st.phase !== 'Queued') logs = follow(st.podName);
      if (st.phase && isTerminal(st.phase)) {
        // The log stream ends with the container, a moment after the runner reported the end.
        if (logs) await Promise.race([logs, new Promise((r) => setTimeout(r, options.drainMs ?? 5000).unref())]);
        return tr;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    abort.abort();
  }
}

/** Prints how the TestRun ended and sets the exit code. */
export function reportEnd(ctx: CliContext, tr: TestRunObject): void {
  const st = tr.status ?? {};
  const phase = st.phase ?? 'Error';
  ctx.out(`${paintPhase(ctx.style, phase)} ${tr.metadata.namespace}/${tr.metadata.name}${st.message && phase !== 'Passed' ? `: ${st.message}` : ''}`);
  ctx.exitCode = exitCodeFor(phase);
}

export interface ScheduleOnClusterOptions extends KubeFlags {
  /** Exactly one source: a script file (its folder's other files go in a ConfigMap unless `bundle` is false), git, or a stored definition. */
  script?: string;
  scriptText?: string;
  bundle?: boolean;
  git?: { url: string; path: string; revision?: string };
  definition?: string;
  name?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  timeoutSeconds?: number;
  appName?: string;
  readOnly?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** `name` as the start of a DNS-1123 name. */
function nameBase(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'test'
  );
}

/** Five characters as `generateName` adds them. */
function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * `test schedule --kube`: creates a TestRun (the script's folder files first, in a
 * ConfigMap it then owns) and prints its name; with `--wait`, follows it to its end.
 */
export async function scheduleOnCluster(ctx: CliContext, opts: ScheduleOnClusterOptions): Promise<void> {
  const { api, namespace } = kubeTarget(ctx, opts);
  const base = nameBase(opts.name ?? (opts.script ? basename(opts.script).replace(/\.lua$/, '') : opts.git ? basename(opts.git.path).replace(/\.lua$/, '') : (opts.definition ?? 'test')));
  const files = opts.script && opts.bundle !== false ? await bundleOrExplain(opts.script) : {};

  let created: TestRunObject | null = null;
  for (let attempt = 0; !created; attempt++) {
    const name = `${base}-${suffix()}`;
    let built: ReturnType<typeof scheduleManifests>;
    try {
      built = scheduleManifests({
        name,
        namespace,
        source: opts.script ? { script: opts.scriptText!, fileName: basename(opts.script), files } : opts.git ? { git: opts.git } : { definition: opts.definition! },
        ...(opts.appName ? { appName: opts.appName } : {}),
        ...(opts.readOnly ? { readOnly: true } : {}),
        ...(opts.timeoutSeconds !== undefined ? { timeoutSeconds: opts.timeoutSeconds } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.labels ? { labels: opts.labels } : {}),
      });
    } catch (error) {
      if (error instanceof SourceTooLargeError) throw new CliError(`the files of the folder of ${opts.script} do not fit a ConfigMap (${error.message}): move the script into a folder of its own, pass --no-bundle, or use --git`);
      if (error instanceof TopasError) throw new CliError(namingFlags(error.message));
      throw error;
    }
    const configMap = built.files;
    // The ConfigMap first: the controller reads it as soon as the TestRun exists.
    if (configMap) {
      try {
        await api.create(RESOURCES.configMap, namespace, configMap as unknown as KubeObject);
      } catch (error) {
        if (isAlreadyExists(error) && attempt < 3) continue;
        kubeError(error, `creating ConfigMap ${namespace}/${configMap.metadata.name}`);
      }
    }
    try {
      created = await createTestRun(api, namespace, built.testRun as unknown as TestRunObject, attempt < 3);
    } catch (error) {
      if (configMap) await api.delete(RESOURCES.configMap, namespace, configMap.metadata.name).catch(() => false);
      throw error;
    }
    if (!created) {
      // the name was taken: another one
      if (configMap) await api.delete(RESOURCES.configMap, namespace, configMap.metadata.name).catch(() => false);
      continue;
    }
    if (configMap) {
      try {
        await api.patch(RESOURCES.configMap, namespace, configMap.metadata.name, filesOwnerPatch({ name, uid: created.metadata.uid! }));
      } catch (error) {
        kubeError(error, `handing ConfigMap ${namespace}/${configMap.metadata.name} to its TestRun`);
      }
    }
  }
  const name = created.metadata.name;
  if (!opts.wait) {
    if (opts.json) ctx.out(JSON.stringify(created, null, 2));
    else {
      ctx.out(name);
      ctx.err(ctx.errStyle.dim(`created TestRun ${namespace}/${name} — follow it with: topas test logs ${name} -f --kube`));
    }
    return;
  }
  if (!opts.json) ctx.out(ctx.style.dim(`TestRun ${namespace}/${name} created`));
  const final = await followTestRun(ctx, api, namespace, name, { print: !opts.json });
  if (opts.json) {
    ctx.out(JSON.stringify(final, null, 2));
    ctx.exitCode = exitCodeFor(final.status?.phase ?? 'Error');
  } else reportEnd(ctx, final);
}

/** A spec error in the flags' words (`spec.git.url:` → `--git:`). */
function namingFlags(message: string): string {
  return message
    .replace(/\bspec\.git\.url:/g, '--git:')
    .replace(/\bspec\.git\.path:/g, '--git-path:')
    .replace(/\bspec\.git\.revision:/g, '--git-revision:')
    .replace(/\bspec\.appName:/g, '--app:')
    .replace(/\bspec\.env\./g, '--env ')
    .replace(/\bspec\.timeout:/g, '--timeout:')
    .replace(/\bspec\.definition:/g, '--definition:');
}

/** The script's folder files, or a CLI error saying why they cannot travel. */
async function bundleOrExplain(script: string): Promise<Record<string, string>> {
  try {
    return await bundleTestFolder(script);
  } catch (error) {
    if (error instanceof TopasError) throw new CliError(error.message);
    throw error;
  }
}
