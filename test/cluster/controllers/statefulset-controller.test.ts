/**
 * StatefulSets and PersistentVolumeClaims in the test cluster, driven as a user
 * would: the real `kubectl` against `startTestCluster()`, with busybox
 * containers run by the simulated kubelet.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validate } from '../../../src/kubernetes/testing/validate.js';
import { localVolumePath } from '../local-volumes.js';
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

function dbYaml(version: string): string {
  return `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: main
        image: busybox
        command: [sh, -c, 'echo "$(POD) ${version}" >> /data/boots; exec sleep 300']
        env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;
}

beforeAll(async () => {
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('StatefulSets in the test cluster (real kubectl)', () => {
  it('creates Pods <name>-<ordinal> in order with a Bound PVC each; kubectl rollout status and get show them as kube does', async () => {
    await apply('db', dbYaml('v1'));
    await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s');
    const sts = await getJson('sts', 'db');
    expect(sts.spec).toMatchObject({ podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10 });
    expect(sts.spec.volumeClaimTemplates[0].spec.volumeMode).toBe('Filesystem');
    expect(sts.metadata.generation).toBe(1);
    expect(sts.status).toMatchObject({ observedGeneration: 1, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(sts.status.currentRevision).toMatch(/^db-[a-z0-9]+$/);
    expect(sts.status.updateRevision).toBe(sts.status.currentRevision);
    validate(StatefulSet, sts);

    const pods = (await getJson('pods', '-l', 'app=db')).items;
    expect(pods.map((p: any) => p.metadata.name)).toEqual(['db-0', 'db-1']);
    // OrderedReady: db-1 was created only once db-0 was Ready.
    const ready0 = pods[0].status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
    expect(Date.parse(pods[1].metadata.creationTimestamp)).toBeGreaterThanOrEqual(Date.parse(ready0));
    for (const [i, pod] of pods.entries()) {
      expect(pod.metadata.labels).toMatchObject({
        app: 'db',
        'statefulset.kubernetes.io/pod-name': `db-${i}`,
        'apps.kubernetes.io/pod-index': String(i),
        'controller-revision-hash': sts.status.updateRevision,
      });
      expect(pod.spec).toMatchObject({ hostname: `db-${i}`, subdomain: 'db' });
      expect(pod.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: `data-db-${i}` } });
      validate(Pod, pod);
    }

    const pvc = await getJson('pvc', 'data-db-0');
    expect(pvc.spec).toMatchObject({ volumeMode: 'Filesystem', volumeName: `pvc-${pvc.metadata.uid}`, storageClassName: 'standard' });
    expect(pvc.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    expect(pvc.metadata.labels).toEqual({ app: 'db' });
    validate(PersistentVolumeClaim, pvc);

    expect(await kubectl('describe', 'sts', 'db')).toMatch(/SuccessfulCreate\s+.*statefulset-controller\s+create Pod db-1 in StatefulSet db successful/);
    const stsTable = (await kubectl('get', 'sts', 'db')).split('\n');
    expect(stsTable[0]!.split(/\s+/)).toEqual(['NAME', 'READY', 'AGE']);
    expect(stsTable[1]).toMatch(/^db\s+2\/2\s+\d+s$/);
    const pvcTable = (await kubectl('get', 'pvc', 'data-db-0')).split('\n');
    expect(pvcTable[0]!.split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(pvcTable[1]!.split(/\s+/).slice(0, 7)).toEqual(['data-db-0', 'Bound', pvc.spec.volumeName, '1Gi', 'RWO', 'standard', '<unset>']);
  });

  it('recreates a deleted Pod with the same name, and it sees the file it wrote on its PVC', async () => {
    const before = await getJson('pod', 'db-0');
    await vi.waitFor(async () => expect(existsSync(join(localVolumePath(cluster.volumesDir, await getJson('pvc', 'data-db-0'))!, 'boots'))).toBe(true), waitOpts);
    await kubectl('delete', 'pod', 'db-0', '--wait=true');
    await vi.waitFor(async () => {
      const pod = await getJson('pod', 'db-0');
      expect(pod.metadata.uid).not.toBe(before.metadata.uid);
      expect(pod.status.phase).toBe('Running');
    }, waitOpts);
    await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s');
    const dir = localVolumePath(cluster.volumesDir, await getJson('pvc', 'data-db-0'))!;
    await vi.waitFor(() => expect(readFileSync(join(dir, 'boots'), 'utf8')).toBe('db-0 v1\ndb-0 v1\n'), waitOpts);
  });

  it('rolls a template change out in reverse ordinal order; kubectl rollout status waits for it', async () => {
    const revision = (await getJson('sts', 'db')).status.currentRevision;
    await apply('db', dbYaml('v2'));
    const sts = await getJson('sts', 'db');
    expect(sts.metadata.generation).toBe(2);
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    await kubectl('rollout', 'status', 'statefulset/db', '--timeout=20s');
    const after = await getJson('sts', 'db');
    expect(after.status).toMatchObject({ observedGeneration: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 2, currentReplicas: 2 });
    expect(after.status.updateRevision).not.toBe(revision);
    expect(after.status.currentRevision).toBe(after.status.updateRevision);
    const pods = (await getJson('pods', '-l', 'app=db')).items;
    expect(pods.map((p: any) => p.metadata.labels['controller-revision-hash'])).toEqual([after.status.updateRevision, after.status.updateRevision]);
    // db-1 was replaced before db-0.
    expect(Date.parse(pods[1].metadata.creationTimestamp)).toBeLessThanOrEqual(Date.parse(pods[0].metadata.creationTimestamp));
  });

  it('keeps the PVCs when the StatefulSet is deleted; deleting a PVC removes its folder', async () => {
    const pvc = await getJson('pvc', 'data-db-1');
    const dir = localVolumePath(cluster.volumesDir, pvc)!;
    await kubectl('delete', 'sts', 'db', '--wait=true');
    await vi.waitFor(async () => expect(await kubectl('get', 'pods', '-l', 'app=db', '-o', 'name')).toBe(''), waitOpts);
    expect((await kubectl('get', 'pvc', '-o', 'name')).trim().split('\n')).toEqual(['persistentvolumeclaim/data-db-0', 'persistentvolumeclaim/data-db-1']);
    expect(existsSync(dir)).toBe(true);
    await kubectl('delete', 'pvc', 'data-db-1');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a StatefulSet whose selector does not match its template, and changes of fixed spec fields', async () => {
    const file = join(cluster.logDir, '..', 'bad-sts.yaml');
    writeFileSync(
      file,
      'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: bad}\nspec:\n  serviceName: bad\n  selector: {matchLabels: {app: bad}}\n  template:\n    metadata: {labels: {app: other}}\n    spec:\n      containers: [{name: main, image: busybox}]\n',
    );
    expect(await kubectlFails('create', '-f', file)).toContain('spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`');
    await apply('fixed', dbYaml('v1').replace('name: db}', 'name: fixed}'));
    expect(await kubectlFails('patch', 'sts', 'fixed', '--type=merge', '-p', '{"spec":{"serviceName":"other"}}')).toContain(
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });
});
