/**
 * The demo App on the test cluster (`npm run test-cluster`: the Kubernetes API test
 * server, its workload controllers and kube-proxy, the simulated kubelet running
 * `topas/demo-users` and `postgres` as host processes), against the same App on the
 * embedded platform measured in the same bench run. A topas in this process with
 * `kubernetes: true` (leader election off, so it reconciles at once and renews no Lease).
 * Measured, BENCH_K8S_APPS_RUNS times each (default 3):
 * - apply → Ready: `topas.apps.apply` of examples/kubernetes/app.yaml until the App
 *   resource's Ready condition is True for its generation (the reconciler created the
 *   Deployment, StatefulSet, Services, Secret and init Job, and every replica is ready);
 *   the App is deleted and its children awaited gone between repetitions. An apply whose
 *   database init Job fails for good (seen on the test cluster: psql through the Service
 *   is closed right after pg_isready answered) is counted in `initJobFailures` and the
 *   repetition starts over. Embedded:
 *   examples/apps/demo/app.yaml until `topas.apps.get` says Ready for its generation.
 * - `sut.apply_service` → rollout done: `apply_service('users', { version })` then
 *   `wait_ready('users')`, as a run's `sut` calls reach the App controller, v1 → v2 → v1 …
 * - Kubernetes API requests per App reconcile with nothing to change: the App resource
 *   annotated BENCH_K8S_APPS_RECONCILES times (default 10) through the bench's own
 *   KubeApi (not counted by topas), each awaited in the store's copy of the App; the
 *   deltas of `topas_kube_requests_total` by verb and resource divided by the App
 *   reconciles done meanwhile (`topas_reconcile_total{controller="app"}`).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAppFile } from '../src/apps/app-file.js';
import { loadConfig } from '../src/config/config.js';
import { isConditionTrue, type AppStatus } from '../src/core/app.js';
import type { SutCaller } from '../src/core/sut.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { loadKubeConfig } from '../src/kube/kube-config.js';
import { KubeApi, RESOURCES, type KubeObject, type ResourceType } from '../src/kube/kube-api.js';
import { topasCrds } from '../src/kubernetes/crd/testrun-crd.js';
import { kubeRequests, startCluster } from './kubernetes.js';
import { median, percentile, round } from './stats.js';

const RUNS = Number(process.env.BENCH_K8S_APPS_RUNS ?? 3);
const RECONCILES = Number(process.env.BENCH_K8S_APPS_RECONCILES ?? 10);
const APP = 'demo';
const NAMESPACE = 'default';
const TIMEOUT_MS = 120_000;
const TICK_ANNOTATION = 'bench.topas.dev/tick';

/** Polls `check` every 50 ms until it answers true; throws after `TIMEOUT_MS` naming `what`. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen in ${TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stats(samples: number[]) {
  return { samplesMs: samples.map((s) => round(s, 0)), p50: round(median(samples), 0), p95: round(percentile(samples, 95), 0) };
}

/** The App resource, as the bench's own client reads it. */
async function appResource(api: KubeApi): Promise<(KubeObject & { status?: AppStatus }) | null> {
  return api.find(RESOURCES.app, NAMESPACE, APP);
}

/**
 * Until the App resource is Ready for its generation ('ready'), or its database's init
 * Job failed for good (Degraded naming the init Job: its message is returned).
 */
async function readyOrInitFailed(api: KubeApi): Promise<'ready' | string> {
  let failed: string | null = null;
  await until('the App resource Ready', async () => {
    const app = await appResource(api);
    if (!app?.status || app.status.observedGeneration !== app.metadata.generation) return false;
    if (isConditionTrue(app.status, 'Ready')) return true;
    const degraded = app.status.conditions.find((c) => c.type === 'Degraded' && c.status === 'True' && /init Job .* failed/.test(c.message ?? ''));
    if (degraded) failed = degraded.message ?? 'init Job failed';
    return failed !== null;
  }).catch(async (error: Error) => {
    const conditions = (await appResource(api))?.status?.conditions?.map((c) => `${c.type}=${c.status}: ${c.message}`);
    throw new Error(`${error.message}; conditions: ${conditions?.join(' | ')}`);
  });
  return failed ?? 'ready';
}

async function embeddedReady(topas: RunningTopas): Promise<boolean> {
  const app = await topas.apps.get(APP);
  return !!app && app.status.observedGeneration === app.metadata.generation && isConditionTrue(app.status, 'Ready');
}

