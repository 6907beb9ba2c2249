import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadKubeConfig } from '../../../src/kube/kube-config.js';
import { KubeApi, KubeApiError, RESOURCES, type KubeObject, type WatchEvent } from '../../../src/kube/kube-api.js';
import { topasCrds } from '../../../src/kubernetes/crd/testrun-crd.js';
import { controllerLease } from '../../../src/kubernetes/manifests/lease.js';
import { CONTROLLER_NAME, controllerRbac, DEFAULT_CONTROLLER_NAMESPACE } from '../../../src/kubernetes/manifests/rbac.js';
import { startApiHarness, type ApiHarness } from './testing.js';

const NS = DEFAULT_CONTROLLER_NAMESPACE;
const USER = `system:serviceaccount:${NS}:${CONTROLLER_NAME}`;

/** The error a call failed with (or a failure if it succeeded). */
async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KubeApiError) return e;
    throw e;
  }
  throw new Error('expected the call to be refused');
}

/**
 * The RBAC topas generates for its controller (src/kubernetes/manifests/rbac.ts,
 * the same objects as deploy/rbac), applied to the test cluster: the controller's
 * ServiceAccount can do what the TestRun controller does, and nothing else asked here.
 */
describe('the topas controller’s RBAC, enforced by the API test server', () => {
  let h: ApiHarness;
  let api: KubeApi;
  let kubeconfig: string;

  beforeAll(async () => {
    h = await startApiHarness();
    expect((await h.api('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
    for (const crd of topasCrds()) expect((await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    for (const o of controllerRbac()) {
      const applied = await h.kubectl(['apply', '-f', '-'], JSON.stringify(o));
      expect(applied.stderr).toBe('');
    }
    kubeconfig = await h.cluster.writeServiceAccountKubeconfig(NS, CONTROLLER_NAME);
    api = new KubeApi(loadKubeConfig({ kubeconfig }));
    // A TestRun made by a user, in another namespace.
    const tr = { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: 'smoke', namespace: 'default' }, spec: { appName: 'shop', script: 'x' } };
    const created = await h.api('POST', '/apis/topas.dev/v1alpha1/namespaces/default/testruns', tr);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  });
  afterAll(() => h?.stop());

  it('lists and watches TestRuns in every namespace, adds its finalizer, and writes their status', async () => {
    const list = await api.list(RESOURCES.testRun, undefined);
    expect(list.items.map((t) => t.metadata.name)).toEqual(['smoke']);

    const events: WatchEvent[] = [];
    const abort = new AbortController();
    const watching = api.watch(RESOURCES.testRun, undefined, { resourceVersion: list.metadata.resourceVersion }, (e) => events.push(e), abort.signal);
    const tr = await api.get<KubeObject>(RESOURCES.testRun, 'default', 'smoke');
    await api.update(RESOURCES.testRun, 'default', { ...tr, metadata: { ...tr.metadata, finalizers: ['topas.dev/cleanup'] } });
    await vi.waitFor(() => expect(events.map((e) => e.type)).toContain('MODIFIED'));
    abort.abort();
    await watching;

    const patched = await api.patch<KubeObject & { status?: { phase?: string } }>(RESOURCES.testRun, 'default', 'smoke', { status: { phase: 'Running' } }, 'status');
    expect(patched.status?.phase).toBe('Running');
  });

  it('makes and removes a run’s Pod, ConfigMap and Secret, reads its log, and records Events', async () => {
    const pod = await api.create(RESOURCES.pod, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'topas-run-1' }, spec: { containers: [{ name: 'runner', image: 'topas/runner:v1' }], restartPolicy: 'Never' } } as KubeObject);
    expect(pod.metadata.uid).toBeTruthy();
    await api.create(RESOURCES.configMap, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'topas-run-1-source' }, data: { 'test.ts': 'x' } } as KubeObject);
    await api.create(RESOURCES.secret, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'topas-run-1-token' }, stringData: { token: 't' } } as KubeObject);
    expect((await api.get(RESOURCES.secret, 'default', 'topas-run-1-token')).metadata.name).toBe('topas-run-1-token');
    const log = await api.podLog('default', 'topas-run-1').catch((e: unknown) => e);
    expect(log instanceof KubeApiError ? log.status : 200).not.toBe(403);
    await api.create(RESOURCES.event, 'default', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'smoke.1' },
      involvedObject: { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'smoke', namespace: 'default' },
      reason: 'RunStarted',
      message: 'run started',
      type: 'Normal',
    } as KubeObject);
    expect(await api.delete(RESOURCES.pod, 'default', 'topas-run-1')).toBe(true);
    expect(await api.delete(RESOURCES.configMap, 'default', 'topas-run-1-source')).toBe(true);
    expect(await api.delete(RESOURCES.secret, 'default', 'topas-run-1-token')).toBe(true);
  });

  it('holds its leader-election Lease in its own namespace, and only that Lease', async () => {
    expect(await api.find(RESOURCES.lease, NS, CONTROLLER_NAME)).toBeNull();
    const now = new Date();
    const created = await api.create<KubeObject & { spec: object }>(RESOURCES.lease, NS, controllerLease({ namespace: NS, holderIdentity: 'topas-0', acquireTime: now, renewTime: now, leaseTransitions: 0 }) as unknown as KubeObject);
    const renewed = await api.update<KubeObject & { spec: { holderIdentity: string } }>(RESOURCES.lease, NS, { ...created, spec: { ...created.spec, holderIdentity: 'topas-1' } });
    expect(renewed.spec.holderIdentity).toBe('topas-1');
    expect((await failure(api.get(RESOURCES.lease, NS, 'someone-elses'))).message).toBe(
      `leases.coordination.k8s.io "someone-elses" is forbidden: User "${USER}" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${NS}"`,
    );
    expect((await failure(api.find(RESOURCES.lease, 'default', CONTROLLER_NAME))).status).toBe(403);
  });

  it('cannot do what it was not given: delete a namespace, list Secrets, delete a CRD, write RBAC', async () => {
    const ns = await failure(api.delete({ apiVersion: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false }, undefined, 'default'));
    expect(ns.status).toBe(403);
    expect(ns.reason).toBe('Forbidden');
    expect(ns.message).toBe(`namespaces "default" is forbidden: User "${USER}" cannot delete resource "namespaces" in API group "" in the namespace "default"`);
    expect((await failure(api.list(RESOURCES.secret, 'default'))).message).toBe(`secrets is forbidden: User "${USER}" cannot list resource "secrets" in API group "" in the namespace "default"`);
    expect((await failure(api.delete(RESOURCES.crd, undefined, 'testruns.topas.dev'))).status).toBe(403);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'more' }, rules: [] } as unknown as KubeObject;
    expect((await failure(api.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false }, undefined, role))).status).toBe(403);

    // @kubernetes/client-node sees the same answers with the same kubeconfig.
    const core = loadKubeConfig({ kubeconfig }).makeApiClient(CoreV1Api);
    expect((await core.listNamespacedPod({ namespace: 'default' })).items).toEqual([]);
    const refused = await core.deleteNamespace({ name: 'default' }).catch((e: { code?: number; body?: string }) => e);
    expect((refused as { code?: number }).code).toBe(403);
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ reason: 'Forbidden', details: { name: 'default', kind: 'namespaces' } });

    // kubectl agrees, as the ServiceAccount and impersonating it.
    const canI = async (...args: string[]) => (await h.kubectl(['auth', 'can-i', ...args])).stdout.trim();
    expect(await canI('delete', 'namespaces', `--kubeconfig=${kubeconfig}`)).toBe('no');
    expect(await canI('patch', 'testruns.topas.dev', '--subresource=status', '--all-namespaces', `--kubeconfig=${kubeconfig}`)).toBe('yes');
    expect(await canI('delete', 'namespaces', `--as=${USER}`)).toBe('no');
    expect(await canI('update', `leases/${CONTROLLER_NAME}`, '-n', NS, `--as=${USER}`)).toBe('yes');
    expect(await canI('update', 'leases/other', '-n', NS, `--as=${USER}`)).toBe('no');
    expect(await canI('list', 'secrets', '-n', 'default', `--as=${USER}`)).toBe('no');
  });
});
