/**
 * The executor contract (`executor.contract.ts`) for the `kubernetes` executor: every
 * run a runner Pod on the test cluster (API server + simulated kubelet), talking the
 * runner protocol to a real HTTP server. Instances share the cluster, the server and
 * the Pod informer (as topas instances share a cluster), so one attaches to what
 * another started.
 */
import { RunnerHub } from '../../src/executors/runner-hub.js';
import { describeExecutorContract } from '../../src/executors/executor.contract.js';
import { createKubernetesExecutor } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { DEFAULT_RUNNER_IMAGE } from '../../src/config/config.js';
import { startRunnerTestServer, type RunnerTestServer } from '../../src/server/testing/runner-test-server.js';
import { startTestCluster, type TestCluster } from '../cluster/start-test-cluster.js';

const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
let cluster: TestCluster | null = null;
let server: RunnerTestServer | null = null;
let pods: Informer<KubeObject> | null = null;
let api: KubeApi | null = null;

describeExecutorContract('kubernetes', {
  async create() {
    cluster ??= await startTestCluster();
    server ??= await startRunnerTestServer(hub);
    api ??= new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    if (!pods) {
      pods = new Informer<KubeObject>(api, RESOURCES.pod, { labelSelector: 'app.kubernetes.io/managed-by=topas' });
      pods.start();
      await pods.synced;
    }
    const url = server.url;
    return createKubernetesExecutor({
      api,
      pods,
      hub,
      serverUrl: () => url,
      mintRunToken: async () => 'unused-auth-is-off',
      namespace: 'default',
      image: DEFAULT_RUNNER_IMAGE,
      cancelGraceMs: 2000,
      checkMs: 200,
    });
  },
  async dispose() {
    await pods?.stop();
    await server?.close();
    await cluster?.stop();
  },
  // A runner Pod: the kubelet sees it, starts Node.js, which loads Lua; seconds on a busy machine.
  timings: { startMs: 5000, cancelWithinMs: 3000, timeoutSlackMs: 3000 },
});
