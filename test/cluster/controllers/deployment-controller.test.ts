/**
 * Deployments and ReplicaSets in the test cluster, driven as a user would: the
 * real `kubectl` (/usr/bin/kubectl) against `startTestCluster()`, busybox Pods
 * whose readiness is an exec probe on a file the test creates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { Pod } from 'kubernetes-models/v1/Pod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { validate } from '../../../src/kubernetes/testing/validate.js';
import type { JsonObject } from '../api-server/errors.js';
import { podProcesses } from '../kubelet/pod-processes.js';
import { startTestCluster, type TestCluster } from '../start-test-cluster.js';

let cluster: TestCluster;
/** Readiness flags: a Pod of a template is ready while `<flags>/<name>` exists. */
let flags: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function json(...args: string[]): Promise<JsonObject> {
  return JSON.parse(await ok(...args, '-o', 'json'));
}

/** A Deployment of `sleep` containers, ready while the flag file `ready` exists. */
function deployment(name: string, opts: { replicas?: number; ready?: string; strategy?: JsonObject; extra?: JsonObject; image?: string } = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      ...(opts.strategy ? { strategy: opts.strategy } : {}),
      ...opts.extra,
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: opts.image ?? 'busybox:1.36',
              command: ['sleep', '3600'],
              readinessProbe: { exec: { command: ['test', '-e', join(flags, opts.ready ?? name)] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function apply(obj: JsonObject): Promise<Result> {
  return kubectl(['apply', '-f', '-'], stringify(obj));
}

function setReady(flag: string): void {
  writeFileSync(join(flags, flag), '');
}

/** The rows of `kubectl get <kind> --no-headers`, split into cells. */
async function rows(...args: string[]): Promise<string[][]> {
  const out = await ok('get', ...args, '--no-headers');
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
}

async function podsOf(app: string): Promise<JsonObject[]> {
  return ((await json('get', 'pods', '-l', `app=${app}`)).items as JsonObject[]).filter((p) => !p.metadata.deletionTimestamp);
}

const wait = { timeout: 20_000, interval: 100 };

beforeAll(async () => {
  flags = mkdtempSync(join(tmpdir(), 'topas-deploy-flags-'));
  cluster = await startTestCluster();
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(flags, { recursive: true, force: true });
  expect(podProcesses(/^(web|roll|rec|hist|slow|undo|prop)-/)).toEqual([]);
});

describe('Deployments in the test cluster (real kubectl)', () => {
  it('rolls out a ReplicaSet and Pods that become Ready; `kubectl rollout status` waits for readiness', async () => {
    expect((await apply(deployment('web', { replicas: 3 }))).stdout.trim()).toBe('deployment.apps/web created');
    const rs = (await json('get', 'rs', '-l', 'app=web')).items as JsonObject[];
    expect(rs).toHaveLength(1);
    const hash = rs[0].metadata.labels['pod-template-hash'];
    expect(rs[0].metadata.name).toBe(`web-${hash}`);
    expect(rs[0].metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    expect(rs[0].metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'web', controller: true, blockOwnerDeletion: true })]);
    expect(rs[0].spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    await vi.waitFor(async () => expect(await podsOf('web')).toHaveLength(3), wait);
    for (const pod of await podsOf('web')) {
      expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(pod.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', name: `web-${hash}`, controller: true });
    }
    // Running but not Ready: the rollout is not done.
    await vi.waitFor(async () => expect((await rows('pods', '-l', 'app=web')).map((r) => `${r[1]} ${r[2]}`)).toEqual(['0/1 Running', '0/1 Running', '0/1 Running']), wait);
    const early = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=1s']);
    expect(early.code).not.toBe(0);
    expect(early.stdout).toContain('Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...');
    expect((await rows('deploy', 'web'))[0].slice(0, 4)).toEqual(['web', '0/3', '3', '0']);

    setReady('web');
    const done = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect(done.stdout).toContain('deployment "web" successfully rolled out');
    expect((await rows('deploy', 'web'))[0].slice(0, 4)).toEqual(['web', '3/3', '3', '3']);
    expect((await rows('rs', '-l', 'app=web'))[0].slice(0, 4)).toEqual([`web-${hash}`, '3', '3', '3']);
    const header = async (...args: string[]) => (await ok('get', ...args)).split('\n')[0].split(/\s+/).join(' ');
    expect(await header('deploy', 'web')).toBe('NAME READY UP-TO-DATE AVAILABLE AGE');
    expect(await header('rs', '-l', 'app=web')).toBe('NAME DESIRED CURRENT READY AGE');

    const d = await json('get', 'deploy', 'web');
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(d.status.unavailableReplicas).toBeUndefined();
    expect(d.status.conditions.map((c: JsonObject) => `${c.type}=${c.status}/${c.reason}`).sort()).toEqual(['Available=True/MinimumReplicasAvailable', 'Progressing=True/NewReplicaSetAvailable']);
    expect(d.status.conditions.find((c: JsonObject) => c.type === 'Progressing').message).toBe(`ReplicaSet "web-${hash}" has successfully progressed.`);
  });

  it('gives the defaults kube-apiserver gives, and bumps the generation on a spec change only', async () => {
    const d = await json('get', 'deploy', 'web');
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {} });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', resources: {} });
    expect(d.spec.template.spec.containers[0].readinessProbe).toMatchObject({ timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    await ok('label', 'deploy', 'web', 'team=a');
    expect((await json('get', 'deploy', 'web')).metadata.generation).toBe(1);
  });

  it('replaces a deleted Pod', async () => {
    const before = (await podsOf('web')).map((p) => p.metadata.name);
    await ok('delete', 'pod', before[0], '--wait=false');
    await vi.waitFor(async () => {
      const now = (await podsOf('web')).map((p) => p.metadata.name);
      expect(now).toHaveLength(3);
      expect(now).not.toContain(before[0]);
    }, wait);
    expect((await kubectl(['rollout', 'status', 'deployment/web', '--timeout=20s'])).stdout).toContain('successfully rolled out');
  });

  it('scales with `kubectl scale`, deleting the excess Pods', async () => {
    expect((await ok('scale', 'deployment/web', '--replicas=1')).trim()).toBe('deployment.apps/web scaled');
    await vi.waitFor(async () => expect(await podsOf('web')).toHaveLength(1), wait);
    expect((await kubectl(['rollout', 'status', 'deployment/web', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    expect((await rows('deploy', 'web'))[0].slice(0, 4)).toEqual(['web', '1/1', '1', '1']);
    const scale = JSON.parse(await ok('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale'));
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=web' } });
  });

  it('rolls a changed image out within maxSurge/maxUnavailable, waiting for the new Pods to be Ready; old ReplicaSet kept at 0', async () => {
    const spec = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await apply(deployment('roll', { replicas: 3, strategy: spec, ready: 'roll-v1' }));
    setReady('roll-v1');
    expect((await kubectl(['rollout', 'status', 'deployment/roll', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const first = (await json('get', 'rs', '-l', 'app=roll')).items[0].metadata.name;

    // The new Pods look at another flag: they stay unready until it exists.
    await apply(deployment('roll', { replicas: 3, strategy: spec, ready: 'roll-v2', image: 'busybox:1.37' }));
    await vi.waitFor(async () => expect(await rows('rs', '-l', 'app=roll')).toHaveLength(2), wait);
    await vi.waitFor(async () => expect(await podsOf('roll')).toHaveLength(4), wait);
    // maxSurge 1, maxUnavailable 0: one extra Pod, the old ones all stay while it is not Ready.
    const rsRows = async () => Object.fromEntries((await rows('rs', '-l', 'app=roll')).map((r) => [r[0] === first ? 'old' : 'new', r.slice(1, 4).join(' ')]));
    await vi.waitFor(async () => expect(await rsRows()).toEqual({ old: '3 3 3', new: '1 1 0' }), wait);
    const d = await json('get', 'deploy', 'roll');
    expect(d.metadata.generation).toBe(2);
    expect(d.status).toMatchObject({ observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3, unavailableReplicas: 1 });
    expect(d.status.conditions.find((c: JsonObject) => c.type === 'Progressing').reason).toMatch(/^(NewReplicaSetCreated|ReplicaSetUpdated)$/);

    setReady('roll-v2');
    expect((await kubectl(['rollout', 'status', 'deployment/roll', '--timeout=30s'])).stdout).toContain('successfully rolled out');
    expect(await rsRows()).toEqual({ old: '0 0 0', new: '3 3 3' });
    const pods = await podsOf('roll');
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual(['busybox:1.37', 'busybox:1.37', 'busybox:1.37']);
    expect((await json('get', 'deploy', 'roll')).metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    const events = await ok('get', 'events', '--field-selector', 'involvedObject.name=roll', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(events).toContain(`ScalingReplicaSet: Scaled down replica set ${first} from 1 to 0`);
  });

  it('rolls out a new ReplicaSet on `kubectl rollout restart` and keeps revisionHistoryLimit old ones', async () => {
    await apply(deployment('hist', { replicas: 1, extra: { revisionHistoryLimit: 1 } }));
    setReady('hist');
    expect((await kubectl(['rollout', 'status', 'deployment/hist', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    expect((await ok('rollout', 'restart', 'deployment/hist')).trim()).toBe('deployment.apps/hist restarted');
    expect((await kubectl(['rollout', 'status', 'deployment/hist', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    // (kubectl refuses a second restart within the same second: change the template another way.)
    expect((await ok('set', 'env', 'deployment/hist', 'V=2')).trim()).toBe('deployment.apps/hist env updated');
    expect((await kubectl(['rollout', 'status', 'deployment/hist', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    await vi.waitFor(async () => expect(await rows('rs', '-l', 'app=hist')).toHaveLength(2), wait);
    const rs = ((await json('get', 'rs', '-l', 'app=hist')).items as JsonObject[]).map((r) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]);
    expect(rs.sort()).toEqual([
      ['2', 0],
      ['3', 1],
    ]);
    const pods = await podsOf('hist');
    expect(pods).toHaveLength(1);
    expect(pods[0].metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
  });

  it('`kubectl create deployment` (a protobuf body) rolls out; `kubectl rollout undo` goes back to the earlier ReplicaSet under a new revision', async () => {
    expect((await ok('create', 'deployment', 'undo', '--image=busybox:1.36', '--replicas=2', '--', 'sleep', '3600')).trim()).toBe('deployment.apps/undo created');
    expect((await kubectl(['rollout', 'status', 'deployment/undo', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const first = (await json('get', 'rs', '-l', 'app=undo')).items[0].metadata.name;
    await ok('set', 'image', 'deployment/undo', 'busybox=busybox:1.37');
    expect((await kubectl(['rollout', 'status', 'deployment/undo', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    expect((await ok('rollout', 'undo', 'deployment/undo')).trim()).toBe('deployment.apps/undo rolled back');
    expect((await kubectl(['rollout', 'status', 'deployment/undo', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const rs = (await json('get', 'rs', '-l', 'app=undo')).items as JsonObject[];
    expect(rs).toHaveLength(2);
    const current = rs.find((r) => r.spec.replicas === 2)!;
    expect(current.metadata.name).toBe(first);
    expect(current.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect((await podsOf('undo')).map((p) => p.spec.containers[0].image)).toEqual(['busybox:1.36', 'busybox:1.36']);
    const history = await ok('rollout', 'history', 'deployment/undo');
    expect(history.split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['2', '3']);
  });

  it('scales in the middle of a rollout in proportion to each ReplicaSet, as the real controller does', async () => {
    const spec = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    await apply(deployment('prop', { replicas: 4, strategy: spec, ready: 'prop-v1' }));
    setReady('prop-v1');
    expect((await kubectl(['rollout', 'status', 'deployment/prop', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const first = (await json('get', 'rs', '-l', 'app=prop')).items[0].metadata.name;
    await apply(deployment('prop', { replicas: 4, strategy: spec, ready: 'prop-v2', image: 'busybox:1.37' }));
    const desired = async () => Object.fromEntries((await rows('rs', '-l', 'app=prop')).map((r) => [r[0] === first ? 'old' : 'new', Number(r[1])]));
    await vi.waitFor(async () => expect(await desired()).toEqual({ old: 4, new: 1 }), wait);
    await ok('scale', 'deployment/prop', '--replicas=8');
    // 4 more allowed (8 + maxSurge 1 - 5), shared 4:1 against the old maximum of 5: old 4→7, new 1→2.
    await vi.waitFor(async () => expect(await desired()).toEqual({ old: 7, new: 2 }), wait);
    setReady('prop-v2');
    expect((await kubectl(['rollout', 'status', 'deployment/prop', '--timeout=30s'])).stdout).toContain('successfully rolled out');
    expect(await desired()).toEqual({ old: 0, new: 8 });
  });

  it('does not roll out while paused (Progressing DeploymentPaused); resuming rolls the change out', async () => {
    await ok('rollout', 'pause', 'deployment/prop');
    await ok('set', 'image', 'deployment/prop', 'main=busybox:1.38');
    await vi.waitFor(async () => {
      const d = await json('get', 'deploy', 'prop');
      expect(d.status.observedGeneration).toBe(d.metadata.generation);
      expect(d.status.conditions.find((c: JsonObject) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    }, wait);
    expect(await rows('rs', '-l', 'app=prop')).toHaveLength(2);
    await ok('rollout', 'resume', 'deployment/prop');
    expect((await kubectl(['rollout', 'status', 'deployment/prop', '--timeout=30s'])).stdout).toContain('successfully rolled out');
    expect(await rows('rs', '-l', 'app=prop')).toHaveLength(3);
    expect(new Set((await podsOf('prop')).map((p) => p.spec.containers[0].image))).toEqual(new Set(['busybox:1.38']));
  });

  it('Recreate: the old Pods are gone before a new one starts', async () => {
    await apply(deployment('rec', { replicas: 2, strategy: { type: 'Recreate' } }));
    setReady('rec');
    expect((await kubectl(['rollout', 'status', 'deployment/rec', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const first = (await json('get', 'rs', '-l', 'app=rec')).items[0].metadata.uid;
    const overlaps: string[] = [];
    const live = new Map<string, string>();
    const off = cluster.server.store.hub.subscribe((e) => {
      if (e.storageKey !== 'pods' || e.object.metadata.labels?.app !== 'rec') return;
      const owner = e.object.metadata.ownerReferences?.[0]?.uid;
      if (e.type === 'DELETED') live.delete(e.object.metadata.name);
      else live.set(e.object.metadata.name, owner === first ? 'old' : 'new');
      const kinds = new Set(live.values());
      if (kinds.size > 1) overlaps.push([...live.keys()].join(','));
    });
    try {
      await apply(deployment('rec', { replicas: 2, strategy: { type: 'Recreate' }, image: 'busybox:1.37' }));
      expect((await kubectl(['rollout', 'status', 'deployment/rec', '--timeout=30s'])).stdout).toContain('successfully rolled out');
    } finally {
      off();
    }
    expect(overlaps).toEqual([]);
    expect((await podsOf('rec')).map((p) => p.spec.containers[0].image)).toEqual(['busybox:1.37', 'busybox:1.37']);
  });

  it('reports ProgressDeadlineExceeded when new Pods never become Ready; `kubectl rollout status` fails', async () => {
    await apply(deployment('slow', { replicas: 1, extra: { progressDeadlineSeconds: 1 } }));
    const r = await kubectl(['rollout', 'status', 'deployment/slow', '--timeout=20s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: deployment "slow" exceeded its progress deadline');
    const d = await json('get', 'deploy', 'slow');
    expect(d.status.conditions.find((c: JsonObject) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(d.status.conditions.find((c: JsonObject) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  it('rejects a selector that does not match the template labels, or none, with kube-apiserver wording', async () => {
    const bad = deployment('bad');
    bad.spec.selector = { matchLabels: { app: 'other' } };
    const r = await apply(bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`');
    delete bad.spec.selector;
    const none = await apply(bad);
    expect(none.stderr).toContain('The Deployment "bad" is invalid: \n* spec.selector: Required value\n* spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: `selector` does not match template `labels`');
    await apply(deployment('sel', { replicas: 0 }));
    const immutable = await kubectl(['patch', 'deploy', 'sel', '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"sel","x":"y"}}}}']);
    expect(immutable.stderr).toContain('The Deployment "sel" is invalid');
    expect(immutable.stderr).toContain('spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"sel", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');
    await ok('delete', 'deploy', 'sel');
  });

  it('writes Deployments, ReplicaSets and Pods that the official schemas accept', async () => {
    for (const d of (await json('get', 'deploy')).items) validate(Deployment, d);
    for (const rs of (await json('get', 'rs')).items) validate(ReplicaSet, rs);
    for (const p of (await json('get', 'pods')).items) validate(Pod, p);
  });

  it('adopts the ReplicaSet and Pods a Deployment deleted with --cascade=orphan left behind', async () => {
    const spec = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const manifest = deployment('roll', { replicas: 3, strategy: spec, ready: 'roll-v2', image: 'busybox:1.37' });
    const pods = (await podsOf('roll')).map((p) => p.metadata.name).sort();
    const rsNames = (await rows('rs', '-l', 'app=roll')).map((r) => r[0]).sort();
    await ok('delete', 'deploy', 'roll', '--cascade=orphan');
    const orphans = (await json('get', 'rs', '-l', 'app=roll')).items as JsonObject[];
    expect(orphans.map((r) => r.metadata.ownerReferences ?? [])).toEqual([[], []]);
    await apply(manifest);
    expect((await kubectl(['rollout', 'status', 'deployment/roll', '--timeout=20s'])).stdout).toContain('successfully rolled out');
    const uid = (await json('get', 'deploy', 'roll')).metadata.uid;
    await vi.waitFor(async () => {
      const adopted = (await json('get', 'rs', '-l', 'app=roll')).items as JsonObject[];
      expect(adopted.map((r) => r.metadata.ownerReferences?.[0]?.uid)).toEqual([uid, uid]);
    }, wait);
    expect((await rows('rs', '-l', 'app=roll')).map((r) => r[0]).sort()).toEqual(rsNames);
    expect((await podsOf('roll')).map((p) => p.metadata.name).sort()).toEqual(pods);
  });

  it('deletes the ReplicaSets and Pods with their Deployment', async () => {
    await ok('delete', 'deploy', 'web', '--wait=false');
    await vi.waitFor(async () => {
      expect(await rows('rs', '-l', 'app=web')).toEqual([]);
      expect((await json('get', 'pods', '-l', 'app=web')).items).toEqual([]);
    }, wait);
  });
});
