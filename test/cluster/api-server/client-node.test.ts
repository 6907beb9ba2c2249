/**
 * `@kubernetes/client-node` 1.4.0 (what topas uses) against the API test server
 * over TLS with the kubeconfig it writes: typed and custom-object calls, the
 * `Watch` helper and an informer.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, Watch, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { JsonObject } from './errors.js';
import { startApiHarness, testRun, testRunCrd, type ApiHarness } from './testing.js';

let h: ApiHarness;
let kc: KubeConfig;
const tr = { group: 'topas.dev', version: 'v1alpha1', namespace: 'default', plural: 'testruns' };

beforeAll(async () => {
  h = await startApiHarness();
  kc = new KubeConfig();
  kc.loadFromFile(h.cluster.kubeconfigPath);
  await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', testRunCrd());
});
afterAll(() => h?.stop());

describe('@kubernetes/client-node against the API test server', () => {
  it('lists, creates, patches and writes the status of a custom resource', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');

    const custom = kc.makeApiClient(CustomObjectsApi);
    const created = (await custom.createNamespacedCustomObject({ ...tr, body: testRun('client') })) as JsonObject;
    expect(created.metadata.generation).toBe(1);
    const patched = (await custom.patchNamespacedCustomObject(
      { ...tr, name: 'client', body: { spec: { timeout: '5m' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as JsonObject;
    expect(patched.spec.timeout).toBe('5m');
    expect(patched.metadata.generation).toBe(2);

    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({ ...tr, name: 'client', body: { ...patched, status: { phase: 'Running', observedGeneration: 2 } } })) as JsonObject;
    expect(withStatus.status).toEqual({ phase: 'Running', observedGeneration: 2 });
    const stale = custom.replaceNamespacedCustomObjectStatus({ ...tr, name: 'client', body: { ...patched, status: { phase: 'Passed' } } });
    await expect(stale).rejects.toMatchObject({ code: 409 });
    const got = (await custom.getNamespacedCustomObject({ ...tr, name: 'client' })) as JsonObject;
    expect(got.status.phase).toBe('Running');
  });

  it('streams changes through Watch', async () => {
    const seen: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/apis/topas.dev/v1alpha1/namespaces/default/testruns',
      { labelSelector: 'w=client' },
      (type, obj) => seen.push(`${type} ${obj.metadata.name} ${obj.status?.phase ?? '-'}`),
      () => undefined,
    );
    try {
      const custom = kc.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ ...tr, body: testRun('watched-client', {}, { w: 'client' }) });
      await custom.patchNamespacedCustomObjectStatus(
        { ...tr, name: 'watched-client', body: { status: { phase: 'Passed' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await custom.deleteNamespacedCustomObject({ ...tr, name: 'watched-client' });
      await vi.waitFor(() => expect(seen).toEqual(['ADDED watched-client -', 'MODIFIED watched-client Passed', 'DELETED watched-client Passed']));
    } finally {
      controller.abort();
    }
  });

  it('keeps an informer’s cache in step with Pods', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default' }));
    const events: string[] = [];
    informer.on('add', (p) => events.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => events.push(`update ${p.metadata?.name} ${p.status?.phase}`));
    informer.on('delete', (p) => events.push(`delete ${p.metadata?.name}`));
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'before' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } });
    await informer.start();
    try {
      await vi.waitFor(() => expect(events).toContain('add before'));
      await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'after' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } });
      await core.patchNamespacedPodStatus(
        { namespace: 'default', name: 'after', body: { status: { phase: 'Running' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedPod({ namespace: 'default', name: 'before' });
      await vi.waitFor(() => expect(events).toEqual(['add before', 'add after', 'update after Running', 'delete before']));
      expect(informer.list().map((p) => p.metadata?.name)).toEqual(['after']);
    } finally {
      await informer.stop();
    }
  });
});