/** What is left of the App on the cluster: its children (label `topas.dev/app`) and every PVC. */
async function leftovers(api: KubeApi): Promise<string[]> {
  const labelled: ResourceType[] = [RESOURCES.pod, RESOURCES.deployment, RESOURCES.statefulSet, RESOURCES.service, RESOURCES.job, RESOURCES.secret, RESOURCES.configMap];
  const left: string[] = [];
  if (await appResource(api)) left.push(`App/${APP}`);
  for (const type of labelled) {
    for (const o of (await api.list(type, NAMESPACE, { labelSelector: `topas.dev/app=${APP}` })).items) left.push(`${type.kind}/${o.metadata.name}`);
  }
  for (const o of (await api.list(RESOURCES.persistentVolumeClaim, NAMESPACE)).items) left.push(`PersistentVolumeClaim/${o.metadata.name}`);
  return left;
}

/** `apply_service` to `version`, then `wait_ready`, as a run's `sut` calls do; ms. */
async function rollout(topas: RunningTopas, version: string): Promise<number> {
  const caller: SutCaller = { runId: 'bench', appName: APP, readOnly: false, signal: new AbortController().signal };
  const t0 = performance.now();
  await topas.apps.call(caller, 'apply_service', ['users', { version }]);
  await topas.apps.call(caller, 'wait_ready', ['users', TIMEOUT_MS]);
  return performance.now() - t0;
}

async function rollouts(topas: RunningTopas): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await rollout(topas, i % 2 === 0 ? 'v2' : 'v1'));
  return samples;
}

/** `topas_reconcile_total{controller="app"}`, every result. */
async function appReconciles(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^topas_reconcile_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm)) if (/controller="app"/.test(m[1]!)) n += Number(m[2]);
  return n;
}

/** Forces `RECONCILES` reconciles of the Ready App (a changed annotation each) and counts topas's requests. */
async function steadyReconciles(topas: RunningTopas, api: KubeApi) {
  const settled = async () => {
    // Nothing more reconciled for 1 s: the last forced reconcile is over.
    let last = await appReconciles(topas.url);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await appReconciles(topas.url);
      if (now === last) return now;
      last = now;
    }
  };
  const reconcilesBefore = await settled();
  const before = await kubeRequests(topas.url);
  for (let k = 1; k <= RECONCILES; k++) {
    const seen = await appReconciles(topas.url);
    await api.patch(RESOURCES.app, NAMESPACE, APP, { metadata: { annotations: { [TICK_ANNOTATION]: String(k) } } });
    await until(`the store's App with annotation ${k}`, async () => (await topas.store.getApp(APP))?.annotations[TICK_ANNOTATION] === String(k));
    await until(`App reconcile ${k} done`, async () => (await appReconciles(topas.url)) > seen);
  }
  const reconcilesAfter = await settled();
  const after = await kubeRequests(topas.url);
  const reconciles = reconcilesAfter - reconcilesBefore;
  const perReconcile: Record<string, number> = {};
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0) perReconcile[key] = round(d / reconciles, 2);
  }
  const writes = Object.entries(perReconcile)
    .filter(([key]) => /^(create|update|patch|delete)/.test(key))
    .reduce((sum, [, n]) => sum + n, 0);
  const app = await appResource(api);
  return {
    forcedReconciles: RECONCILES,
    appReconcilesCounted: reconciles,
    kubeRequestsPerSteadyReconcile: perReconcile,
    kubeWritesPerSteadyReconcile: round(writes, 2),
    writesTarget: 0,
    stillReady: !!app?.status && isConditionTrue(app.status, 'Ready'),
  };
}

