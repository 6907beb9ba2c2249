/**
 * The Kubernetes tests' harness: the test cluster (API server + simulated kubelet,
 * `test/cluster`) with the TestRun CRD installed, and a real `topas up --kubernetes`
 * process pointed at it through `KUBECONFIG`. Shared by the executor, leader and
 * TestRun controller tests; keep its API stable.
 *
 *   const h = await startKubeHarness({ topasArgs: ['--concurrency', '5'] });
 *   const run = await h.submit({ script: 'step("a", function() end)' });
 *   await h.waitForRun(run.id, (r) => r.phase === 'Passed');
 *   await h.stop();
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../cluster/start-test-cluster.js';
import { api, startTopasProcess, TOPAS_BIN, type TopasProcess } from '../topas-process.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { Informer } from '../../src/kube/informer.js';
import { topasCrds } from '../../src/kubernetes/crd/testrun-crd.js';

export interface KubeHarnessOptions {
  /** More `topas up` arguments (it always gets `--kubernetes --no-examples --data <dir>`). */
  topasArgs?: string[];
  /** More environment for topas (e.g. `TOPAS_LEADER_ELECTION: '0'`, `DATABASE_URL`). */
  env?: Record<string, string>;
  /** Options of the test cluster. */
  cluster?: TestClusterOptions;
  /** Install the topas CRDs (default true). */
  crds?: boolean;
  /** Start a topas process right away (default true); else call `startTopas()`. */
  startTopas?: boolean;
}

export interface StartTopasOptions {
  /** Arguments instead of the harness's `topasArgs`. */
  args?: string[];
  /** More environment (over the harness's `env`). */
  env?: Record<string, string>;
  /** Another data folder (a second instance needs its own; default: the harness's). */
  dataDir?: string;
}

/** What `watchPods` saw of the runner Pods (label `app.kubernetes.io/managed-by=topas`, component runner). */
export interface PodWatch {
  /** Every runner Pod name ever seen (ADDED), in order. */
  readonly created: string[];
  /** How many Pod creations were seen per name (a duplicate would be > 1). */
  readonly creations: Map<string, number>;
  /** Runner Pods not yet terminal and not deleted, now. */
  current(): number;
  /** The most runner Pods that were running (not Succeeded/Failed, not deleted) at once. */
  readonly maxConcurrent: number;
  stop(): void;
}

