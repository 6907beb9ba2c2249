/**
 * The test cluster: the Kubernetes API test server plus the simulated kubelet
 * and the workload controllers (Deployments, ReplicaSets; see
 * `controllers/`), with a kubeconfig that points kubectl and topas at it.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestApiServer, type TestApiServerOptions } from './api-server/api-server.js';
import { selfSignedCert } from './api-server/self-signed-cert.js';
import { DeploymentController } from './controllers/deployment-controller.js';
import { ReplicaSetController } from './controllers/replicaset-controller.js';
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
}

export interface TestCluster {
  /** The HTTPS URL the kubeconfig names. */
  url: string;
  /** The same API over plain HTTP (what the kubelet uses). */
  httpUrl: string;
  token: string;
  kubeconfigPath: string;
  logDir: string;
  server: TestApiServer;
  kubelet?: SimulatedKubelet;
  /** The workload controllers, in process (they read and write through `server.service`). */
  controllers: { stop(): void }[];
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
  const log = options.server?.log;
  const controllers = options.noControllers ? [] : [new DeploymentController(server.service, log), new ReplicaSetController(server.service, log)];
  for (const c of controllers) c.start();
  let kubelet: SimulatedKubelet | undefined;
  if (!options.noKubelet) {
    kubelet = new SimulatedKubelet({ apiUrl: server.httpUrl, token: server.token, logDir, images: options.images ?? defaultImages() });
    await kubelet.start();
  }
  return {
    url,
    httpUrl: server.httpUrl,
    token: server.token,
    kubeconfigPath,
    logDir,
    server,
    kubelet,
    controllers,
    async stop() {
      for (const c of controllers) c.stop();
      await kubelet?.stop();
      await server.stop();
    },
  };
}
