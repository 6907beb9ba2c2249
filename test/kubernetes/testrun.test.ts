/**
 * The TestRun controller end to end: the test cluster (API server + simulated kubelet
 * running the runner Pods as `topas runner` processes), a real `topas up --kubernetes`,
 * and the real kubectl — what a user does and sees (`kubectl apply/get/describe/delete`,
 * the run in the API).
 */
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../../src/kubernetes/manifests/names.js';
import { createTestRepo, type TestRepo } from '../../src/runner/testing/git-repo.js';
import { startKubeHarness, type KubeHarness } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/kubernetes/testrun.yaml', import.meta.url));
const NS = 'default';
const TERMINAL = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];

interface TestRunStatusView {
  phase?: string;
  runId?: string;
  podName?: string;
  reason?: string;
  message?: string;
  summary?: Record<string, number>;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}
type TestRunView = KubeObject & { spec: Record<string, unknown>; status?: TestRunStatusView };

function testRun(name: string, spec: Record<string, unknown>, labels?: Record<string, string>) {
  return { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec };
}

describe('TestRun controller (topas up --kubernetes, test cluster, kubectl)', () => {
  let h: KubeHarness;
  let repo: TestRepo;

  const apply = async (...objects: object[]) => {
    const r = await h.kubectl(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  };
  const get = (name: string) => h.kube.find<TestRunView>(RESOURCES.testRun, NS, name);
  /** Waits (on the resource, as kubectl would see it) until the TestRun is `done`. */
  const waitFor = async (name: string, done: (tr: TestRunView) => boolean = (tr) => TERMINAL.includes(tr.status?.phase ?? ''), timeout = 30_000) => {
    let last: TestRunView | null = null;
    try {
      return await vi.waitFor(
        async () => {
          last = await get(name);
          if (!last || !done(last)) throw new Error('not yet');
          return last;
        },
        { timeout, interval: 100 },
      );
    } catch {
      throw new Error(`TestRun ${name} did not get there in ${timeout} ms; last seen: ${JSON.stringify((last as TestRunView | null)?.status)}\n${h.topas.output().slice(-3000)}`);
    }
  };
  const expectOwned = async (tr: TestRunView, objects: (readonly [(typeof RESOURCES)[keyof typeof RESOURCES], string])[]) => {
    for (const [type, name] of objects) {
      const o = await h.kube.get(type, NS, name);
      expect(o.metadata.ownerReferences, `${type.kind} ${name}`).toEqual([expect.objectContaining({ kind: 'TestRun', name: tr.metadata.name, uid: tr.metadata.uid, controller: true })]);
    }
  };
  const condition = (tr: TestRunView, type: string) => tr.status?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    // Runner Pods get a /tmp of their own and run as another user (as in a cluster), so the
    // repository lives elsewhere and is readable by all.
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = '/var/tmp';
    try {
      repo = createTestRepo();
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    execFileSync('chmod', ['-R', 'a+rX', dirname(dirname(fileURLToPath(repo.url)))]);
    h = await startKubeHarness({
      topasArgs: ['--concurrency', '5', '--git-allow-file'],
      env: { TOPAS_POD_GRACE_SECONDS: '2', TOPAS_LEADER_ELECTION: '0' },
    });
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
    repo?.remove();
  });

  it('kubectl apply of the example → Passed with printer columns, conditions and Events; the run is in the API with its k8sRef, steps and log; its Pod, ConfigMap and Secret are owned by it', async () => {
    const applied = await h.kubectl(['apply', '-f', EXAMPLE]);
    expect(applied).toMatchObject({ code: 0, stdout: expect.stringContaining('testrun.topas.dev/hello created') });
    const tr = await waitFor('hello');
    expect(tr.status).toMatchObject({ phase: 'Passed', summary: { stepsPassed: 3, stepsFailed: 0, assertionsPassed: 2, assertionsFailed: 0 } });
    expect(tr.metadata.finalizers).toContain('topas.dev/cleanup');

    const table = await h.kubectl(['get', 'testruns']);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+PHASE\s+APP\s+PASSED\s+FAILED\s+DURATION\s+AGE/);
    expect(row).toMatch(/^hello\s+Passed\s+(<none>\s+)?3\s+0\s+\S+\s+\S+/);
    expect((await h.kubectl(['get', 'tr', 'hello', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Passed');

    const described = (await h.kubectl(['describe', 'testrun', 'hello'])).stdout;
    for (const c of ['Ready', 'PodsHealthy', 'TestCompleted', 'SpecDrifted']) expect(described).toContain(c);
    expect(described).toMatch(/TestSucceeded/);
    expect(described).toMatch(/Normal\s+RunPassed\s+\S+\s+topas-controller\s+run \S+ ended Passed in/);

    // The run: origin crd, its k8sRef, labels, steps and whole log.
    const runs = (await h.api('/api/runs?origin=crd')).body.items as { id: string; k8sRef: unknown; labels: Record<string, string> }[];
    const run = runs.find((r) => r.id === tr.status!.runId)!;
    expect(run).toMatchObject({ k8sRef: { namespace: NS, name: 'hello', uid: tr.metadata.uid }, labels: { team: 'platform' } });
    const full = (await h.api(`/api/runs/${run.id}`)).body;
    expect(full).toMatchObject({ phase: 'Passed', origin: 'crd', name: 'hello' });
    expect(full.steps.length).toBeGreaterThanOrEqual(3);
    expect(await h.runLog(run.id)).toContain('hello from a runner Pod');

    // What the run made is owned by the TestRun (deleting it deletes them); the token Secret is deleted once the run ended.
    expect(tr.status!.podName).toBe(runnerPodName(run.id));
    await expectOwned(tr, [
      [RESOURCES.pod, runnerPodName(run.id)],
      [RESOURCES.configMap, sourceConfigMapName(run.id)],
    ]);
  }, 60_000);

  it('envFrom Secret values are masked in the log and the API whatever their names; the files ConfigMap is the folder for require', async () => {
    await h.kube.create(RESOURCES.secret, NS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-creds' }, stringData: { API_HOST: 'internal-api.corp.example' } } as KubeObject);
    await h.kube.create(RESOURCES.configMap, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'masked-files' }, data: { 'lib_2Fhelpers.lua': 'return { answer = 42 }\n' } } as KubeObject);
    await apply(
      testRun('masked', {
        envFrom: [{ secretRef: { name: 'api-creds' } }],
        files: { configMapRef: { name: 'masked-files' } },
        script: 'local h = require("lib.helpers")\nlog.info("host is " .. env.API_HOST)\nstep("answer", function() assert(h.answer == 42, "answer") end)\n',
      }),
    );
    const tr = await waitFor('masked');
    expect(tr.status?.phase).toBe('Passed');
    const log = await h.runLog(tr.status!.runId!);
    expect(log).toContain('host is ***');
    expect(log.join('\n')).not.toContain('internal-api.corp.example');
    const run = (await h.api(`/api/runs/${tr.status!.runId}`)).body;
    expect(run.env.API_HOST).toBe('***');
  }, 45_000);

  it('a failing script → Failed with the assertion file:line in the status message; a runaway → TimedOut', async () => {
    await apply(
      testRun('failing', { fileName: 'fail.lua', script: 'step("one", function()\n  log.info("about to fail")\n  assert(1 == 2, "one is not two")\nend)\n' }),
      testRun('runaway', { timeout: '2s', script: 'step("forever", function()\n  while true do sleep(50) end\nend)\n' }),
    );
    const failing = await waitFor('failing');
    expect(failing.status).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: expect.stringMatching(/fail\.lua:3/) });
    expect(condition(failing, 'TestCompleted')).toMatchObject({ status: 'True', reason: 'TestFailed' });
    const runaway = await waitFor('runaway');
    expect(runaway.status).toMatchObject({ phase: 'TimedOut' });
    expect(condition(runaway, 'TestCompleted')).toMatchObject({ status: 'True', reason: 'TestTimedOut' });
  }, 45_000);

  it('an unknown runner image → Error (ImagePullError) within the grace period', async () => {
    await apply(testRun('bad-image', { runner: { image: 'registry.invalid/nothing:1' }, script: 'log("never")\n' }));
    const tr = await waitFor('bad-image', undefined, 20_000);
    expect(tr.status).toMatchObject({ phase: 'Error', reason: 'ImagePullError' });
    expect(condition(tr, 'PodsHealthy')).toMatchObject({ status: 'False', reason: 'ImagePullError' });
  }, 30_000);

  it('a spec the API server let through but topas refuses (two sources) → Error/InvalidSpec naming the fields, then gone after its TTL', async () => {
    await apply(testRun('two-sources', { script: 'log.info(1)\n', definition: 'smoke', ttlSecondsAfterFinished: 1 }));
    const tr = await waitFor('two-sources');
    expect(tr.status).toMatchObject({ phase: 'Error', reason: 'InvalidSpec', message: expect.stringContaining('spec.definition: give exactly one of script, git and definition') });
    expect(condition(tr, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    // ttlSecondsAfterFinished counts from the refusal too
    await expect.poll(() => get('two-sources'), { timeout: 10_000, interval: 100 }).toBeNull();
  }, 30_000);

  it('a missing Secret → Error, Ready=False, no retry loop; a later spec change runs it', async () => {
    await apply(testRun('needs-secret', { envFrom: [{ secretRef: { name: 'not-yet' } }], script: 'step("s", function() assert(env.WORD == "hi") end)\n' }));
    const rejected = await waitFor('needs-secret');
    expect(rejected.status).toMatchObject({ phase: 'Error', reason: 'SecretNotFound', message: expect.stringContaining('Secret default/not-yet does not exist') });
    expect(condition(rejected, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(rejected.status?.runId).toBeUndefined();

    await h.kube.create(RESOURCES.secret, NS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-yet' }, stringData: { WORD: 'hi' } } as KubeObject);
    const patched = await h.kubectl(['patch', 'testrun', 'needs-secret', '--type', 'merge', '-p', '{"spec":{"timeout":"1m"}}']);
    expect(patched.code).toBe(0);
    const tr = await waitFor('needs-secret', (t) => t.status?.phase === 'Passed');
    expect(tr.status?.runId).toBeDefined();
  }, 45_000);

  it('a git source runs at a tag and at a commit SHA, and the run records the commit', async () => {
    await apply(
      testRun('git-tag', { git: { url: repo.url, path: 'tests/smoke.lua', revision: 'v1' } }),
      testRun('git-sha', { git: { url: repo.url, path: 'tests/smoke.lua', revision: repo.commits.first } }),
    );
    for (const name of ['git-tag', 'git-sha']) {
      const tr = await waitFor(name);
      expect(tr.status, `${name}: ${tr.status?.message}`).toMatchObject({ phase: 'Passed', summary: { assertionsPassed: 1, assertionsFailed: 0 } });
      // The init container's checkout told the commit (its termination message); both resolve to the first commit.
      const run = (await h.api(`/api/runs/${tr.status!.runId}`)).body;
      expect(run.source).toMatchObject({ type: 'git', commit: repo.commits.first });
    }
  }, 45_000);

  it('a spec change while running is ignored (SpecDrifted); deleting a running TestRun cancels its run, removes its Pod and ConfigMap, and keeps the run record', async () => {
    await apply(testRun('to-delete', { script: 'log.info("started")\nstep("long", function() sleep(60000) end)\n' }));
    const running = await waitFor('to-delete', (t) => t.status?.phase === 'Running' && condition(t, 'Ready')?.status === 'True');
    const runId = running.status!.runId!;
    await expectOwned(running, [
      [RESOURCES.pod, runnerPodName(runId)],
      [RESOURCES.configMap, sourceConfigMapName(runId)],
      [RESOURCES.secret, tokenSecretName(runId)],
    ]);
    await h.waitForRun(runId, (r) => r.phase === 'Running');
    await vi.waitFor(async () => expect((await h.kube.get<KubeObject & { status?: { phase?: string } }>(RESOURCES.pod, NS, runnerPodName(runId))).status?.phase).toBe('Running'), { timeout: 15_000, interval: 100 });
    // A spec change after the start is ignored, and the status says so.
    expect((await h.kubectl(['patch', 'testrun', 'to-delete', '--type', 'merge', '-p', '{"spec":{"env":{"LATE":"1"}}}'])).code).toBe(0);
    const drifted = await waitFor('to-delete', (t) => condition(t, 'SpecDrifted')?.status === 'True');
    expect(condition(drifted, 'SpecDrifted')).toMatchObject({ reason: 'SpecChangedAfterStart', message: expect.stringContaining('the change is ignored') });
    expect(drifted.status).toMatchObject({ phase: 'Running', runId, observedGeneration: 2, runGeneration: 1 });

    const deleted = await h.kubectl(['delete', 'testrun', 'to-delete', '--wait=true', '--timeout=30s']);
    expect(deleted.code).toBe(0);
    expect(await get('to-delete')).toBeNull();
    const run = await h.waitForRun(runId);
    expect(run).toMatchObject({ phase: 'Cancelled', k8sRef: { name: 'to-delete' } });
    await expect
      .poll(async () => [await h.kube.find(RESOURCES.pod, NS, runnerPodName(runId)), await h.kube.find(RESOURCES.configMap, NS, sourceConfigMapName(runId))], { timeout: 10_000 })
      .toEqual([null, null]);
  }, 60_000);

  it('ttlSecondsAfterFinished deletes the TestRun (not its run) once that long after the end', async () => {
    await apply(testRun('short-lived', { ttlSecondsAfterFinished: 1, script: 'step("quick", function() end)\n' }));
    const tr = await waitFor('short-lived');
    expect(tr.status?.phase).toBe('Passed');
    await expect.poll(() => get('short-lived'), { timeout: 10_000, interval: 100 }).toBeNull();
    expect((await h.api(`/api/runs/${tr.status!.runId}`)).body).toMatchObject({ phase: 'Passed', k8sRef: { name: 'short-lived' } });
  }, 30_000);
});

