/**
 * The test cluster: the Kubernetes API test server, its workload controllers
 * (Deployments, ReplicaSets, StatefulSets, Jobs, the PersistentVolumeClaim binder —
 * `controllers/`), the endpoints controller and kube-proxy (Pods get IPs in
 * 127.1.0.0/16, Services cluster IPs in 127.2.0.0/16 that the whole machine reaches;
 * see kube-proxy.ts and kubelet/hosts-file.ts) and the simulated kubelet, with a
 * kubeconfig that points kubectl and topas at it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestApiServer, type TestApiServerOptions } from './api-server/api-server.js';
import { selfSignedCert } from './api-server/self-signed-cert.js';
import { DeploymentController } from './controllers/deployment-controller.js';
import { ReplicaSetController } from './controllers/replicaset-controller.js';
import { JobController } from './controllers/job-controller.js';
import { PvcBinder } from './controllers/pvc-binder.js';
import { StatefulSetController } from './controllers/statefulset-controller.js';
import { EndpointsController } from './controllers/endpoints-controller.js';
import { KubeProxy } from './kube-proxy.js';
import { buildKubeconfig } from './kubeconfig.js';
import type { ImageTable } from './kubelet/images.js';
import * as images from './kubelet/images.js';
import { SimulatedKubelet } from './kubelet/kubelet.js';

export interface TestClusterOptions {
  /** Where to write the kubeconfig (default: `kubeconfig` in a new temporary folder). */
  kubeconfigPath?: string;
  /** The images the kubelet can run (default: the kubelet's default table, if it has one). */
  images?: ImageTable;
  /** Where container logs go (default: `logs` in a new temporary folder). */
  logDir?: string;
  /** Port of the HTTPS endpoint (default 0: a free one). */
  port?: number;
  /** Passed to the API server (watch window, bookmark interval, log polling, request log). */
  server?: Partial<Omit<TestApiServerOptions, 'logDir' | 'tls'>>;
  /** Start no kubelet (API-only tests). */
  noKubelet?: boolean;
  /** Start no workload controllers (Deployments, ReplicaSets): API-only tests of those kinds. */
  noControllers?: boolean;
  /**
   * Where PersistentVolumeClaims' data lives, one folder per bound claim (default: a new
   * temporary folder under /var/tmp — not /tmp, which a Pod's volume may cover — removed by `stop()`).
   */
  volumesDir?: string;
  /** The Job controller's first back-off before replacing a failed Pod (default 10 000 ms, as kube; tests shorten it). */
  jobBackOffMs?: number;
}

export interface TestCluster {
  /** The HTTPS URL the kubeconfig names. */
  url: string;
  /** The same API over plain HTTP (what the kubelet uses). */
  httpUrl: string;
  token: string;
  kubeconfigPath: string;
  logDir: string;
  /** Where bound claims' folders are. */
  volumesDir: string;
  server: TestApiServer;
  kubelet?: SimulatedKubelet;
  /** The workload controllers, in process (they read and write through `server.service`). */
  controllers: { stop(): void }[];
  kubeProxy: KubeProxy;
  /**
   * Writes a kubeconfig (default: beside the admin one, `kubeconfig-<ns>-<name>`)
   * for the ServiceAccount `<namespace>/<name>` (made if missing), with a fresh
   * token and that namespace as the context's; returns its path. Requests with
   * it get what RBAC grants that ServiceAccount.
   */
  writeServiceAccountKubeconfig(namespace: string, name: string, file?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The repository's root (the runner image runs `<repoRoot>/bin/topas.js`). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The kubelet's default image table (`defaultImageTable(repoRoot)` in `kubelet/images.ts`), or none. */
function defaultImages(): ImageTable {
  const table = (images as Record<string, unknown>).defaultImageTable;
  return typeof table === 'function' ? (table as (root: string) => ImageTable)(repoRoot) : {};
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = options.kubeconfigPath && options.logDir ? undefined : await mkdtemp(path.join(tmpdir(), 'topas-test-cluster-'));
  const kubeconfigPath = options.kubeconfigPath ?? path.join(dir!, 'kubeconfig');
  const logDir = options.logDir ?? path.join(dir!, 'logs');
  await mkdir(logDir, { recursive: true });
  const tls = await selfSignedCert();
  const server = new TestApiServer({ ...options.server, logDir, tls });
  const url = await server.start(options.port ?? 0);
  await mkdir(path.dirname(kubeconfigPath), { recursive: true });
  await writeFile(kubeconfigPath, buildKubeconfig({ server: url, token: server.token, caCert: tls.cert }), { mode: 0o600 });
  const volumesDir = options.volumesDir ?? (await mkdtemp(path.join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'topas-volumes-')));
  await mkdir(volumesDir, { recursive: true });
  const log = options.server?.log;
  const controllers = options.noControllers
    ? []
    : [
        new DeploymentController(server.service, log),
        new ReplicaSetController(server.service, log),
        new PvcBinder(server.service, volumesDir, log),
        new StatefulSetController(server.service, 1000, log),
        new JobController(server.service, { backOffMs: options.jobBackOffMs, log }),
      ];
  for (const c of controllers) c.start();
  const endpoints = new EndpointsController(server.service);
  const kubeProxy = new KubeProxy(server.service);
  kubeProxy.start();
  let kubelet: SimulatedKubelet | undefined;
  if (!options.noKubelet) {
    kubelet = new SimulatedKubelet({ apiUrl: server.httpUrl, token: server.token, logDir, volumesDir, images: options.images ?? defaultImages() });
    await kubelet.start();
  }
  return {
    url,
    httpUrl: server.httpUrl,
    token: server.token,
    kubeconfigPath,
    logDir,
    volumesDir,
    server,
    kubelet,
    controllers,
    kubeProxy,
    async writeServiceAccountKubeconfig(namespace, name, file) {
      const target = file ?? path.join(path.dirname(kubeconfigPath), `kubeconfig-${namespace}-${name}`);
      const token = server.serviceAccountToken(namespace, name);
      const user = `system:serviceaccount:${namespace}:${name}`;
      await writeFile(target, buildKubeconfig({ server: url, token, caCert: tls.cert, user, namespace }), { mode: 0o600 });
      return target;
    },
    async stop() {
      for (const c of controllers) c.stop();
      await kubelet?.stop();
      await kubeProxy.stop();
      endpoints.stop();
      await server.stop();
      if (options.volumesDir === undefined) await rm(volumesDir, { recursive: true, force: true });
    },
  };
}
