/**
 * The AppRuntime contract (`src/apps/app-runtime.contract.ts`) for the Kubernetes
 * runtime: the App resource on the test cluster (API server, workload controllers,
 * kube-proxy, simulated kubelet running `topas/demo-users:v1|v2` and `postgres`), with
 * the App reconciler converging it as the leader does (`server/kubernetes-composition.ts`):
 * one App informer and one Pod informer on the namespace, a store (PGlite in memory),
 * `KubernetesAppRuntime` and `startAppReconciler` over them.
 */
import { KubernetesAppRuntime } from '../../src/apps/kubernetes/kubernetes-app-runtime.js';
import { describeAppRuntimeContract } from '../../src/apps/app-runtime.contract.js';
import { startAppReconciler, type RunningAppReconciler } from '../../src/controller/app-reconciler.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { topasCrds } from '../../src/kubernetes/crd/testrun-crd.js';
import { openPglite } from '../../src/store/pglite-sql.js';
import { createPostgresStore } from '../../src/store/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { startTestCluster, type TestCluster } from '../cluster/start-test-cluster.js';

const NAMESPACE = 'default';

let cluster: TestCluster | null = null;
let apps: Informer<KubeObject> | null = null;
let pods: Informer<KubeObject> | null = null;
let store: Store | null = null;
let reconciler: RunningAppReconciler | null = null;

describeAppRuntimeContract('kubernetes', {
  async create() {
    cluster = await startTestCluster({ jobBackOffMs: 500 });
    const api = new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    for (const crd of topasCrds()) await api.create(RESOURCES.crd, undefined, crd as unknown as KubeObject);
    apps = new Informer<KubeObject>(api, RESOURCES.app, { namespace: NAMESPACE });
    pods = new Informer<KubeObject>(api, RESOURCES.pod, { namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=topas' });
    apps.start();
    pods.start();
    await Promise.all([apps.synced, pods.synced]);
    store = createPostgresStore(await openPglite(undefined));
    await store.migrate();
    reconciler = startAppReconciler({ api, namespace: NAMESPACE, apps, pods, store, retry: { baseDelayMs: 200, maxDelayMs: 2000 } });
    await reconciler.ready;
    return new KubernetesAppRuntime({ api, namespace: NAMESPACE, apps });
  },
  async dispose() {
    await reconciler?.stop();
    await Promise.all([apps?.stop(), pods?.stop()]);
    await store?.close();
    await cluster?.stop();
  },
  // Pods: the kubelet sees them, starts Node.js or PostgreSQL (initdb), probes them; a rollout replaces them one at a time.
  timings: { readyMs: 180_000, settleMs: 60_000 },
});