export async function benchKubernetesApps() {
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-k8s-apps-'));
  await chmod(dir, 0o755); // PostgreSQL, run as its own user, must reach the embedded App's database folder
  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = await startCluster(kubeconfig);
  const api = new KubeApi(loadKubeConfig({ kubeconfig }));
  try {
    for (const crd of topasCrds()) await api.create(RESOURCES.crd, undefined, crd as unknown as KubeObject);

    // --- on the test cluster
    const [clusterManifest] = await readAppFile(join(process.cwd(), 'examples', 'kubernetes', 'app.yaml'));
    const env = { ...process.env, TOPAS_LEADER_ELECTION: '0' };
    let topas = await startTopas(loadConfig({ port: 0, data: join(dir, 'k8s'), examples: false, insecureNoAuth: true, kubernetes: true, kubeconfig }, env));
    const k8s = { applyMs: [] as number[], deleteToGoneMs: [] as number[], rolloutMs: [] as number[], initJobFailures: [] as string[] };
    let steady: Awaited<ReturnType<typeof steadyReconciles>>;
    try {
      // A fresh topas per apply: re-creating the App in the same topas after a delete can
      // stay stuck on ChildConflict (the reconciler still sees the deleted App's children).
      const k8sConfig = loadConfig({ port: 0, data: join(dir, 'k8s'), examples: false, insecureNoAuth: true, kubernetes: true, kubeconfig }, env);
      const deleteAndWait = async () => {
        const t0 = performance.now();
        await topas.close(0);
        await api.delete(RESOURCES.app, NAMESPACE, APP, { propagationPolicy: 'Background' });
        let left: string[] = [];
        await until('the App and its children gone', async () => (left = await leftovers(api)).length === 0).catch((error: Error) => {
          throw new Error(`${error.message}; left: ${left.join(', ')}`);
        });
        const ms = performance.now() - t0;
        topas = await startTopas(k8sConfig);
        return ms;
      };
      for (let i = 0; i < RUNS; i++) {
        if (i > 0) k8s.deleteToGoneMs.push(await deleteAndWait());
        for (;;) {
          const t0 = performance.now();
          await topas.apps.apply(clusterManifest);
          const outcome = await readyOrInitFailed(api);
          if (outcome === 'ready') {
            k8s.applyMs.push(performance.now() - t0);
            break;
          }
          // The init Job used up its retries (see initJobFailures): start this repetition over.
          k8s.initJobFailures.push(outcome);
          if (k8s.initJobFailures.length > RUNS * 2) throw new Error(`bench: the init Job failed ${k8s.initJobFailures.length} times: ${outcome}`);
          await deleteAndWait();
        }
      }
      k8s.rolloutMs = await rollouts(topas);
      steady = await steadyReconciles(topas, api);
    } finally {
      await topas.close(0);
    }

    // --- embedded, the same App with its `local` part
    const [localManifest] = await readAppFile(join(process.cwd(), 'examples', 'apps', 'demo', 'app.yaml'));
    topas = await startTopas(loadConfig({ port: 0, data: join(dir, 'local'), examples: false, insecureNoAuth: true }, {}));
    const local = { applyMs: [] as number[], rolloutMs: [] as number[] };
    let engine: string | undefined;
    try {
      for (let i = 0; i < RUNS; i++) {
        if (i > 0) await topas.apps.delete(APP);
        const t0 = performance.now();
        await topas.apps.apply(localManifest);
        await until('the embedded App Ready', () => embeddedReady(topas));
        local.applyMs.push(performance.now() - t0);
      }
      engine = (await topas.apps.get(APP))?.status.databases[0]?.engine;
      local.rolloutMs = await rollouts(topas);
    } finally {
      await topas.close(0);
    }

    const k = {
      applyToReadyMs: stats(k8s.applyMs),
      applyServiceToRolledOutMs: stats(k8s.rolloutMs),
      deleteToChildrenGoneMs: stats(k8s.deleteToGoneMs),
      // Applies whose init Job failed (psql through the Service closed; the repetition was started over).
      initJobFailures: k8s.initJobFailures.length,
      initJobFailureMessages: [...new Set(k8s.initJobFailures)],
    };
    const l = { applyToReadyMs: stats(local.applyMs), applyServiceToRolledOutMs: stats(local.rolloutMs), databaseEngine: engine };
    return {
      app: 'demo: users service (2 replicas, v1/v2) + users-db (PostgreSQL)',
      runs: RUNS,
      kubernetes: { ...k, ...steady },
      embedded: l,
      ratioKubernetesToEmbedded: {
        applyToReadyP50: round(k.applyToReadyMs.p50 / l.applyToReadyMs.p50, 2),
        applyServiceToRolledOutP50: round(k.applyServiceToRolledOutMs.p50 / l.applyServiceToRolledOutMs.p50, 2),
      },
    };
  } finally {
    cluster.kill('SIGTERM');
    await new Promise((r) => cluster.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
