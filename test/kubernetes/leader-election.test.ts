/**
 * `LeaderElector` on the test cluster's Lease API: one leader at a time, a graceful
 * stop hands over at once, an expired Lease is taken over, and the Lease topas writes
 * is what kube-apiserver expects (MicroTime times; validated with kubernetes-models).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { KubeApi, RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { startTestCluster, type TestCluster } from '../cluster/start-test-cluster.js';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1';

describe('LeaderElector (test cluster)', () => {
  let cluster: TestCluster;
  let api: KubeApi;
  beforeAll(async () => {
    cluster = await startTestCluster({ noKubelet: true });
    api = new KubeApi(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function candidate(identity: string, name: string, events: string[]) {
    return new LeaderElector({
      api,
      namespace: 'default',
      name,
      identity,
      leaseDurationMs: 1000,
      renewDeadlineMs: 700,
      retryPeriodMs: 100,
      onStartedLeading: () => void events.push(`${identity} leads`),
      onStoppedLeading: () => void events.push(`${identity} stopped`),
    });
  }
  const holder = async (name: string) => (await api.find<KubeObject & { spec?: { holderIdentity?: string | null } }>(RESOURCES.lease, 'default', name))?.spec?.holderIdentity ?? null;

  it('elects one leader; a graceful stop releases the Lease and the other leads at once', async () => {
    const events: string[] = [];
    const a = candidate('a', 'handover', events);
    a.start();
    await expect.poll(() => a.isLeader).toBe(true);
    const b = candidate('b', 'handover', events);
    b.start();
    // b keeps trying while a renews: a stays the one leader.
    await expect.poll(async () => (await api.get<KubeObject & { spec: { renewTime: string } }>(RESOURCES.lease, 'default', 'handover')).spec.renewTime, { timeout: 3000 }).not.toBe('');
    expect(b.isLeader).toBe(false);
    const lease = await api.get<KubeObject>(RESOURCES.lease, 'default', 'handover');
    expect(() => new Lease(lease as never).validate()).not.toThrow();
    expect((lease as unknown as { spec: { renewTime: string } }).spec.renewTime).toMatch(/\.\d{6}Z$/);
    const t0 = Date.now();
    await a.stop();
    await expect.poll(() => b.isLeader, { timeout: 2000, interval: 20 }).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await holder('handover')).toBe('b');
    await b.stop();
    expect(events).toEqual(['a leads', 'b leads']);
  });

  it('takes over a Lease whose holder stopped renewing, after the lease duration', async () => {
    const events: string[] = [];
    const a = candidate('a', 'takeover', events);
    a.start();
    await expect.poll(() => a.isLeader).toBe(true);
    // A holder that is gone without releasing: the Lease just stops being renewed.
    (a as unknown as { stopped: boolean }).stopped = true;
    const b = candidate('b', 'takeover', events);
    const t0 = Date.now();
    b.start();
    await expect.poll(() => b.isLeader, { timeout: 5000, interval: 20 }).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const lease = await api.get<KubeObject & { spec: { leaseTransitions: number } }>(RESOURCES.lease, 'default', 'takeover');
    expect(lease.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });

  it('a leader that has not renewed within the renew deadline (paused) no longer holds the Lease, though it still thinks it leads', async () => {
    const events: string[] = [];
    const a = candidate('a', 'paused', events);
    a.start();
    await expect.poll(() => a.holdsLease).toBe(true);
    // Paused: no renewal attempt runs (a SIGSTOPped process runs no timer either).
    (a as unknown as { stopped: boolean }).stopped = true;
    await expect.poll(() => a.holdsLease, { timeout: 3000, interval: 20 }).toBe(false);
    expect(a.isLeader).toBe(true);
    expect(events).toEqual(['a leads']);
    await a.stop();
  });
});
