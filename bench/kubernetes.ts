/**
 * Runs as runner Pods: a topas with `--kubernetes` against the test cluster
 * (`npm run test-cluster`: the Kubernetes API test server and the simulated kubelet,
 * which runs each runner Pod as `node bin/topas.js runner`), N passing API runs one
 * after the other. Measured:
 * - Kubernetes API requests per passing run, by verb and resource (the deltas of
 *   `topas_kube_requests_total` on `/metrics`, divided by the runs; leader election is
 *   off so its Lease renewals are not counted; the Pod informer's list/watch is shared
 *   and not per run);
 * - latency submit → runner started (its first event stored) → Passed, p50/p95;
 * - the same runs on the local executor in the same bench run, and the ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { isTerminal } from '../src/core/run-phase.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { loadKubeConfig } from '../src/kube/kube-config.js';
import { KubeApi, RESOURCES, type KubeObject } from '../src/kube/kube-api.js';
import { topasCrds } from '../src/kubernetes/crd/testrun-crd.js';
import { percentile, round } from './stats.js';

const RUNS = Number(process.env.BENCH_K8S_RUNS ?? 20);
const SCRIPT = 'step("one", function()\n  log.info("hello")\n  assert(1 + 1 == 2, "math")\nend)\n';

/** The repository root (the bench runs from dist-bench/bench/). */
function repoRoot(): string {
  return process.cwd();
}

/** Starts the test cluster (`test/cluster/main.ts`) writing its kubeconfig to `kubeconfig`; resolves once it serves. */
export async function startCluster(kubeconfig: string): Promise<ChildProcess> {
  const tsx = join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, [join(repoRoot(), 'test', 'cluster', 'main.ts'), '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the test cluster did not start in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`the test cluster exited (${code}): ${out}`)));
  });
  return child;
}

/** `topas_kube_requests_total` by `verb resource`, 2xx answers only. */
export async function kubeRequests(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^topas_kube_requests_total\{verb="([^"]+)",resource="([^"]+)",code="(\d+|error)"\} (\d+(?:\.\d+)?)$/gm)) {
    const key = `${m[1]} ${m[2]}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[4]));
  }
  return counts;
}

/** The request counts once `runs` runs' ConfigMaps were deleted (their clean-up is the last thing a run does). */
async function cleanedUp(url: string, runs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const counts = await kubeRequests(url);
    if ((counts.get('delete configmaps') ?? 0) >= runs || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Timing {
  startedMs: number;
  passedMs: number;
}

/** One run, submitted and followed in-process: submit → first event stored → terminal. */
async function oneRun(topas: RunningTopas): Promise<Timing> {
  const t0 = performance.now();
  let started = 0;
  let finished: (phase: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (finished = resolve));
  const run = await topas.engine.submit({ origin: 'api', name: 'bench-k8s', script: SCRIPT, timeoutSeconds: 120 });
  const off = topas.engine.subscribe(run.id, (n) => {
    if (n.type === 'events' && !started) started = performance.now();
    if (n.type === 'phase' && isTerminal(n.run.phase)) finished(n.run.phase);
  });
  try {
    // A run that ended before the subscription: the store says so.
    const now = await topas.store.getRun(run.id);
    if (now && isTerminal(now.phase)) finished(now.phase);
    const phase = await ended;
    if (phase !== 'Passed') throw new Error(`bench run ${run.id} ended ${phase}`);
    const passed = performance.now();
    return { startedMs: (started || passed) - t0, passedMs: passed - t0 };
  } finally {
    off();
  }
}

function summary(timings: Timing[]) {
  const started = timings.map((t) => t.startedMs);
  const passed = timings.map((t) => t.passedMs);
  return {
    submitToRunnerStartedMs: { p50: round(percentile(started, 50)), p95: round(percentile(started, 95)) },
    submitToPassedMs: { p50: round(percentile(passed, 50)), p95: round(percentile(passed, 95)) },
  };
}

async function measure(topas: RunningTopas): Promise<Timing[]> {
  await oneRun(topas); // warm-up
  const timings: Timing[] = [];
  for (let i = 0; i < RUNS; i++) timings.push(await oneRun(topas));
  return timings;
}

export async function benchKubernetes() {
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-k8s-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = await startCluster(kubeconfig);
  // As installed: the TestRun controller (the leader runs it) watches TestRuns.
  const api = new KubeApi(loadKubeConfig({ kubeconfig }));
  for (const crd of topasCrds()) await api.create(RESOURCES.crd, undefined, crd as unknown as KubeObject);
  const env = { ...process.env, TOPAS_LEADER_ELECTION: '0' };
  try {
    // --- kubernetes
    const kubeConfig = loadConfig({ port: 0, data: join(dir, 'k8s'), examples: false, insecureNoAuth: true, concurrency: 5, kubernetes: true, kubeconfig }, env);
    let topas = await startTopas(kubeConfig);
    let k8s: Timing[];
    let perRun: Record<string, number>;
    try {
      await oneRun(topas);
      // A run's clean-up (Secret, ConfigMap, Pod deletes) follows its end: count whole runs.
      const before = await cleanedUp(topas.url, 1);
      const timings: Timing[] = [];
      for (let i = 0; i < RUNS; i++) timings.push(await oneRun(topas));
      const after = await cleanedUp(topas.url, 1 + RUNS);
      k8s = timings;
      perRun = {};
      for (const [key, n] of after) {
        const d = n - (before.get(key) ?? 0);
        if (d > 0) perRun[key] = round(d / RUNS, 2);
      }
    } finally {
      await topas.close(0);
    }
    const writesPerRun = round(
      Object.entries(perRun)
        .filter(([key]) => /^(create|update|patch|delete)/.test(key))
        .reduce((sum, [, n]) => sum + n, 0),
      2,
    );

    // --- local, the same runs in the same bench run
    topas = await startTopas(loadConfig({ port: 0, data: join(dir, 'local'), examples: false, insecureNoAuth: true, concurrency: 5 }, {}));
    let local: Timing[];
    try {
      local = await measure(topas);
    } finally {
      await topas.close(0);
    }
    const k = summary(k8s);
    const l = summary(local);
    return {
      runs: RUNS,
      // The runner Pods run bin/topas.js: compiled (dist/) when built, else through tsx (slower starts).
      runnerBuild: existsSync(join(repoRoot(), 'dist', 'cli', 'main.js')) ? 'dist' : 'tsx',
      kubeRequestsPerPassingRun: perRun,
      kubeWritesPerPassingRun: writesPerRun,
      writesTarget: 8,
      kubernetes: k,
      local: l,
      ratioKubernetesToLocal: {
        submitToPassedP50: round(k.submitToPassedMs.p50 / l.submitToPassedMs.p50, 2),
        submitToPassedP95: round(k.submitToPassedMs.p95 / l.submitToPassedMs.p95, 2),
      },
    };
  } finally {
    cluster.kill('SIGTERM');
    await new Promise((r) => cluster.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
