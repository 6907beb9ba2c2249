/**
 * The test cluster's networking, as a user of an App sees it: Pods on their own
 * loopback IPs, Services on cluster IPs the machine reaches through kube-proxy,
 * EndpointSlices and Endpoints that follow the Pods, and Service names resolved through
 * each Pod's /etc/hosts — driven with the real `kubectl` against `startTestCluster()`.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultImageTable, lookupImage } from './kubelet/images.js';
import { podProcesses } from './kubelet/pod-processes.js';
import { startTestCluster, type TestCluster } from './start-test-cluster.js';

const run = promisify(execFile);
let cluster: TestCluster;
const hasPostgres = lookupImage(defaultImageTable(join(import.meta.dirname, '..', '..')), 'postgres:16') !== null;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath } });
  return stdout;
}

async function apply(name: string, yaml: string): Promise<void> {
  const file = join(cluster.logDir, '..', `${name}.yaml`);
  writeFileSync(file, yaml);
  await kubectl('apply', '-f', file);
}

async function jsonpath(kind: string, name: string, path: string, ...more: string[]): Promise<string> {
  return (await kubectl('get', kind, name, ...more, '-o', `jsonpath=${path}`)).trim();
}

/** One HTTP GET on a fresh connection (so each request is balanced on its own): status, app version header, body. */
function get(url: string): Promise<{ status: number; version: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: String(res.headers['x-app-version'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether an HTTP/2 server (the gRPC server) answers at `authority` with its SETTINGS. */
function http2Answers(authority: string): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2Connect(authority);
    const done = (ok: boolean) => {
      session.destroy();
      resolve(ok);
    };
    session.once('remoteSettings', () => done(true));
    session.once('error', () => done(false));
  });
}

const waitOpts = { timeout: 20_000, interval: 100 };

function usersPod(name: string, tag: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: users}}
spec:
  containers:
  - name: users
    image: topas/demo-users:${tag}
    ports:
    - {name: http, containerPort: 8080}
    - {name: grpc, containerPort: 50051}
`;
}

beforeAll(async () => {
  cluster = await startTestCluster();
  await apply(
    'users-svc',
    `
apiVersion: v1
kind: Service
metadata: {name: users}
spec:
  selector: {app: users}
  ports:
  - {name: http, port: 8080, targetPort: http}
  - {name: grpc, port: 50051, targetPort: 50051}
