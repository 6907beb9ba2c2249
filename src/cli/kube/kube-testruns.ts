/**
 * `--kube`: the test commands against a cluster instead of a topas server. A run is
 * a `TestRun` resource there: `schedule` creates one, `status` and `logs` read it by
 * name, and `--wait` / `-f` follow its runner Pod's log until the TestRun ends. The
 * cluster is found as kubectl finds it (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`).
 */
import type { Command } from 'commander';
import { TopasError } from '../../core/errors.js';
import { isTerminal, type RunPhase } from '../../core/run-phase.js';
import { contextNamespace, loadKubeConfig } from '../../controller/kube/kube-config.js';
import { isNotFound, KubeApi, KubeApiError, RESOURCES, type KubeObject } from '../../controller/kube/kube-api.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { formatDuration, paintPhase } from '../format.js';
import { exitCodeFor } from '../watch-run.js';

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

/** Creates the TestRun (its name generated from `name`) and returns it. */
export async function createTestRun(api: KubeApi, namespace: string, testRun: TestRunObject): Promise<TestRunObject> {
  try {
    return await api.create<TestRunObject>(RESOURCES.testRun, namespace, testRun);
  } catch (error) {
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
  /** How often the TestRun is read while waiting (a watch would do; polling keeps it simple and cheap). Default 500 ms. */
  pollMs?: number;
}

/**
 * Follows a TestRun to its end: streams its runner Pod's log once the Pod exists,
 * and returns the TestRun as it ended. The exit code is the run's (`exitCodeFor`).
 */
export async function followTestRun(ctx: CliContext, api: KubeApi, namespace: string, name: string, options: FollowOptions): Promise<TestRunObject> {
  const pollMs = options.pollMs ?? 500;
  let logs: Promise<void> | null = null;
  const abort = new AbortController();
  try {
    for (;;) {
      const tr = await getTestRun(api, namespace, name);
      const st = tr.status ?? {};
      if (options.print && st.podName && !logs) {
        let carry = '';
        logs = api
          .followPodLog(namespace, st.podName, { container: 'runner' }, (text) => {
            const parts = (carry + text).split('\n');
            carry = parts.pop()!;
            for (const line of parts) ctx.out(line);
          }, abort.signal)
          .then(() => {
            if (carry) ctx.out(carry);
          })
          .catch(() => {
            // The Pod may be gone (deleted, TTL): the TestRun's status still says how the run ended.
          });
      }
      if (st.phase && isTerminal(st.phase)) {
        // The log stream ends with the container; give it a moment to drain.
        if (logs) await Promise.race([logs, new Promise((r) => setTimeout(r, 2000))]);
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
  script: string;
  scriptText: string;
  name?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  timeoutSeconds?: number;
  appName?: string;
  readOnly?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** `test schedule --kube`: creates a TestRun from a script file; with `--wait`, follows it. */
export async function scheduleOnCluster(ctx: CliContext, opts: ScheduleOnClusterOptions): Promise<void> {
  const { api, namespace } = kubeTarget(ctx, opts);
  const base = (opts.name ?? opts.script.replace(/^.*\//, '').replace(/\.lua$/, ''))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'test';
  const spec: Record<string, unknown> = { script: opts.scriptText };
  if (opts.appName) spec.appName = opts.appName;
  if (opts.readOnly) spec.readOnly = true;
  if (opts.timeoutSeconds !== undefined) spec.timeout = `${opts.timeoutSeconds}s`;
  if (opts.env) spec.env = opts.env;
  const created = await createTestRun(api, namespace, {
    apiVersion: RESOURCES.testRun.apiVersion,
    kind: RESOURCES.testRun.kind,
    metadata: { name: '', generateName: `${base}-`, namespace, ...(opts.labels ? { labels: opts.labels } : {}) } as TestRunObject['metadata'],
    spec,
  });
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
