/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAppManifest, type AppSpec } from '../../core/app.js';
import { childKey, type AppObject } from './app-child-meta.js';
import { appChildren, type AppChild } from './app-children.js';
import { diffChild, isOwnedBy } from './child-diff.js';

const demoSpec = parseAppManifest(parse(readFileSync(new URL('../../../examples/apps/demo/app.yaml', import.meta.url), 'utf8'))).spec;
const uid = '6f1c2d3e-0000-4000-8000-0000000000a1';
const app = (spec: AppSpec = demoSpec): AppObject => ({ name: 'demo', namespace: 'shop', uid, generation: 1, spec });
const owner = { name: 'demo', uid };

/** A pod spec as the API server returns it: defaults filled in. */
function defaultPodSpec(spec: any, restartPolicy = 'Always') {
  const container = (c: any) => ({
    ...c,
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
    resources: {},
    env: c.env?.map((e: any) => (e.valueFrom?.fieldRef ? { ...e, valueFrom: { fieldRef: { apiVersion: 'v1', ...e.valueFrom.fieldRef } } } : e)),
  });
  return {
    ...spec,
    containers: spec.containers.map(container),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(container) } : {}),
    restartPolicy: spec.restartPolicy ?? restartPolicy,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
  };
}

/** What the API server would return for a child topas created: server fields and defaults added. */
function served(child: AppChild): any {
  const o: any = structuredClone(child);
  o.metadata = { ...o.metadata, uid: 'child-uid', resourceVersion: '42', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' };
  if (o.kind === 'Deployment') {
    o.metadata.annotations = { ...o.metadata.annotations, 'deployment.kubernetes.io/revision': '1' };
    o.spec = { ...o.spec, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, template: { ...o.spec.template, spec: defaultPodSpec(o.spec.template.spec) } };
    o.status = { replicas: 2 };
  }
  if (o.kind === 'StatefulSet') {
    o.spec = {
      ...o.spec,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { ...o.spec.template, spec: defaultPodSpec(o.spec.template.spec) },
      volumeClaimTemplates: o.spec.volumeClaimTemplates.map((t: any) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...t, spec: { ...t.spec, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } })),
    };
  }
  if (o.kind === 'Service') o.spec = { ...o.spec, clusterIP: '127.2.0.9', clusterIPs: ['127.2.0.9'], sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' };
  if (o.kind === 'Job') {
    o.spec = { ...o.spec, completions: 1, parallelism: 1, suspend: false, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'x' } } };
    o.spec.template.metadata.labels['batch.kubernetes.io/job-name'] = o.metadata.name;
  }
  delete o.apiVersion; // list items carry neither
  delete o.kind;
  return o;
}

const children = appChildren(app());
const child = (key: string): any => children.find((c) => childKey(c) === key)!;

describe('diffChild', () => {
  it('creates what is missing', () => {
    expect(diffChild(child('Deployment/users'), null, owner)).toEqual({ action: 'create' });
    expect(diffChild(child('Deployment/users'), undefined, owner)).toEqual({ action: 'create' });
  });

  it('writes nothing when every child is as topas made it (server defaults and fields do not count)', () => {
    for (const c of children) expect(diffChild(c, served(c), owner), childKey(c)).toEqual({ action: 'none' });
  });

  it('leaves alone what others add: kubectl rollout restart\'s annotation, extra labels, a sidecar-free resources edit', () => {
    const live = served(child('Deployment/users'));
    live.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = '2026-01-01T00:00:00Z';
    live.metadata.labels['team'] = 'a';
    live.spec.template.spec.containers[0].resources = { limits: { memory: '256Mi' } };
    expect(diffChild(child('Deployment/users'), live, owner)).toEqual({ action: 'none' });
  });

  it('puts back a hand-edited image, replica count, env var or port (Drifted, naming the field)', () => {
    const edits: [(o: any) => void, string][] = [
      [(o) => (o.spec.template.spec.containers[0].image = 'topas/demo-users:hacked'), 'spec.template.spec.containers[0].image'],
      [(o) => (o.spec.replicas = 5), 'spec.replicas'],
      [(o) => o.spec.template.spec.containers[0].env.push({ name: 'DEBUG', value: '1' }), 'spec.template.spec.containers[0].env'],
      [(o) => (o.spec.template.spec.containers[0].env[1].value = 'debug'), 'spec.template.spec.containers[0].env[1].value'],
      [(o) => (o.spec.template.spec.containers[0].readinessProbe.httpGet.path = '/'), 'spec.template.spec.containers[0].readinessProbe.httpGet.path'],
      [(o) => delete o.metadata.labels['topas.dev/app'], 'metadata.labels.topas.dev/app'],
    ];
    for (const [edit, field] of edits) {
      const live = served(child('Deployment/users'));
      edit(live);
      expect(diffChild(child('Deployment/users'), live, owner)).toEqual({ action: 'update', reason: 'Drifted', fields: [field] });
    }
    const svc = served(child('Service/users'));
    svc.spec.ports[1].port = 50052;
    expect(diffChild(child('Service/users'), svc, owner)).toEqual({ action: 'update', reason: 'Drifted', fields: ['spec.ports[1].port'] });
    const secret = served(child('Secret/demo-users-db-credentials'));
    secret.data.POSTGRES_PASSWORD = Buffer.from('other').toString('base64');
    secret.data.EXTRA = 'eA==';
    expect(diffChild(child('Secret/demo-users-db-credentials'), secret, owner)).toMatchObject({ action: 'update', fields: ['data.POSTGRES_PASSWORD', 'data.EXTRA'] });
  });

  it('updates for a changed spec (SpecChanged): a new version rolls the Deployment', () => {
    const v2 = appChildren(app({ ...demoSpec, services: [{ ...demoSpec.services[0]!, version: 'v2' }] })).find((c) => childKey(c) === 'Deployment/users')!;
    const diff = diffChild(v2, served(child('Deployment/users')), owner);
    expect(diff).toEqual({ action: 'update', reason: 'SpecChanged', fields: ['metadata.annotations.topas.dev/spec-hash', 'spec.template.metadata.annotations.topas.dev/version', 'spec.template.spec.containers[0].image'] });
  });

  it('never updates an init Job (immutable; its name carries the SQL) nor a StatefulSet\'s claim templates', () => {
    const job = served(children.find((c) => c.kind === 'Job')!);
    job.spec.template.spec.containers[0].image = 'postgres:17';
    expect(diffChild(children.find((c) => c.kind === 'Job')!, job, owner)).toEqual({ action: 'none' });
    const sts = served(child('StatefulSet/users-db'));
    sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '5Gi';
    expect(diffChild(child('StatefulSet/users-db'), sts, owner)).toEqual({ action: 'none' });
  });

  it('refuses an object of the same name that the App does not control (conflict), saying whose it is', () => {
    const foreign = served(child('Service/users'));
    delete foreign.metadata.ownerReferences;
    expect(diffChild(child('Service/users'), foreign, owner)).toEqual({
      action: 'conflict',
      message: 'Service users already exists and is not managed by App demo: its controller is no owner (made by someone else); delete or rename it',
    });
    const older = served(child('Deployment/users'));
    older.metadata.ownerReferences[0].uid = 'old-uid';
    expect((diffChild(child('Deployment/users'), older, owner) as { message: string }).message).toContain('an earlier App of the same name (still being deleted)');
    const other = served(child('Deployment/users'));
    other.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u', controller: true }];
    expect((diffChild(child('Deployment/users'), other, owner) as { message: string }).message).toContain('its controller is ReplicaSet x');
    expect(isOwnedBy(served(child('Service/users')), uid)).toBe(true);
  });
});