`,
  );
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
  expect(podProcesses(/^net-/)).toEqual([]);
});

describe('test cluster networking', () => {
  it('gives Pods their own IPs from 127.1.0.0/16 and Services cluster IPs from 127.2.0.0/16', async () => {
    expect(await jsonpath('svc', 'users', '{.spec.clusterIP}')).toMatch(/^127\.2\.\d+\.\d+$/);
    await apply('net-users-1', usersPod('net-users-1', 'v1'));
    await vi.waitFor(async () => expect(await jsonpath('pod', 'net-users-1', '{.status.phase}')).toBe('Running'), waitOpts);
    expect(await jsonpath('pod', 'net-users-1', '{.status.podIP} {.status.hostIP}')).toMatch(/^127\.1\.\d+\.\d+ 127\.0\.0\.1$/);
  });

  it('serves a demo-users Pod behind its Service: HTTP at clusterIP:8080 and gRPC at :50051 from the host, with EndpointSlices and Endpoints naming the Pod', async () => {
    const ip = await jsonpath('svc', 'users', '{.spec.clusterIP}');
    const podIP = await jsonpath('pod', 'net-users-1', '{.status.podIP}');
    await vi.waitFor(async () => expect(await get(`http://${ip}:8080/no-such-route`)).toMatchObject({ status: 404, version: 'v1' }), waitOpts);
    expect(await http2Answers(`http://${ip}:50051`)).toBe(true);
    const slice = JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=users', '-o', 'json')).items[0];
    expect(slice).toMatchObject({
      addressType: 'IPv4',
      endpoints: [{ addresses: [podIP], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: 'net-users-1' } }],
    });
    expect(slice.ports).toEqual(expect.arrayContaining([{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 50051, protocol: 'TCP' }]));
    expect(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=users', '--no-headers')).toMatch(new RegExp(`^users-\\w+\\s+IPv4\\s+8080,50051\\s+${podIP.replace(/\./g, '\\.')}\\s`));
    expect(await kubectl('get', 'ep', 'users', '--no-headers')).toMatch(new RegExp(`^users\\s+${podIP.replace(/\./g, '\\.')}:\\d+,${podIP.replace(/\./g, '\\.')}:\\d+\\s`));
  });

  it('runs two Pods of one image on one port without collision, and the Service balances between them', async () => {
    await apply('net-users-2', usersPod('net-users-2', 'v2'));
    await vi.waitFor(async () => expect(await jsonpath('pod', 'net-users-2', '{.status.phase}')).toBe('Running'), waitOpts);
    const [ip1, ip2] = [await jsonpath('pod', 'net-users-1', '{.status.podIP}'), await jsonpath('pod', 'net-users-2', '{.status.podIP}')];
    expect(ip1).not.toBe(ip2);
    await vi.waitFor(async () => expect(await get(`http://${ip2}:8080/api/version`)).toMatchObject({ status: 200, version: 'v2' }), waitOpts);
    expect(await get(`http://${ip1}:8080/x`)).toMatchObject({ version: 'v1' });
    const svc = await jsonpath('svc', 'users', '{.spec.clusterIP}');
    await vi.waitFor(async () => {
      const versions = new Set<string>();
      for (let i = 0; i < 4; i++) versions.add((await get(`http://${svc}:8080/x`)).version);
      expect([...versions].sort()).toEqual(['v1', 'v2']);
    }, waitOpts);
    await kubectl('delete', 'pod', 'net-users-2', '--wait=true');
  });

  it('resolves Services by name through the Pod’s /etc/hosts (getent and Node’s dns.lookup), including Services created after the Pod started', async () => {
    await kubectl('create', 'namespace', 'other');
    const script = [
      "const dns = require('node:dns').promises;",
      "const show = async (n) => { try { console.log(n, (await dns.lookup(n)).address); } catch (e) { console.log(n, e.code); } };",
      '(async () => {',
      "  for (const n of ['users', 'users.default', 'users.default.svc.cluster.local', 'later', 'net-resolver']) await show(n);",
      "  for (;;) { try { await dns.lookup('later.other'); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }",
      "  await show('later.other.svc');",
      '})();',
    ].join('\n');
    await apply(
      'net-resolver',
      `
apiVersion: v1
kind: Pod
metadata: {name: net-resolver}
spec:
  restartPolicy: Never
  containers:
  - name: getent
    image: busybox
    command: [sh, -c, 'getent hosts users; hostname']
  - name: node
    image: topas/demo-users:v1
    command: [node, -e, ${JSON.stringify(script)}]
`,
    );
    const svcIP = await jsonpath('svc', 'users', '{.spec.clusterIP}');
    await vi.waitFor(async () => expect(await kubectl('logs', 'net-resolver', '-c', 'node')).toContain('later ENOTFOUND'), waitOpts);
    await apply('later', `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "later", "namespace": "other"}, "spec": {"ports": [{"port": 80}]}}`);
    const laterIP = await jsonpath('svc', 'later', '{.spec.clusterIP}', '-n', 'other');
    await vi.waitFor(async () => expect(await jsonpath('pod', 'net-resolver', '{.status.phase}')).toBe('Succeeded'), waitOpts);
    const podIP = await jsonpath('pod', 'net-resolver', '{.status.podIP}');
    expect((await kubectl('logs', 'net-resolver', '-c', 'getent')).split('\n').slice(0, 2)).toEqual([expect.stringMatching(new RegExp(`^${svcIP.replace(/\./g, '\\.')}\\s+users\\.default\\.svc\\.cluster\\.local .*\\busers$`)), 'net-resolver']);
    expect(await kubectl('logs', 'net-resolver', '-c', 'node')).toBe(
      [`users ${svcIP}`, `users.default ${svcIP}`, `users.default.svc.cluster.local ${svcIP}`, 'later ENOTFOUND', `net-resolver ${podIP}`, `later.other.svc ${laterIP}`, ''].join('\n'),
    );
  });

  it('follows the Pod when it is replaced: no ready endpoint resets the connection, the new Pod is reached at the same address', async () => {
    const svc = await jsonpath('svc', 'users', '{.spec.clusterIP}');
    await kubectl('delete', 'pod', 'net-users-1', '--wait=true');
    await vi.waitFor(async () => expect(await kubectl('get', 'ep', 'users', '--no-headers')).toMatch(/^users\s+<none>\s/), waitOpts);
    await expect(get(`http://${svc}:8080/x`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await apply('net-users-3', usersPod('net-users-3', 'v2'));
    await vi.waitFor(async () => expect(await get(`http://${svc}:8080/api/version`)).toMatchObject({ status: 200, version: 'v2' }), waitOpts);
    const podIP = await jsonpath('pod', 'net-users-3', '{.status.podIP}');
    expect((await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=users', '-o', 'jsonpath={.items[0].endpoints[*].addresses[0]}')).trim()).toBe(podIP);
  });

  it('kube-proxy follows Service changes: a new port is served, a removed one and a deleted Service are not', async () => {
    await apply('moving', `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "moving"}, "spec": {"selector": {"app": "moving"}, "ports": [{"name": "a", "port": 81}]}}`);
    const ip = await jsonpath('svc', 'moving', '{.spec.clusterIP}');
    const served = () => cluster.kubeProxy.addresses().filter((a) => a.startsWith(`${ip}:`));
    await vi.waitFor(() => expect(served()).toEqual([`${ip}:81`]), waitOpts);
    await kubectl('patch', 'svc', 'moving', '--type=merge', '-p', '{"spec":{"ports":[{"name":"b","port":82}]}}');
    await vi.waitFor(() => expect(served()).toEqual([`${ip}:82`]), waitOpts);
    await kubectl('delete', 'svc', 'moving');
    await vi.waitFor(() => expect(served()).toEqual([]), waitOpts);
  });

  it.skipIf(!hasPostgres)('runs postgres behind a Service: psql in another Pod reaches it by name and creates a table, the host reads it at the cluster IP', async () => {
    await apply(
      'db',
      `
apiVersion: v1
kind: Secret
metadata: {name: db-credentials}
stringData: {POSTGRES_USER: app, POSTGRES_PASSWORD: s3cret, POSTGRES_DB: appdb}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  selector: {app: db}
  ports: [{name: postgres, port: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: net-db-0, labels: {app: db}}
spec:
  containers:
  - name: postgres
    image: postgres:16
    envFrom: [{secretRef: {name: db-credentials}}]
    ports: [{name: postgres, containerPort: 5432}]
    volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: net-psql-client}
spec:
  restartPolicy: OnFailure
  containers:
  - name: psql
    image: postgres:16
    command: [sh, -c, 'until pg_isready -q -h db; do sleep 0.2; done; exec psql -h db -U app -d appdb -v ON_ERROR_STOP=1 -c "$0"', "CREATE TABLE greetings (text text); INSERT INTO greetings VALUES ('hello from a pod')"]
    env: [{name: PGPASSWORD, valueFrom: {secretKeyRef: {name: db-credentials, key: POSTGRES_PASSWORD}}}]
`,
    );
    await vi.waitFor(async () => expect(await jsonpath('pod', 'net-psql-client', '{.status.phase}')).toBe('Succeeded'), { timeout: 60_000, interval: 250 });
    expect(await kubectl('logs', 'net-psql-client')).toContain('INSERT 0 1');
    const ip = await jsonpath('svc', 'db', '{.spec.clusterIP}');
    const client = new pg.Client({ host: ip, port: 5432, user: 'app', password: 's3cret', database: 'appdb' });
    await client.connect();
    try {
      expect((await client.query('SELECT text FROM greetings')).rows).toEqual([{ text: 'hello from a pod' }]);
    } finally {
      await client.end();
    }
    const wrong = new pg.Client({ host: ip, port: 5432, user: 'app', password: 'wrong', database: 'appdb' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  }, 90_000);

  it.runIf(!hasPostgres)('has no postgres image without PostgreSQL on this machine (skipped: no /usr/lib/postgresql/*/bin or initdb/postgres on PATH)', () => {
    expect(lookupImage(defaultImageTable('/repo'), 'postgres')).toBeNull();
  });
});