export interface KubeHarness {
  cluster: TestCluster;
  /** `KUBECONFIG` for kubectl and topas. */
  kubeconfigPath: string;
  /** The namespace of the kubeconfig's context (API runs' Pods go there): `default`. */
  namespace: string;
  /** The data folder of the default topas process. */
  dataDir: string;
  /** The environment the topas processes get (KUBECONFIG and the given env). */
  env: Record<string, string>;
  /** The current topas process (the last started). Throws when none runs. */
  readonly topas: TopasProcess;
  /** An API client of the test cluster (its requests are not counted by topas). */
  kube: KubeApi;
  /** Starts a topas process (`topas up --kubernetes ...`); it becomes `topas`. */
  startTopas(options?: StartTopasOptions): Promise<TopasProcess>;
  /** Kills a topas process (default: the current one, SIGKILL) and waits until it is gone. */
  killTopas(process?: TopasProcess, signal?: NodeJS.Signals): Promise<void>;
  /** The real kubectl against the test cluster. */
  kubectl(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The API of the current topas (path like `/api/runs`), with its admin token. */
  api<T = any>(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  /** POST /api/runs; throws unless 201/202. Default name `k8s-test`, default script one passing step. */
  submit(request?: Record<string, unknown>): Promise<any>;
  /** Polls GET /api/runs/{id} (of the current topas) until `done(run)`; returns that run. */
  waitForRun(id: string, done?: (run: any) => boolean, timeoutMs?: number): Promise<any>;
  /** The whole log of a run (`GET /api/runs/{id}/logs`, all pages) as text lines. */
  runLog(id: string): Promise<string[]>;
  /** Watches runner Pods in the cluster from now on. */
  watchPods(): Promise<PodWatch>;
  /** Kills every topas process started here, stops the cluster, removes the data folders. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (for a topas that must come back on the same URL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * What a Service in front of several topas instances does for runner Pods, as kube-proxy
 * does it: each client connection goes to one instance, picked at random, and stays
 * with it for the connection's life (a runner's keep-alive connection keeps reaching
 * the same instance); an instance that does not answer is skipped (502 when none does,
 * which the runner retries). An instance's `Connection: close` closes the client's
 * connection too, so the client's next request may reach another instance. Give its
 * URL as `--runner-server-url` to every instance.
 */
export interface RunnerProxy {
  url: string;
  /** The instances' base URLs (replace them as instances come and go). */
  targets: string[];
  /** The last requests passed on (newest last): when, what, to which instance, and its answer's status (0: none). */
  readonly seen: { at: string; call: string; target: string; status: number }[];
  close(): Promise<void>;
}

export async function startRunnerProxy(targets: string[] = []): Promise<RunnerProxy> {
  const proxy: RunnerProxy = { url: '', targets, seen: [], close: async () => {} };
  const note = (call: string, target: string, status: number) => {
    proxy.seen.push({ at: new Date().toISOString().slice(11, 23), call, target, status });
    if (proxy.seen.length > 5000) proxy.seen.splice(0, 1000);
  };
  /** Each client connection's pick (an index into the instances as they are when a request comes). */
  const pickOf = new WeakMap<object, number>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const list = [...proxy.targets];
      let pick = pickOf.get(req.socket);
      if (pick === undefined) pickOf.set(req.socket, (pick = Math.floor(Math.random() * 1_000_000)));
      const attempt = (i: number) => {
        if (i >= list.length) {
          res.writeHead(502).end('no topas instance answered');
          return;
        }
        const target = new URL(req.url ?? '/', list[(pick + i) % list.length]);
        // Kept alive towards the instance: a Connection: close in its answer is its own decision.
        const headers = { ...req.headers, host: target.host, connection: 'keep-alive' };
        const out = http.request(target, { method: req.method, agent, headers }, (answer) => {
          note(`${req.method} ${req.url}`, target.origin, answer.statusCode ?? 0);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.on('error', () => {
          note(`${req.method} ${req.url}`, target.origin, 0);
          attempt(i + 1);
        });
        out.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

export const PASSING_SCRIPT = `step("one", function()\n  log.info("hello from the runner Pod")\n  assert(1 + 1 == 2, "math")\nend)\n`;

const TERMINAL = new Set(['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled']);

export async function startKubeHarness(options: KubeHarnessOptions = {}): Promise<KubeHarness> {
  const cluster = await startTestCluster(options.cluster);
  const folders: string[] = [];
  const processes: TopasProcess[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'topas-k8s-data-'));
  folders.push(dataDir);
  const env = { KUBECONFIG: cluster.kubeconfigPath, ...options.env };
  const kube = new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  let current: TopasProcess | null = null;

  const kubectl: KubeHarness['kubectl'] = (args, input) =>
    new Promise((resolve, reject) => {
      const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });

  if (options.crds !== false) {
    for (const crd of topasCrds()) await kube.create(RESOURCES.crd, undefined, crd as unknown as KubeObject);
  }

  const harness: KubeHarness = {
    cluster,
    kubeconfigPath: cluster.kubeconfigPath,
    namespace: 'default',
    dataDir,
    env,
    get topas() {
      if (!current) throw new Error('no topas process runs (call startTopas)');
      return current;
    },
    kube,
    async startTopas(o = {}) {
      const args = ['--kubernetes', '--no-examples', '--data', o.dataDir ?? dataDir, ...(o.args ?? options.topasArgs ?? [])];
      const p = await startTopasProcess(args, { ...env, ...o.env }, { startTimeoutMs: 60_000 });
      processes.push(p);
      current = p;
      return p;
    },
    async killTopas(p = harness.topas, signal = 'SIGKILL') {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      await p.exited;
      if (current === p) current = null;
    },
    kubectl,
    api(path, init) {
      return api(`${harness.topas.url}${path}`, init);
    },
    async submit(request = {}) {
      const body = { name: 'k8s-test', script: PASSING_SCRIPT, ...request };
      const res = await harness.api('/api/runs', { body });
      if (res.status !== 201 && res.status !== 202) throw new Error(`POST /api/runs answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async waitForRun(id, done = (r) => TERMINAL.has(r.phase), timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: any = null;
      for (;;) {
        const res = await harness.api(`/api/runs/${id}`).catch(() => null);
        if (res?.status === 200) {
          last = res.body;
          if (done(last)) return last;
        }
        if (Date.now() > deadline) throw new Error(`run ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async runLog(id) {
      const lines: string[] = [];
      let after = 0;
      for (;;) {
        const res = await harness.api(`/api/runs/${id}/logs?after=${after}&limit=1000`);
        if (res.status !== 200) throw new Error(`GET logs answered ${res.status}: ${JSON.stringify(res.body)}`);
        const items: { seq: number; message: string }[] = res.body.items;
        if (items.length === 0) return lines;
        for (const i of items) lines.push(i.message);
        after = items[items.length - 1]!.seq;
        if (items.length < 1000) return lines;
      }
    },
    async watchPods() {
      const informer = new Informer<KubeObject>(kube, RESOURCES.pod, { labelSelector: 'app.kubernetes.io/managed-by=topas,app.kubernetes.io/component=runner' });
      const live = new Set<string>();
      const created: string[] = [];
      const creations = new Map<string, number>();
      const uids = new Map<string, string>();
      let maxConcurrent = 0;
      informer.on((type, pod) => {
        const name = pod.metadata.name;
        const phase = (pod as { status?: { phase?: string } }).status?.phase;
        if (type === 'add' || (type === 'update' && uids.get(name) !== pod.metadata.uid)) {
          if (uids.get(name) !== pod.metadata.uid) {
            uids.set(name, pod.metadata.uid ?? '');
            created.push(name);
            creations.set(name, (creations.get(name) ?? 0) + 1);
          }
        }
        if (type === 'delete' || phase === 'Succeeded' || phase === 'Failed') live.delete(name);
        else live.add(name);
        maxConcurrent = Math.max(maxConcurrent, live.size);
      });
      informer.start();
      await informer.synced;
      return {
        created,
        creations,
        current: () => live.size,
        get maxConcurrent() {
          return maxConcurrent;
        },
        stop: () => informer.stop(),
      };
    },
    async stop() {
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      await cluster.stop();
      for (const f of folders) await rm(f, { recursive: true, force: true });
    },
  };
  if (options.startTopas !== false) {
    try {
      await harness.startTopas();
    } catch (error) {
      await harness.stop();
      throw error;
    }
  }
  return harness;
}

/** The `topas` command of this checkout (for tests that run the CLI). */
export { TOPAS_BIN };
