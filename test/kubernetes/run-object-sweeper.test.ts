/**
 * The sweeper of ended runs' leftovers, on the test cluster: objects a run's executor
 * failed to delete (it died after storing the run's end) go once the run has ended for
 * the grace period; objects of running runs, of TestRuns, and of runs that ended just
 * now stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunObjectSweeper } from '../../src/controller/run-object-sweeper.js';
import type { Run } from '../../src/core/run.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { runLabels } from '../../src/kubernetes/manifests/labels.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../../src/kubernetes/manifests/names.js';
import { startTestCluster, type TestCluster } from '../cluster/start-test-cluster.js';

const NS = 'default';

describe('the sweeper of ended runs\' Kubernetes objects', () => {
  let cluster: TestCluster;
  let api: KubeApi;
  let pods: Informer<KubeObject>;
  beforeAll(async () => {
    cluster = await startTestCluster();
    api = new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    pods = new Informer<KubeObject>(api, RESOURCES.pod, { labelSelector: 'app.kubernetes.io/managed-by=topas' });
    pods.start();
    await pods.synced;
  }, 60_000);
  afterAll(async () => {
    await pods?.stop();
    await cluster?.stop();
  });

  /** What a run's executor creates: token Secret, source ConfigMap, runner Pod (never scheduled to run: an image the kubelet lacks is fine here). */
  const leave = async (runId: string, testRun?: string) => {
    const labels = runLabels(runId, testRun);
    await api.create(RESOURCES.secret, NS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: tokenSecretName(runId), namespace: NS, labels }, stringData: { token: 'x' } } as unknown as KubeObject);
    await api.create(RESOURCES.configMap, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: sourceConfigMapName(runId), namespace: NS, labels }, data: { 'test.lua': 'print(1)' } } as unknown as KubeObject);
    await api.create(RESOURCES.pod, NS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: runnerPodName(runId), namespace: NS, labels: { ...labels, 'app.kubernetes.io/component': 'runner' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'runner', image: 'example.invalid/not-pulled:1' }] },
    } as unknown as KubeObject);
  };
  const present = async (runId: string) =>
    (
      await Promise.all([
        api.find(RESOURCES.pod, NS, runnerPodName(runId)),
        api.find(RESOURCES.configMap, NS, sourceConfigMapName(runId)),
        api.find(RESOURCES.secret, NS, tokenSecretName(runId)),
      ])
    ).map((o) => o !== null && !o.metadata.deletionTimestamp);

  it('deletes the Pod, ConfigMap and token Secret of runs that ended over the grace period ago, and nothing else', { timeout: 60_000 }, async () => {
    const now = Date.now();
    const ended = crypto.randomUUID();
    const justEnded = crypto.randomUUID();
    const running = crypto.randomUUID();
    const forgotten = crypto.randomUUID(); // the store has no such run any more (retention)
    const ofTestRun = crypto.randomUUID();
    const runs = new Map<string, Partial<Run>>([
      [ended, { phase: 'Passed', createdAt: new Date(now - 600_000).toISOString(), finishedAt: new Date(now - 300_000).toISOString() }],
      [justEnded, { phase: 'Failed', createdAt: new Date(now).toISOString(), finishedAt: new Date(now + 100_000).toISOString() }], // 20 s before the sweep
      [running, { phase: 'Running', createdAt: new Date(now - 900_000).toISOString(), finishedAt: null }],
      [ofTestRun, { phase: 'Passed', createdAt: new Date(now - 600_000).toISOString(), finishedAt: new Date(now - 300_000).toISOString() }],
    ]);
    for (const id of [ended, justEnded, running, forgotten]) await leave(id);
    await leave(ofTestRun, 'nightly');
    await expect.poll(() => pods.list().filter((p) => p.metadata.name === runnerPodName(forgotten)).length).toBe(1);

    // 2 minutes from now: the forgotten run's objects (created just now) are past the grace period too
    const sweeper = startRunObjectSweeper({ api, pods, namespace: NS, graceMs: 60_000, intervalMs: 3_600_000, now: () => now + 120_000, getRun: async (id) => (runs.get(id) as Run | undefined) ?? null });
    try {
      const swept = await sweeper.sweep();
      expect(swept.sort()).toEqual([ended, forgotten].sort());
      expect(await present(ended)).toEqual([false, false, false]);
      expect(await present(forgotten)).toEqual([false, false, false]);
      expect(await present(justEnded)).toEqual([true, true, true]);
      expect(await present(running)).toEqual([true, true, true]);
      expect(await present(ofTestRun)).toEqual([true, true, true]);
    } finally {
      await sweeper.stop();
    }
  });
});
