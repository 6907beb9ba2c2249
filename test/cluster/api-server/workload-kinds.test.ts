/**
 * StatefulSets, Jobs and PersistentVolumeClaims as the API serves them (no
 * kubelet: Pods stay Pending), seen through the real `kubectl`: discovery,
 * defaults, the Job's generated selector, Tables, immutable fields.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
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

async function getJson(...args: string[]): Promise<any> {
  return JSON.parse(await kubectl('get', ...args, '-o', 'json'));
}

beforeAll(async () => {
  cluster = await startTestCluster({ noKubelet: true });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('StatefulSets, Jobs and PVCs on the API test server (real kubectl)', () => {
  it('discovers statefulsets (sts), jobs and persistentvolumeclaims (pvc)', async () => {
    const rows = (await kubectl('api-resources', '--no-headers')).split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows).toContainEqual(['statefulsets', 'sts', 'apps/v1', 'true', 'StatefulSet']);
    expect(rows).toContainEqual(['jobs', 'batch/v1', 'true', 'Job']);
    expect(rows).toContainEqual(['persistentvolumeclaims', 'pvc', 'v1', 'true', 'PersistentVolumeClaim']);
  });

  it('gives `kubectl create job` a generated selector and labels, and shows it Running 0/1 while its Pod waits', async () => {
    await kubectl('create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi');
    const job = await getJson('job', 'once');
    const uid = job.metadata.uid;
    const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'once', 'controller-uid': uid, 'job-name': 'once' };
    expect(job.metadata.labels).toEqual(labels);
    expect(job.spec.template.metadata.labels).toEqual(labels);
    expect(job.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(job.spec.podReplacementPolicy).toBe('TerminatingOrFailed');
    expect(job.spec.template.spec).toMatchObject({ restartPolicy: 'Never', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler' });
    validate(Job, job);
    await vi.waitFor(async () => expect((await getJson('job', 'once')).status).toMatchObject({ active: 1, ready: 0 }), { timeout: 5000 });
    expect((await kubectl('get', 'job', 'once', '--no-headers')).split(/\s+/).slice(0, 3)).toEqual(['once', 'Running', '0/1']);
    const all = await kubectl('get', 'all', '-o', 'name');
    expect(all).toContain('job.batch/once');
    expect(all).toMatch(/pod\/once-[a-z0-9]{5}/);
  });

  it('binds a PVC at once with its requested size; its spec is fixed after creation', async () => {
    const file = join(cluster.logDir, '..', 'claim.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: claim}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 2Gi}}\n');
    await kubectl('apply', '-f', file);
    await vi.waitFor(async () => expect((await getJson('pvc', 'claim')).status.phase).toBe('Bound'), { timeout: 5000 });
    const pvc = await getJson('pvc', 'claim');
    expect(pvc.spec).toMatchObject({ volumeMode: 'Filesystem', storageClassName: 'standard', volumeName: `pvc-${pvc.metadata.uid}` });
    expect(pvc.status.capacity).toEqual({ storage: '2Gi' });
    validate(PersistentVolumeClaim, pvc);
    expect(await kubectlFails('patch', 'pvc', 'claim', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}')).toContain(
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    );
    const missing = join(cluster.logDir, '..', 'no-size.yaml');
    writeFileSync(missing, 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: no-size}\nspec:\n  accessModes: [ReadWriteOnce]\n');
    expect(await kubectlFails('apply', '-f', missing)).toContain('spec.resources[storage]: Required value');
  });

  it('keeps a StatefulSet waiting on its first Pod (OrderedReady) while that Pod is not Ready', async () => {
    const file = join(cluster.logDir, '..', 'web.yaml');
    writeFileSync(
      file,
      'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  replicas: 3\n  serviceName: web\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: main, image: busybox, command: [sleep, "300"]}]\n',
    );
    await kubectl('apply', '-f', file);
    await vi.waitFor(async () => expect((await getJson('sts', 'web')).status).toMatchObject({ observedGeneration: 1, replicas: 1 }), { timeout: 5000 });
    expect((await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).trim()).toBe('pod/web-0');
    expect((await kubectl('get', 'sts', 'web', '--no-headers')).split(/\s+/).slice(0, 2)).toEqual(['web', '0/3']);
    const status = await kubectlFails('rollout', 'status', 'sts/web', '--timeout=1s');
    expect(status).toContain('timed out waiting for the condition');
  });

  it('creates all Pods of a Parallel StatefulSet at once, and removes the highest ordinals when scaled down', async () => {
    const file = join(cluster.logDir, '..', 'par.yaml');
    const yaml = (replicas: number) =>
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: par}\nspec:\n  replicas: ${replicas}\n  podManagementPolicy: Parallel\n  serviceName: par\n  selector: {matchLabels: {app: par}}\n  template:\n    metadata: {labels: {app: par}}\n    spec:\n      containers: [{name: main, image: busybox, command: [sleep, "300"]}]\n`;
    writeFileSync(file, yaml(3));
    await kubectl('apply', '-f', file);
    const names = async () => (await kubectl('get', 'pods', '-l', 'app=par', '-o', 'name')).trim().split('\n').filter(Boolean);
    await vi.waitFor(async () => expect(await names()).toEqual(['pod/par-0', 'pod/par-1', 'pod/par-2']), { timeout: 5000 });
    writeFileSync(file, yaml(1));
    await kubectl('apply', '-f', file);
    await vi.waitFor(async () => expect(await names()).toEqual(['pod/par-0']), { timeout: 5000 });
    await vi.waitFor(async () => expect((await getJson('sts', 'par')).status).toMatchObject({ observedGeneration: 2, replicas: 1 }), { timeout: 5000 });
  });
});
