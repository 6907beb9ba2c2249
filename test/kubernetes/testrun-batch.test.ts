/**
 * Many TestRuns at once under the one global concurrency limit, and recording a run
 * exactly once — also when topas died after recording it but before writing
 * `status.runId`. Real `topas up --kubernetes`, the test cluster and kubectl.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { runnerPodName } from '../../src/kubernetes/manifests/names.js';
import { startKubeHarness, type KubeHarness } from './harness.js';

/** How many TestRuns the batch applies (the 50; lower it locally with TOPAS_TEST_TESTRUNS). */
const COUNT = Number(process.env.TOPAS_TEST_TESTRUNS ?? 50);
const CONCURRENCY = 5;
const NS = 'default';

type TestRunView = KubeObject & { status?: { phase?: string; runId?: string; conditions?: { type: string; status: string; reason: string }[] } };

describe('TestRuns under the global concurrency limit (topas up --kubernetes --concurrency 5)', () => {
  let h: KubeHarness;
  beforeAll(async () => {
    h = await startKubeHarness({ topasArgs: ['--concurrency', String(CONCURRENCY)], env: { TOPAS_LEADER_ELECTION: '0' } });
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  });

  const list = async () => (await h.kube.list<TestRunView>(RESOURCES.testRun, NS)).items;

  it(`${COUNT} TestRuns applied at once: never more than ${CONCURRENCY} runner Pods, the rest Queued (WaitingForCapacity); all Passed, one Pod each`, async () => {
    const pods = await h.watchPods();
    const docs = Array.from({ length: COUNT }, (_, i) =>
      stringify({ apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: `batch-${i}`, namespace: NS, labels: { batch: 'b1' } }, spec: { script: `step("s${i}", function() assert(${i} == ${i}) end)\n` } }),
    );
    const applied = await h.kubectl(['apply', '-f', '-'], docs.join('---\n'));
    expect(applied.code, applied.stderr).toBe(0);

    // While the first ones run, the others wait as Queued, saying why.
    await vi.waitFor(
      async () => {
        const waiting = (await list()).filter((t) => t.status?.phase === 'Queued' && t.status.conditions?.some((c) => c.type === 'Ready' && c.reason === 'WaitingForCapacity'));
        expect(waiting.length).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 100 },
    );

    const TERMINAL = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];
    await vi.waitFor(
      async () => {
        const ended = (await list()).filter((t) => TERMINAL.includes(t.status?.phase ?? ''));
        expect(ended.length).toBe(COUNT);
      },
      { timeout: 360_000, interval: 250 },
    );
    const trs = await list();
    const notPassed = trs.filter((t) => t.status?.phase !== 'Passed').map((t) => ({ name: t.metadata.name, status: t.status }));
    expect(notPassed).toEqual([]);
    expect(pods.maxConcurrent).toBeLessThanOrEqual(CONCURRENCY);
    expect(pods.maxConcurrent).toBeGreaterThan(1);
    // Exactly one Pod ever created per TestRun, named from its run.
    expect(pods.created.length).toBe(COUNT);
    expect([...pods.creations.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(pods.created)).toEqual(new Set(trs.map((t) => runnerPodName(t.status!.runId!))));
    // One run per TestRun in the store.
    const runs = (await h.api('/api/runs?origin=crd&label=batch%3Db1&limit=200')).body.items as { k8sRef: { uid: string } }[];
    expect(runs.length).toBe(COUNT);
    expect(new Set(runs.map((r) => r.k8sRef.uid)).size).toBe(COUNT);
    pods.stop();
    // Kubernetes API requests by verb (for the report; the bench measures per TestRun).
    const metrics = await fetch(`${h.topas.url}/metrics`).then((r) => r.text());
    console.log(metrics.split('\n').filter((l) => l.startsWith('topas_kube_requests_total') || l.startsWith('topas_reconcile_total')).join('\n'));
  }, 420_000);

  it('topas killed after recording a run and before writing status.runId: the restarted controller finds that run, never makes a second', async () => {
    await h.killTopas();
    // Applied while no topas runs, so the test knows the uid before any reconcile.
    const applied = await h.kubectl(['apply', '-f', '-'], stringify({ apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: 'once', namespace: NS }, spec: { script: 'step("once", function() end)\n' } }));
    expect(applied.code, applied.stderr).toBe(0);
    await h.startTopas();
    const first = await vi.waitFor(
      async () => {
        const tr = await h.kube.get<TestRunView>(RESOURCES.testRun, NS, 'once');
        expect(tr.status?.phase).toBe('Passed');
        return tr;
      },
      { timeout: 60_000, interval: 100 },
    );
    const runId = first.status!.runId!;

    // The crash: topas dies, and the resource looks as if status.runId was never written.
    await h.killTopas();
    const cleared = await h.kubectl(['patch', 'testrun', 'once', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: null, runId: null, podName: null, summary: null, conditions: null } })]);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect((await h.kube.get<TestRunView>(RESOURCES.testRun, NS, 'once')).status?.runId).toBeUndefined();

    await h.startTopas();
    const again = await vi.waitFor(
      async () => {
        const tr = await h.kube.get<TestRunView>(RESOURCES.testRun, NS, 'once');
        expect(tr.status).toMatchObject({ phase: 'Passed', runId });
        return tr;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(again.status?.runId).toBe(runId);
    const runs = (await h.api('/api/runs?origin=crd&limit=200')).body.items as { id: string; k8sRef: { name: string } }[];
    expect(runs.filter((r) => r.k8sRef.name === 'once').map((r) => r.id)).toEqual([runId]);
  }, 150_000);
});
