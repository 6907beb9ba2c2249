/**
 * The `App` on a cluster — the design document's walk-through on the test cluster, with
 * topas running as the `topas-controller` ServiceAccount under exactly the RBAC rules it
 * ships (src/kubernetes/manifests/rbac.ts, enforced by the test API server):
 * `kubectl apply` the demo App → its Deployment, StatefulSet, Services, Secret and init Job
 * appear and it becomes Ready; the upgrade test runs unchanged in a runner Pod (seed on v1,
 * `sut.apply_service` to v2, HTTP + gRPC + Postman + SQL) and exits 0; then self-healing,
 * prune, a steady state without writes, the init Job once across a restart, and a 403
 * shown on the App when a permission is taken away.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runTopasCli } from '../../src/cli/testing/cli-process.js';
import { RESOURCES, type KubeObject, type ResourceType } from '../../src/kube/kube-api.js';
import { CONTROLLER_NAME, controllerRbac, DEFAULT_CONTROLLER_NAMESPACE } from '../../src/kubernetes/manifests/rbac.js';
import { startKubeHarness, type KubeHarness } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NS = DEFAULT_CONTROLLER_NAMESPACE;
const READY_TIMEOUT = 180_000;

type AppResource = KubeObject & { spec: any; status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; services?: any[] } };

const condition = (app: AppResource | null, type: string) => app?.status?.conditions?.find((c) => c.type === type);

describe('App on Kubernetes (topas as its ServiceAccount, RBAC enforced)', () => {
  let h: KubeHarness;
  let saKubeconfig: string;
  const kubectl = async (...args: string[]) => {
    const r = await h.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const app = () => h.kube.find<AppResource>(RESOURCES.app, NS, 'demo');
  const waitForApp = (what: string, ok: (a: AppResource) => boolean, timeout = READY_TIMEOUT) =>
    vi
      .waitFor(
        async () => {
          const a = await app();
          if (!a || !ok(a)) throw new Error(`${what}: not yet (${JSON.stringify(a?.status?.conditions ?? null)})`);
          return a;
        },
        { timeout, interval: 250 },
      )
      .catch(async (error: Error) => {
        const pods = await h.kubectl(['get', 'pods,deploy,sts,job', '-n', NS, '-o', 'wide']);
        throw new Error(`${error.message}\n${pods.stdout}\ntopas's log:\n${h.topas.output().slice(-4000)}`);
      });
  const ready = (a: AppResource) => condition(a, 'Ready')?.status === 'True' && (a.status as any)?.observedGeneration === a.metadata.generation;
  const writes = async () => {
    const res = await fetch(`${h.topas.url}/metrics`, { headers: { authorization: `Bearer ${h.topas.token}` } });
    let n = 0;
    for (const line of (await res.text()).split('\n')) {
      const m = /^topas_kube_requests_total\{([^}]*)\} (\d+)/.exec(line);
      if (m && /verb="(create|update|patch|delete)/.test(m[1]!) && !/resource="(leases|events|testruns|pods|configmaps|secrets)"/.test(m[1]!)) n += Number(m[2]);
    }
    return n;
  };

  beforeAll(async () => {
    h = await startKubeHarness({ startTopas: false, cluster: { jobBackOffMs: 500 } });
    const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, ...controllerRbac()];
    const applied = await h.kubectl(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    expect(applied.stderr).toBe('');
    saKubeconfig = await h.cluster.writeServiceAccountKubeconfig(NS, CONTROLLER_NAME);
    await h.startTopas({ env: { KUBECONFIG: saKubeconfig, TOPAS_POD_GRACE_SECONDS: '5' } });
  }, 120_000);
  afterAll(() => h?.stop());

  it('the walk-through: kubectl apply the demo App → Ready; the upgrade test passes unchanged in a runner Pod; the App shows v2, 2/2', async () => {
    await kubectl('apply', '-n', NS, '-f', `${ROOT}/examples/kubernetes/app.yaml`);
    const a = await waitForApp('App demo Ready', ready);
    expect(a.status?.services?.[0]).toMatchObject({ name: 'users', version: 'v1', replicas: 2, readyReplicas: 2 });
    const children = await kubectl('get', 'deploy,sts,svc,secret,job', '-n', NS, '-l', 'topas.dev/app=demo', '-o', 'name');
    expect(children.split('\n').filter(Boolean).sort()).toEqual(
      expect.arrayContaining(['deployment.apps/users', 'statefulset.apps/users-db', 'service/users', 'service/users-db', 'secret/demo-users-db-credentials']),
    );
    expect(children).toMatch(/job\.batch\/users-db-init-[0-9a-f]{10}/);
    // The App is what runs and the API see.
    const stored = await h.api(`/api/apps/demo`);
    expect(stored.status).toBe(200);
    expect(stored.body.metadata.generation).toBe(a.metadata.generation);

    const run = await runTopasCli(['test', 'schedule', '--kube', '--script', 'examples/tests/upgrade_test.lua', '--app', 'demo', '--wait'], {
      url: 'http://127.0.0.1:1',
      cwd: ROOT,
      env: { KUBECONFIG: h.kubeconfigPath },
    });
    expect(run.code, run.stdout + run.stderr + h.topas.output().slice(-3000)).toBe(0);
    expect(run.stdout).toContain('✓ the data survived, over gRPC');
    expect(run.stdout).toContain('✓ the Postman collection passes on v2');
    expect(run.stdout).toMatch(/sut\.apply_service users \(version v2\)/);

    const after = await waitForApp('App demo Ready on v2', (x) => ready(x) && x.status?.services?.[0]?.version === 'v2');
    expect(after.status?.services?.[0]).toMatchObject({ version: 'v2', replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    expect(await kubectl('get', 'app', 'demo', '-n', NS)).toMatch(/demo\s+True\s+1\/1\s+1\/1/);
    expect(await kubectl('get', 'deploy', 'users', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.readyReplicas}/{.spec.replicas}')).toBe('topas/demo-users:v2 2/2');
  }, 420_000);

  it('self-heals: a deleted Deployment comes back, a hand-edited image is put back (with a Warning Event)', async () => {
    const before = await h.kube.get(RESOURCES.deployment, NS, 'users');
    await kubectl('delete', 'deploy', 'users', '-n', NS, '--wait=false');
    await vi.waitFor(async () => {
      const d = await h.kube.find(RESOURCES.deployment, NS, 'users');
      expect(d?.metadata.uid).toBeDefined();
      expect(d?.metadata.uid).not.toBe(before.metadata.uid);
    }, { timeout: 60_000, interval: 250 });
    await kubectl('set', 'image', 'deploy/users', 'users=topas/demo-users:v1', '-n', NS);
    await vi.waitFor(async () => {
      expect(await kubectl('get', 'deploy', 'users', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe('topas/demo-users:v2');
    }, { timeout: 60_000, interval: 250 });
    const events = await kubectl('get', 'events', '-n', NS, '--field-selector', 'involvedObject.kind=App,involvedObject.name=demo', '-o', 'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}');
    expect(events).toMatch(/Warning Reverted: Put back Deployment users \(changed by hand: spec\.template\.spec\.containers\[0\]\.image\)/);
    await waitForApp('App demo Ready again', ready);
  }, 180_000);

  it('prunes: a service removed from the spec has its Deployment and Service deleted', async () => {
    await kubectl('patch', 'app', 'demo', '-n', NS, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/services/-', value: { name: 'extra', image: 'topas/demo-users', version: 'v1', port: 8081 } }]));
    await vi.waitFor(async () => expect(await h.kube.find(RESOURCES.service, NS, 'extra')).not.toBeNull(), { timeout: 60_000, interval: 250 });
    expect(await h.kube.find(RESOURCES.deployment, NS, 'extra')).not.toBeNull();
    await kubectl('patch', 'app', 'demo', '-n', NS, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/services/1' }]));
    await vi.waitFor(async () => {
      expect(await h.kube.find(RESOURCES.deployment, NS, 'extra')).toBeNull();
      expect(await h.kube.find(RESOURCES.service, NS, 'extra')).toBeNull();
    }, { timeout: 60_000, interval: 250 });
    expect(await h.kube.find(RESOURCES.deployment, NS, 'users')).not.toBeNull();
    await waitForApp('App demo Ready after prune', ready);
  }, 180_000);

  it('a steady-state reconcile writes nothing; the init Job ran once, also across a restart of topas', async () => {
    const jobs = async () => (await h.kube.list(RESOURCES.job, NS, { labelSelector: 'topas.dev/app=demo' })).items.map((j) => `${j.metadata.name}/${j.metadata.uid}`);
    const initJobs = await jobs();
    expect(initJobs).toHaveLength(1);
    const before = await writes();
    // A change that makes the controller reconcile the App but changes no child.
    await kubectl('annotate', 'app', 'demo', '-n', NS, 'example.com/note=steady', '--overwrite');
    await vi.waitFor(async () => expect((await h.api('/api/apps/demo')).body.metadata.annotations?.['example.com/note']).toBe('steady'), { timeout: 30_000, interval: 200 });
    expect(await writes()).toBe(before);

    await h.killTopas();
    await h.startTopas({ env: { KUBECONFIG: saKubeconfig, TOPAS_POD_GRACE_SECONDS: '5' } });
    // The new instance has reconciled the App once it mirrors a new annotation into the store.
    await kubectl('annotate', 'app', 'demo', '-n', NS, 'example.com/note=restarted', '--overwrite');
    await vi.waitFor(async () => expect((await h.api('/api/apps/demo')).body?.metadata?.annotations?.['example.com/note']).toBe('restarted'), { timeout: 60_000, interval: 250 });
    await waitForApp('App demo Ready after a restart', ready);
    expect(await jobs()).toEqual(initJobs);
  }, 240_000);

  it('a permission taken away shows on the App: Degraded, reason Forbidden, naming the 403', async () => {
    const rbac = controllerRbac();
    const role = rbac.find((o) => o.kind === 'ClusterRole') as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const without = { ...role, rules: role.rules.map((r) => (r.apiGroups.includes('apps') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r)) };
    await h.kubectl(['apply', '-f', '-'], stringify(without));
    try {
      await kubectl('patch', 'app', 'demo', '-n', NS, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/services/-', value: { name: 'denied', image: 'topas/demo-users', version: 'v1', port: 8082 } }]));
      const a = await waitForApp('App demo Degraded', (x) => condition(x, 'Degraded')?.reason === 'Forbidden', 60_000);
      expect(condition(a, 'Degraded')?.message).toMatch(/deployments\.apps is forbidden: User "system:serviceaccount:topas-system:topas-controller" cannot create resource "deployments"/);
    } finally {
      await h.kubectl(['apply', '-f', '-'], stringify(role));
    }
    await waitForApp('App demo Ready once allowed again', (x) => ready(x) && (x.status?.services ?? []).some((s: { name: string }) => s.name === 'denied'));
  }, 240_000);

  it('deleted and applied again at once: the new App gets its own children once the old ones are gone, and becomes Ready', async () => {
    const old = (await app())!;
    await kubectl('delete', 'app', 'demo', '-n', NS, '--wait=false');
    await vi.waitFor(async () => expect(await app()).toBeNull(), { timeout: 30_000, interval: 200 });
    await kubectl('apply', '-n', NS, '-f', `${ROOT}/examples/kubernetes/app.yaml`);
    const again = await waitForApp('App demo Ready after delete and apply', (x) => x.metadata.uid !== old.metadata.uid && ready(x));
    const owners = async (resource: ResourceType) => (await h.kube.list(resource, NS, { labelSelector: 'topas.dev/app=demo' })).items.map((o) => o.metadata.ownerReferences?.[0]?.uid);
    expect(await owners(RESOURCES.deployment)).toEqual([again.metadata.uid]);
    expect(await owners(RESOURCES.statefulSet)).toEqual([again.metadata.uid]);
  }, 240_000);
});
