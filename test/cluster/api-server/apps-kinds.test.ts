/**
 * apps/v1 Deployments and ReplicaSets at the API (no controllers running):
 * discovery, defaults, validation with kube-apiserver's wording, generation,
 * the status and scale subresources.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from './testing.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness({ noControllers: true });
});
afterAll(() => h?.stop());

const base = '/apis/apps/v1/namespaces/default';

function deployment(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } }, ...extra },
  };
}

describe('apps/v1 at the API test server', () => {
  it('is discovered with short names, the all category and the status/scale subresources', async () => {
    const list = (await h.api('GET', '/apis/apps/v1')).body;
    const names = list.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(['deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale', 'statefulsets', 'statefulsets/status']);
    expect(list.resources[0]).toMatchObject({ kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], namespaced: true });
    expect(list.resources[2]).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });

  it('defaults a Deployment as kube-apiserver does, with an empty status and generation 1', async () => {
    const r = await h.api('POST', `${base}/deployments`, deployment('d1'));
    expect(r.status).toBe(201);
    expect(r.body.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect(r.body.spec.template.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {} });
    expect(r.body.spec.template.spec.enableServiceLinks).toBeUndefined();
    expect(r.body.status).toEqual({});
    expect(r.body.metadata.generation).toBe(1);
    const recreate = await h.api('POST', `${base}/deployments`, deployment('d2', { strategy: { type: 'Recreate' } }));
    expect(recreate.body.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('rejects what kube-apiserver rejects, in its words', async () => {
    const never = deployment('bad');
    (never.spec.template.spec as Record<string, unknown>).restartPolicy = 'Never';
    const r1 = await h.api('POST', `${base}/deployments`, never);
    expect(r1.status).toBe(422);
    expect(r1.body.message).toBe('Deployment.apps "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"');
    const r2 = await h.api('POST', `${base}/deployments`, deployment('bad', { replicas: -1 }));
    expect(r2.body.message).toBe('Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    const r3 = await h.api('POST', `${base}/replicasets`, { ...deployment('bad'), kind: 'ReplicaSet', spec: { ...deployment('bad').spec, selector: {} } });
    expect(r3.body.message).toContain('spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for replicaset');
    const r4 = await h.api('POST', `${base}/deployments`, deployment('bad', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }));
    expect(r4.body.message).toBe('Deployment.apps "bad" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0');
  });

  it('bumps the generation on spec changes only; the main resource keeps the status, /status writes it', async () => {
    const path = `${base}/deployments/d1`;
    await h.api('PATCH', path, { metadata: { labels: { a: 'b' } }, status: { replicas: 5 } }, 'application/merge-patch+json');
    let d = (await h.api('GET', path)).body;
    expect(d.metadata.generation).toBe(1);
    expect(d.status).toEqual({});
    await h.api('PATCH', path, { spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox:1.37' }] } } } }, 'application/strategic-merge-patch+json');
    await h.api('PATCH', `${path}/status`, { status: { replicas: 1, observedGeneration: 2 } }, 'application/merge-patch+json');
    d = (await h.api('GET', path)).body;
    expect(d.metadata.generation).toBe(2);
    expect(d.status).toEqual({ replicas: 1, observedGeneration: 2 });
  });

  it('serves the scale subresource: GET, PATCH, PUT, and 422 for negative replicas', async () => {
    const path = `${base}/deployments/d1/scale`;
    const got = (await h.api('GET', path)).body;
    expect(got).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'd1', namespace: 'default' }, spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=d1' } });
    const patched = await h.api('PATCH', path, { spec: { replicas: 4 } }, 'application/merge-patch+json');
    expect(patched.body.spec.replicas).toBe(4);
    const put = await h.api('PUT', path, { ...got, spec: { replicas: 2 } });
    expect(put.status).toBe(409);
    const put2 = await h.api('PUT', path, { ...got, metadata: { name: 'd1' }, spec: { replicas: 2 } });
    expect(put2.body.spec.replicas).toBe(2);
    const d = (await h.api('GET', `${base}/deployments/d1`)).body;
    expect(d.spec.replicas).toBe(2);
    expect(d.metadata.generation).toBe(4);
    const bad = await h.api('PATCH', path, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe('Scale.autoscaling "d1" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    const scaled = await h.kubectl(['scale', 'deployment/d1', '--replicas=3']);
    expect(scaled.stdout.trim()).toBe('deployment.apps/d1 scaled');
    expect((await h.api('GET', path)).body.spec.replicas).toBe(3);
  });
});
