/**
 * The kubernetes executor end to end: a real `topas up --kubernetes` against the test
 * cluster (API server + simulated kubelet running `topas runner` as the runner Pods'
 * process) and the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeHarness, type KubeHarness } from './harness.js';
import { RESOURCES } from '../../src/controller/kube/kube-api.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../../src/kubernetes/manifests/names.js';

const SLOW_SCRIPT = (steps: number, ms: number) =>
  `for i = 1, ${steps} do\n  step("s" .. i, function()\n    log.info("line " .. i)\n    sleep(${ms})\n  end)\nend\n`;

describe('kubernetes executor (topas up --kubernetes, test cluster)', () => {
  let h: KubeHarness;
  beforeAll(async () => {
    h = await startKubeHarness({ env: { TOPAS_POD_GRACE_SECONDS: '2', TOPAS_LEADER_ELECTION: '0' } });
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
  }, 60_000);
});
