/**
 * `topas up --kubernetes` under exactly the permissions deploy/rbac gives it: the test
 * cluster enforces RBAC, topas runs with the `topas-controller` ServiceAccount's token
 * (src/kubernetes/manifests/rbac.ts applied as-is), and a TestRun still runs to Passed,
 * with leader election on. A permission the controller needs but the ClusterRole lacks
 * fails this test with the API server's 403 in topas's log.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { CONTROLLER_NAME, controllerRbac, DEFAULT_CONTROLLER_NAMESPACE } from '../../src/kubernetes/manifests/rbac.js';
import { startKubeHarness, type KubeHarness } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/kubernetes/testrun.yaml', import.meta.url));
const NS = DEFAULT_CONTROLLER_NAMESPACE;

describe('topas up --kubernetes as the topas-controller ServiceAccount (RBAC enforced)', () => {
  let h: KubeHarness;

  beforeAll(async () => {
    h = await startKubeHarness({ startTopas: false });
    const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, ...controllerRbac()];
    const applied = await h.kubectl(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    expect(applied.stderr).toBe('');
    const kubeconfig = await h.cluster.writeServiceAccountKubeconfig(NS, CONTROLLER_NAME);
    await h.startTopas({ env: { KUBECONFIG: kubeconfig, TOPAS_POD_GRACE_SECONDS: '2' } });
  }, 90_000);
  afterAll(() => h?.stop());

  it('runs a TestRun to Passed, holding its Lease, with no request refused', async () => {
    const applied = await h.kubectl(['apply', '-n', 'default', '-f', EXAMPLE]);
    expect(applied.code).toBe(0);
    const tr = await vi
      .waitFor(
        async () => {
          const t = await h.kube.find<KubeObject & { status?: { phase?: string } }>(RESOURCES.testRun, 'default', 'hello');
          if (!['Passed', 'Failed', 'Error', 'TimedOut'].includes(t?.status?.phase ?? '')) throw new Error('not yet');
          return t!;
        },
        { timeout: 45_000, interval: 200 },
      )
      .catch(() => {
        throw new Error(`the TestRun did not end; topas's log:\n${h.topas.output().slice(-4000)}`);
      });
    expect(tr.status?.phase, h.topas.output().slice(-4000)).toBe('Passed');
    const lease = await h.kube.get<KubeObject & { spec: { holderIdentity?: string } }>(RESOURCES.lease, NS, CONTROLLER_NAME);
    expect(lease.spec.holderIdentity).toBeTruthy();
    expect(h.topas.output()).not.toMatch(/is forbidden: User/);
  });
});
