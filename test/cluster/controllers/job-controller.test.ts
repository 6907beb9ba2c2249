/**
 * Jobs in the test cluster, driven as a user would: the real `kubectl` against
 * `startTestCluster()`, with busybox containers run by the simulated kubelet.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Pod } from 'kubernetes-models/v1/Pod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validate } from '../../../src/kubernetes/testing/validate.js';
import { startTestCluster, type TestCluster } from '../start-test-cluster.js';

const run = promisify(execFile);
let cluster: TestCluster;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
  return stdout;
}

async function kubectlFails(...args: string[]): Promise<string> {
  try {
    await kubectl(...args);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded`);
}

async function apply(name: string, yaml: string): Promise<void> {
  const file = join(cluster.logDir, '..', `${name}.yaml`);
  writeFileSync(file, yaml);
  await kubectl('apply', '-f', file);
}

async function getJson(...args: string[]): Promise<any> {
  return JSON.parse(await kubectl('get', ...args, '-o', 'json'));
}

const waitOpts = { timeout: 20_000, interval: 100 };

beforeAll(async () => {
  cluster = await startTestCluster({ jobBackOffMs: 100 });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('Jobs in the test cluster (real kubectl)', () => {
  it('runs a Job that succeeds: kubectl wait --for=condition=complete returns, status and columns as kube 1.32 shows them', async () => {
    await apply(
      'hello-job',
      `
apiVersion: batch/v1
kind: Job
metadata: {name: hello}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, command: [sh, -c, 'echo hello from the job']}
`,
    );
    await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=20s');
    const job = await getJson('job', 'hello');
    const uid = job.metadata.uid;
    expect(job.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    });
    expect(job.spec.manualSelector).toBeUndefined();
    expect(job.spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'hello',
      'controller-uid': uid,
      'job-name': 'hello',
    });
    expect(job.status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0 });
    expect(job.status.active).toBeUndefined();
    expect(job.status.startTime).toBeTruthy();
    expect(job.status.completionTime).toBeTruthy();
    expect(job.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    validate(Job, job);

    const pods = await getJson('pods', '-l', 'job-name=hello');
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0];
    expect(pod.metadata.name).toMatch(/^hello-[a-z0-9]{5}$/);
    expect(pod.metadata.labels['batch.kubernetes.io/job-name']).toBe('hello');
    expect(pod.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'hello', uid, controller: true, blockOwnerDeletion: true }]);
    expect(pod.status.phase).toBe('Succeeded');
    validate(Pod, pod);
    expect(await kubectl('logs', 'job/hello')).toBe('hello from the job\n');
    const described = await kubectl('describe', 'job', 'hello');
    expect(described).toMatch(/Normal\s+SuccessfulCreate\s+.*job-controller\s+Created pod: hello-[a-z0-9]{5}/);
    expect(described).toMatch(/Normal\s+Completed\s+.*job-controller\s+Job completed/);

    const table = await kubectl('get', 'job', 'hello');
    expect(table.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(table.split('\n')[1]).toMatch(/^hello\s+Complete\s+1\/1\s+\d+s\s+\d+s$/);
  });

  it('retries a failing Job up to backoffLimit, then marks it Failed with BackoffLimitExceeded', async () => {
    await apply(
      'failing-job',
      `
apiVersion: batch/v1
kind: Job
metadata: {name: failing}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox, command: [sh, -c, 'echo trying; exit 3']}
`,
    );
    await kubectl('wait', '--for=condition=failed', 'job/failing', '--timeout=20s');
    const job = await getJson('job', 'failing');
    expect(job.status).toMatchObject({ failed: 3, ready: 0 });
    expect(job.status.succeeded).toBeUndefined();
    expect(job.status.completionTime).toBeUndefined();
    expect(job.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    validate(Job, job);
    const pods = (await getJson('pods', '-l', 'batch.kubernetes.io/job-name=failing')).items;
    expect(pods.map((p: any) => p.status.phase)).toEqual(['Failed', 'Failed', 'Failed']);
    expect((await kubectl('get', 'job', 'failing', '--no-headers')).split(/\s+/).slice(0, 3)).toEqual(['failing', 'Failed', '0/1']);
  });

  it('fails a Job that runs past activeDeadlineSeconds (DeadlineExceeded) and stops its Pod', async () => {
    await apply(
      'slow-job',
      `
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sleep, '60']}]
`,
    );
    await kubectl('wait', '--for=condition=failed', 'job/slow', '--timeout=20s');
    const job = await getJson('job', 'slow');
    expect(job.status.conditions.map((c: any) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'DeadlineExceeded'],
      ['Failed', 'DeadlineExceeded'],
    ]);
    expect(job.status.active).toBeUndefined();
    await vi.waitFor(async () => expect(await kubectl('get', 'pods', '-l', 'job-name=slow', '-o', 'name')).toBe(''), waitOpts);
  });

  it('retries in place with restartPolicy OnFailure until the container succeeds', async () => {
    await apply(
      'flaky-job',
      `
apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: main
        image: busybox
        command: [sh, -c, 'if [ -e /work/second ]; then echo ok; else touch /work/second; exit 1; fi']
        volumeMounts: [{name: work, mountPath: /work}]
      volumes: [{name: work, emptyDir: {}}]
`,
    );
    await kubectl('wait', '--for=condition=complete', 'job/flaky', '--timeout=20s');
    const pods = (await getJson('pods', '-l', 'job-name=flaky')).items;
    expect(pods).toHaveLength(1);
    expect(pods[0].status.containerStatuses[0].restartCount).toBe(1);
  });

  it('refuses a change of a Job template with kube’s 422, and a template restartPolicy of Always', async () => {
    const err = await kubectlFails('patch', 'job', 'hello', '--type=merge', '-p', '{"spec":{"template":{"spec":{"activeDeadlineSeconds":5}}}}');
    expect(err).toContain('The Job "hello" is invalid: spec.template: Invalid value:');
    expect(err).toContain('field is immutable');
    const file = join(cluster.logDir, '..', 'always.yaml');
    writeFileSync(file, 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: always}\nspec:\n  template:\n    spec:\n      containers: [{name: main, image: busybox}]\n');
    const always = await kubectlFails('create', '-f', file);
    expect(always).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  it('deletes a finished Job and its Pods ttlSecondsAfterFinished after it finished', async () => {
    await apply(
      'short-lived',
      `
apiVersion: batch/v1
kind: Job
metadata: {name: short-lived}
spec:
  ttlSecondsAfterFinished: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: ['true']}]
`,
    );
    // No `kubectl wait` for Complete first: on a busy machine the Job may be gone (1 s after it
    // finished) before kubectl starts. Its Events outlive it and say it completed first.
    await vi.waitFor(async () => {
      expect(await kubectl('get', 'jobs', '-o', 'name')).not.toContain('short-lived');
      expect(await kubectl('get', 'pods', '-l', 'job-name=short-lived', '-o', 'name')).toBe('');
    }, waitOpts);
    const reasons = await kubectl('get', 'events', '--field-selector', 'involvedObject.kind=Job,involvedObject.name=short-lived', '-o', 'jsonpath={.items[*].reason}');
    expect(reasons.split(' ')).toContain('Completed');
  });
});
