/**
 * The kubernetes executor across a leader change, on the test cluster (API server +
 * simulated kubelet running `topas runner`): the old leader was paused between creating
 * a run's token Secret and its Pod, the new leader adopted the run meanwhile; the old one
 * resumes, creates the Pod and stands by (`leaveAll`). The new leader follows that Pod to
 * the run's end — it neither ends the run at once for want of a Pod nor starts a second.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RecordingSink } from '../../src/executors/executor.contract.js';
import { ExecutorClosedError, type ExecutionJob } from '../../src/executors/executor.js';
import { createKubernetesExecutor, type KubeClient } from '../../src/executors/kubernetes/kubernetes-executor.js';
import { RunnerHub } from '../../src/executors/runner-hub.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { runnerPodName, tokenSecretName } from '../../src/kubernetes/manifests/names.js';
import { DEFAULT_RUNNER_IMAGE } from '../../src/config/config.js';
import { startRunnerTestServer, type RunnerTestServer } from '../../src/server/testing/runner-test-server.js';
import { startTestCluster, type TestCluster } from '../cluster/start-test-cluster.js';

describe('kubernetes executor: a run adopted while the old leader was starting it', () => {
  const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
  let cluster: TestCluster;
  let server: RunnerTestServer;
  let api: KubeApi;
  let pods: Informer<KubeObject>;
  beforeAll(async () => {
    cluster = await startTestCluster();
    server = await startRunnerTestServer(hub);
    api = new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    pods = new Informer<KubeObject>(api, RESOURCES.pod, { labelSelector: 'app.kubernetes.io/managed-by=topas' });
    pods.start();
    await pods.synced;
  }, 60_000);
  afterAll(async () => {
    await pods?.stop();
    await server?.close();
    await cluster?.stop();
  });

  const executor = (client: KubeClient) =>
    createKubernetesExecutor({ api: client, pods, hub, serverUrl: () => server.url, mintRunToken: async () => 'unused-auth-is-off', namespace: 'default', image: DEFAULT_RUNNER_IMAGE, checkMs: 200 });

  it('the new leader waits for the Pod the old one creates when it resumes, and follows it to Passed', { timeout: 60_000 }, async () => {
    // The old leader's API client: its Pod creation waits until it "resumes".
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const paused: KubeClient = {
      find: (...a) => api.find(...a),
      delete: (...a) => api.delete(...a),
      create: async (type, namespace, body) => {
        if (type === RESOURCES.pod) await resumed;
        return api.create(type, namespace, body);
      },
    };
    // The new leader's: tells when it has looked for the Pod (and found none).
    let lookedUp!: () => void;
    const looked = new Promise<void>((r) => (lookedUp = r));
    const watching: KubeClient = {
      find: async (type, namespace, name) => {
        const found = await api.find(type, namespace, name);
        if (type === RESOURCES.pod && !found) lookedUp();
        return found as never;
      },
      delete: (...a) => api.delete(...a),
      create: (...a) => api.create(...a),
    };
    const old = executor(paused);
    const leader = executor(watching);
    const job: ExecutionJob = {
      runId: crypto.randomUUID(),
      name: 'handover',
      script: 'step("s", function() log.info("ran once") end)\n',
      fileName: 'handover.lua',
      files: {},
      env: {},
      timeoutMs: 30_000,
      appName: null,
      appReadOnly: false,
    };
    const started = old.execute(job, new RecordingSink(), new AbortController().signal);
    started.catch(() => {});
    await vi.waitFor(async () => expect(await api.find(RESOURCES.secret, 'default', tokenSecretName(job.runId))).not.toBeNull(), { timeout: 10_000 });
    expect(await api.find(RESOURCES.pod, 'default', runnerPodName(job.runId))).toBeNull();

    // The new leader adopts the run now: a Secret, no Pod yet.
    const sink = new RecordingSink();
    const adopted = leader.attach(job, sink, new AbortController().signal);
    await looked;
    // The old leader resumes: it creates the Pod, notices it lost and stands by.
    resume();
    await vi.waitFor(async () => expect(await api.find(RESOURCES.pod, 'default', runnerPodName(job.runId))).not.toBeNull(), { timeout: 10_000 });
    old.leaveAll!();
    await expect(started).rejects.toBeInstanceOf(ExecutorClosedError);

    const completion = await adopted;
    expect(completion, JSON.stringify(completion)).toMatchObject({ phase: 'Passed' });
    expect(sink.events.filter((e) => e.type === 'log').map((e) => e.type === 'log' && e.message)).toEqual(['ran once']);
    await old.close();
    await leader.close();
  });

  it('a run with neither a Pod nor a token Secret has nothing left: attach answers null at once', async () => {
    const leader = executor(api);
    const job: ExecutionJob = { runId: crypto.randomUUID(), name: 'gone', script: '', fileName: 'gone.lua', files: {}, env: {}, timeoutMs: 30_000, appName: null, appReadOnly: false };
    await expect(leader.attach(job, new RecordingSink(), new AbortController().signal)).resolves.toBeNull();
    await leader.close();
  });
});
