/**
 * The kubernetes executor end to end: a real `topas up --kubernetes` against the test
 * cluster (API server + simulated kubelet running `topas runner` as the runner Pods'
 * process) and the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startKubeHarness, type KubeHarness } from './harness.js';
import { RESOURCES } from '../../src/kube/kube-api.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../../src/kubernetes/manifests/names.js';

const SLOW_SCRIPT = (steps: number, ms: number) =>
  `for i = 1, ${steps} do\n  step("s" .. i, function()\n    log.info("line " .. i)\n    sleep(${ms})\n  end)\nend\n`;

describe('kubernetes executor (topas up --kubernetes, test cluster)', () => {
  let h: KubeHarness;
  let port: number;
  const TERMINAL = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];
  beforeAll(async () => {
    port = await freePort();
    // A fixed port: runner Pods reach a restarted topas at the same URL (as through a Service).
    h = await startKubeHarness({ topasArgs: ['--port', String(port), '--concurrency', '5'], env: { TOPAS_LEADER_ELECTION: '0' } });
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('runs an API run as a runner Pod: Passed with its whole log and steps, origin api, its objects cleaned up', async () => {
    const pods = await h.watchPods();
    const script = `${SLOW_SCRIPT(3, 10)}step("last", function() log.info("done") end)\n`;
    const run = await h.submit({ script, files: { 'lib/x.lua': 'return 1' } });
    const done = await h.waitForRun(run.id);
    expect(done, JSON.stringify([done.reason, done.message, h.topas.output().slice(-3000)])).toMatchObject({ phase: 'Passed', origin: 'api' });
    const log = await h.runLog(run.id);
    expect(log).toEqual(expect.arrayContaining(['line 1', 'line 2', 'line 3', 'done']));
    expect(done.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['s1', 'passed'], ['s2', 'passed'], ['s3', 'passed'], ['last', 'passed']]);
    expect(pods.created).toEqual([runnerPodName(run.id)]);
    // Pod, ConfigMap and Secret go once the run ended (the log is in topas).
    await expect.poll(async () => [
      await h.kube.find(RESOURCES.pod, 'default', runnerPodName(run.id)),
      await h.kube.find(RESOURCES.configMap, 'default', sourceConfigMapName(run.id)),
      await h.kube.find(RESOURCES.secret, 'default', tokenSecretName(run.id)),
    ], { timeout: 10_000 }).toEqual([null, null, null]);
    pods.stop();
    // The Kubernetes requests are counted by verb.
    const metrics = await fetch(`${h.topas.url}/metrics`, { headers: { authorization: `Bearer ${h.topas.token}` } }).then((r) => r.text());
    expect(metrics).toMatch(/topas_kube_requests_total\{verb="create",resource="pods",code="201"\} 1/);
    expect(metrics).toContain('# TYPE topas_reconcile_total counter');
    // Pod runs count in the engine's metrics as any run does.
    expect(metrics).toMatch(/topas_test_duration_seconds_count\{phase="Passed"\} 1/);
  }, 60_000);

  it('ends a run whose runner Pod is deleted mid-run Error/PodDeleted within 10 s, with the log up to then', async () => {
    const run = await h.submit({ script: 'for i = 1, 600 do\n  log.info("tick " .. i)\n  sleep(100)\nend\n' });
    await expect.poll(async () => (await h.runLog(run.id)).length, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(3);
    const deleted = await h.kubectl(['delete', 'pod', runnerPodName(run.id), '--wait=false']);
    expect(deleted.stderr).toBe('');
    const t0 = Date.now();
    const done = await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 15_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(done).toMatchObject({ phase: 'Error', reason: 'PodDeleted' });
    const log = await h.runLog(run.id);
    expect(log.slice(0, 3)).toEqual(['tick 1', 'tick 2', 'tick 3']);
  }, 60_000);

  it('cancels a running API run: the runner stops on its next heartbeat, Cancelled, its Pod removed', async () => {
    const run = await h.submit({ script: 'for i = 1, 600 do\n  log.info("tick " .. i)\n  sleep(100)\nend\n' });
    await expect.poll(async () => (await h.runLog(run.id)).length, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(1);
    const t0 = Date.now();
    const res = await h.api(`/api/runs/${run.id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    const done = await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 15_000);
    expect(done).toMatchObject({ phase: 'Cancelled' });
    expect(Date.now() - t0).toBeLessThan(8000);
    await expect.poll(() => h.kube.find(RESOURCES.pod, 'default', runnerPodName(run.id)), { timeout: 10_000 }).toBeNull();
  }, 60_000);

  it.each([
    ['evicted', 'Evicted', (ns: string, pod: string) => h.cluster.kubelet!.evict(ns, pod)],
    ['OOM-killed', 'OOMKilled', (ns: string, pod: string) => h.cluster.kubelet!.oomKill(ns, pod, 'runner')],
  ] as const)('ends a run whose runner Pod is %s Error/%s, with the log up to then', async (_what, reason, strike) => {
    const run = await h.submit({ script: 'for i = 1, 600 do\n  log.info("tick " .. i)\n  sleep(100)\nend\n' });
    await expect.poll(async () => (await h.runLog(run.id)).length, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    expect(strike('default', runnerPodName(run.id))).toBe(true);
    const done = await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 15_000);
    expect(done).toMatchObject({ phase: 'Error', reason });
    expect((await h.runLog(run.id)).slice(0, 2)).toEqual(['tick 1', 'tick 2']);
  }, 60_000);

  it('SIGKILL topas while 5 runner Pods run: the Pods go on, the restarted topas re-attaches, all Passed with their whole log', { timeout: 120_000 }, async () => {
    const script = 'for i = 1, 6 do\n  step("s" .. i, function()\n    log.info("line " .. i)\n    sleep(700)\n  end)\nend\n';
    const runs = await Promise.all(Array.from({ length: 5 }, (_, i) => h.submit({ name: `kill-${i}`, script })));
    // All five running, each past its first line.
    await expect.poll(async () => (await Promise.all(runs.map((r) => h.runLog(r.id)))).every((l) => l.length >= 1), { timeout: 45_000, interval: 200 }).toBe(true);
    await h.killTopas(h.topas, 'SIGKILL');
    const pods = await h.kube.list(RESOURCES.pod, 'default', { labelSelector: 'app.kubernetes.io/managed-by=topas' });
    expect(pods.items.filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running').length).toBe(5);
    await h.startTopas();
    for (const run of runs) {
      const done = await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 60_000).catch(async (error: unknown) => {
        // What the runner and topas said, for a run that did not end.
        const pod = await h.kubectl(['logs', runnerPodName(run.id)]);
        throw new Error(`${String(error)}\n--- runner Pod log:\n${pod.stdout}${pod.stderr}\n--- topas:\n${h.topas.output().slice(-6000)}`);
      });
      expect(done, JSON.stringify([done.reason, done.message])).toMatchObject({ phase: 'Passed' });
      expect(await h.runLog(run.id)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
      expect(done.steps).toHaveLength(6);
    }
  });

  it('--concurrency 5 with 20 runs submitted at once: never more than 5 runner Pods, each run exactly one Pod', async () => {
    const pods = await h.watchPods();
    const script = 'step("a", function()\n  sleep(300)\n  assert(true, "ok")\nend)\n';
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => h.submit({ name: `c-${i}`, script })));
    for (const run of runs) expect((await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 90_000)).phase).toBe('Passed');
    pods.stop();
    expect(pods.maxConcurrent).toBeLessThanOrEqual(5);
    // Only this test's runs: a Pod left by an earlier test (still running) is not one of them.
    const mine = new Set(runs.map((r) => runnerPodName(r.id)));
    expect(new Set(pods.created.filter((name) => mine.has(name)))).toEqual(mine);
    expect([...mine].every((name) => pods.creations.get(name) === 1)).toBe(true);
  }, 150_000);

  it('ends a run whose runner image cannot be pulled Error/ImagePullError once the grace period is over, and deletes its Pod', async () => {
    await h.killTopas(h.topas, 'SIGTERM');
    await h.startTopas({ env: { TOPAS_POD_GRACE_SECONDS: '2', TOPAS_RUNNER_IMAGE: 'registry.example.invalid/topas:nope' } });
    const t0 = Date.now();
    const run = await h.submit();
    const done = await h.waitForRun(run.id, (r) => TERMINAL.includes(r.phase), 20_000);
    expect(done).toMatchObject({ phase: 'Error', reason: 'ImagePullError' });
    expect(done.message).toContain('registry.example.invalid/topas:nope');
    expect(Date.now() - t0).toBeLessThan(2000 + 8000);
    await expect.poll(() => h.kube.find(RESOURCES.pod, 'default', runnerPodName(run.id)), { timeout: 10_000 }).toBeNull();
  }, 60_000);
});
