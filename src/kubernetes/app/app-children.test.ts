import { readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAppManifest, parseAppSpec, type AppSpec } from '../../core/app.js';
import { validate } from '../testing/validate.js';
import { appChildSelector, appChildLabels, childKey, credentialsSecretName, initJobName, initSqlHash, SPEC_HASH_ANNOTATION, type AppObject } from './app-child-meta.js';
import { appChildren, appliedInitSql, type AppChild } from './app-children.js';
import { appObjectFromResource } from './app-object.js';
import { escapeEnvValue } from './database-env.js';
import { isContainerPortName, serviceImage } from './service-children.js';

const demoManifest = parseAppManifest(parse(readFileSync(new URL('../../../examples/apps/demo/app.yaml', import.meta.url), 'utf8')));
const uid = '6f1c2d3e-0000-4000-8000-0000000000a1';
const app = (spec: AppSpec, name = 'demo'): AppObject => ({ name, namespace: 'shop', uid, generation: 3, spec });
const demo = app(demoManifest.spec);
const MODELS = { Deployment, StatefulSet, Job, ConfigMap, Secret, Service } as const;

const byKey = (children: AppChild[]) => new Map(children.map((c) => [childKey(c), c]));
/* eslint-disable @typescript-eslint/no-explicit-any */
const get = (children: AppChild[], key: string): any => {
  const found = byKey(children).get(key);
  if (!found) throw new Error(`no ${key} among ${children.map((c) => childKey(c)).join(', ')}`);
  return found;
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion), for checking env values. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) => (whole === '$$' ? '$' : (env[name!] ?? whole)));
}

/** The env a container ends up with, secrets resolved from the App's Secrets and `$(VAR)` expanded in order. */
function resolvedEnv(container: any, children: AppChild[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      const secret = get(children, `Secret/${e.valueFrom.secretKeyRef.name}`);
      env[e.name] = Buffer.from(secret.data[e.valueFrom.secretKeyRef.key], 'base64').toString('utf8');
    } else if (e.valueFrom?.fieldRef) env[e.name] = '10.1.2.3';
    else env[e.name] = expand(e.value, env);
  }
  return env;
}

const shapes: [string, AppObject][] = [
  ['the demo App', demo],
  ['an empty App', app(parseAppSpec({}))],
  ['services only, one without an image', app(parseAppSpec({ services: [{ name: 'web', image: 'nginx:1.27', version: 'v3', port: 80, replicas: 0 }, { name: 'local-only', version: 'v1', port: 9000 }] }))],
  [
    'two databases, no initSQL, empty password, a long name',
    app(
      parseAppSpec({
        databases: [
          { name: 'orders', credentials: { user: 'o', dbname: 'orders' } },
          { name: 'a'.repeat(50), image: 'postgres:17', port: 5433, credentials: { user: 'x@y', password: 'p@ss/w:rd', dbname: 'd b' }, initSQL: 'SELECT 1;' },
        ],
        services: [{ name: 'api', image: 'registry.local:5000/team/api', version: '2.0', port: 8080, ports: [{ name: 'metrics-endpoint-long', port: 9090 }] }],
      }),
      'shop',
    ),
  ],
];

describe('appChildren', () => {
  for (const [what, a] of shapes) {
    it(`builds objects that validate against the Kubernetes schemas: ${what}`, () => {
      const children = appChildren(a);
      for (const child of children) {
        const Model = MODELS[child.kind as keyof typeof MODELS];
        expect(Model, child.kind).toBeDefined();
        expect(() => validate(Model, child), childKey(child)).not.toThrow();
        expect(child.metadata.namespace).toBe('shop');
        expect(child.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(child.metadata.name.length).toBeLessThanOrEqual(child.kind === 'Secret' ? 253 : 63);
        expect(child.metadata.ownerReferences).toEqual([{ apiVersion: 'topas.dev/v1alpha1', kind: 'App', name: a.name, uid, controller: true, blockOwnerDeletion: true }]);
        expect(child.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'topas', 'topas.dev/app': a.name, 'app.kubernetes.io/instance': a.name });
        expect(child.metadata.labels['topas.dev/component']).toBe(child.metadata.labels['app.kubernetes.io/name']);
      }
      expect(new Set(children.map((c) => childKey(c))).size).toBe(children.length);
    });
  }

  it('gives the demo App the children the brief names, databases first', () => {
    expect(appChildren(demo).map((c) => childKey(c))).toEqual([
      'Secret/demo-users-db-credentials',
      'Service/users-db',
      'StatefulSet/users-db',
      `ConfigMap/users-db-init-${initSqlHash(demo.spec.databases[0]!.initSQL!)}`,
      `Job/users-db-init-${initSqlHash(demo.spec.databases[0]!.initSQL!)}`,
      'Service/users',
      'Deployment/users',
    ]);
  });

  it('runs a service as image:version with its replicas, ports and a surge-only rolling update', () => {
    const children = appChildren(demo);
    const d = get(children, 'Deployment/users');
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.selector).toEqual({ matchLabels: { 'topas.dev/app': 'demo', 'topas.dev/component': 'users' } });
    expect(d.spec.template.metadata.labels).toEqual(appChildLabels('demo', 'users'));
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe('topas/demo-users:v1');
    expect(c.ports).toEqual([
      { name: 'main', containerPort: 8080, protocol: 'TCP' },
      { name: 'grpc', containerPort: 50051, protocol: 'TCP' },
    ]);
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' } });
    const svc = get(children, 'Service/users');
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'topas.dev/app': 'demo', 'topas.dev/component': 'users' },
      ports: [
        { name: 'main', port: 8080, targetPort: 8080, protocol: 'TCP' },
        { name: 'grpc', port: 50051, targetPort: 50051, protocol: 'TCP' },
      ],
    });
  });

  it('gives a service PORT, its envVars and DATABASE_URL/DATABASE_URL_<NAME> without the password in the Deployment', () => {
    const children = appChildren(demo);
    const c = get(children, 'Deployment/users').spec.template.spec.containers[0];
    expect(JSON.stringify(get(children, 'Deployment/users'))).not.toContain('s3cret-pass');
    const env = resolvedEnv(c, children);
    expect(env).toMatchObject({
      PORT: '8080',
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgres://admin:s3cret-pass@users-db:5432/users',
      DATABASE_URL_USERS_DB: 'postgres://admin:s3cret-pass@users-db:5432/users',
    });
  });

  it('escapes credentials in the URL, omits an empty password, and takes DATABASE_URL from the first database', () => {
    const a = shapes[3]![1];
    const children = appChildren(a);
    const env = resolvedEnv(get(children, 'Deployment/api').spec.template.spec.containers[0], children);
    const long = 'a'.repeat(50);
    expect(env.DATABASE_URL).toBe('postgres://o@orders:5432/orders');
    expect(env.DATABASE_URL_ORDERS).toBe('postgres://o@orders:5432/orders');
    expect(env[`DATABASE_URL_${long.toUpperCase()}`]).toBe(`postgres://x%40y:p%40ss%2Fw%3Ard@${long}:5433/d%20b`);
    expect(new URL(env[`DATABASE_URL_${long.toUpperCase()}`]!).password).toBe('p%40ss%2Fw%3Ard');
  });

  it('substitutes ${port} and ${version} in envVars, keeps $(X) literal, and lets database URLs win over envVars of the same name', () => {
    const spec = parseAppSpec({
      databases: [{ name: 'db', credentials: { user: 'u', password: 'p', dbname: 'd' } }],
      services: [{ name: 'web', image: 'img', version: 'v9', port: 81, ports: [{ name: 'admin', port: 82 }], envVars: { SELF: 'http://web:${port}/${version}', ADMIN: '${port.admin}', SHELL: '$(HOME) costs $5', DATABASE_URL: 'mine', PORT: '1' } }],
    });
    const children = appChildren(app(spec));
    const c = get(children, 'Deployment/web').spec.template.spec.containers[0];
    const env = resolvedEnv(c, children);
    expect(env).toMatchObject({ SELF: 'http://web:81/v9', ADMIN: '82', SHELL: '$(HOME) costs $5', PORT: '81', DATABASE_URL: 'postgres://u:p@db:5432/d' });
    expect(c.env.filter((e: { name: string }) => e.name === 'DATABASE_URL')).toHaveLength(1);
    expect(escapeEnvValue('$(A)$$')).toBe('$$(A)$$$$');
  });

  it('probes TCP on the main port by default, and resolves a probe port given by name or number', () => {
    const probe = (readinessProbe: unknown) =>
      get(appChildren(app(parseAppSpec({ services: [{ name: 'web', image: 'i', version: 'v', port: 80, ports: [{ name: 'admin', port: 81 }], ...(readinessProbe ? { local: { command: ['x'], readinessProbe } } : {}) }] }))), 'Deployment/web').spec.template.spec.containers[0].readinessProbe;
    expect(probe(undefined)).toEqual({ tcpSocket: { port: 80 }, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(probe({ tcpSocket: { port: 'admin' } }).tcpSocket).toEqual({ port: 81 });
    expect(probe({ httpGet: { path: '/ready', port: '81' }, periodSeconds: 0.5, timeoutSeconds: 2.5 })).toMatchObject({ httpGet: { path: '/ready', port: 81 }, periodSeconds: 1, timeoutSeconds: 3 });
  });

  it('uses an image that already has a tag or digest as written, and names container ports only when Kubernetes allows it', () => {
    expect(serviceImage('topas/demo-users', 'v2')).toBe('topas/demo-users:v2');
    expect(serviceImage('registry.local:5000/team/api', '2.0')).toBe('registry.local:5000/team/api:2.0');
    expect(serviceImage('nginx:1.27', 'v3')).toBe('nginx:1.27');
    expect(serviceImage('nginx@sha256:abc', 'v3')).toBe('nginx@sha256:abc');
    expect(isContainerPortName('grpc')).toBe(true);
    expect(isContainerPortName('metrics-endpoint-long')).toBe(false);
    expect(isContainerPortName('8080')).toBe(false);
    const c = get(appChildren(shapes[3]![1]), 'Deployment/api').spec.template.spec.containers[0];
    expect(c.ports[1]).toEqual({ containerPort: 9090, protocol: 'TCP' });
  });

  it('builds nothing to run for a service without an image (its Service stays, status says why)', () => {
    const keys = appChildren(shapes[2]![1]).map((c) => childKey(c));
    expect(keys).toEqual(['Service/web', 'Deployment/web', 'Service/local-only']);
  });

  it('runs a database as a one-replica StatefulSet with a data claim, credentials from its Secret and a pg_isready probe', () => {
    const children = appChildren(demo);
    const secret = get(children, 'Secret/demo-users-db-credentials');
    expect(secret.data).toMatchObject({ POSTGRES_USER: b64('admin'), POSTGRES_PASSWORD: b64('s3cret-pass'), POSTGRES_DB: b64('users') });
    const sts = get(children, 'StatefulSet/users-db');
    expect(sts.spec).toMatchObject({ replicas: 1, serviceName: 'users-db', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
    expect(sts.spec.volumeClaimTemplates).toEqual([
      { metadata: { name: 'data', labels: appChildLabels('demo', 'users-db') }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    ]);
    const c = sts.spec.template.spec.containers[0];
    expect(c.image).toBe('postgres:16-alpine');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/postgresql/data' }]);
    expect(resolvedEnv(c, children)).toMatchObject({ POSTGRES_USER: 'admin', POSTGRES_PASSWORD: 's3cret-pass', POSTGRES_DB: 'users', PGDATA: '/var/lib/postgresql/data/pgdata', PGPORT: '5432' });
    expect(JSON.stringify(sts)).not.toContain('s3cret-pass');
    expect(c.readinessProbe.exec.command.join(' ')).toContain('pg_isready');
    expect(get(children, 'Service/users-db').spec.ports).toEqual([{ name: 'postgres', port: 5432, targetPort: 5432, protocol: 'TCP' }]);
    const trusting = get(appChildren(shapes[3]![1]), 'StatefulSet/orders').spec.template.spec.containers[0].env;
    expect(trusting).toContainEqual({ name: 'POSTGRES_HOST_AUTH_METHOD', value: 'trust' });
    const sized = get(appChildren(demo, { storage: '5Gi', storageClassName: 'fast' }), 'StatefulSet/users-db').spec.volumeClaimTemplates[0].spec;
    expect(sized).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '5Gi' } } });
  });

  it('applies initSQL with a Job named by its hash: psql with ON_ERROR_STOP from a ConfigMap, after waiting for the database', () => {
    const sql = demo.spec.databases[0]!.initSQL!;
    const hash = initSqlHash(sql);
    expect(hash).toMatch(/^[0-9a-f]{10}$/);
    const children = appChildren(demo);
    const cm = get(children, `ConfigMap/users-db-init-${hash}`);
    expect(cm.data).toEqual({ 'init.sql': sql });
    const job = get(children, `Job/users-db-init-${hash}`);
    expect(job.metadata.labels['topas.dev/init-sql-hash']).toBe(hash);
    expect(job.spec.backoffLimit).toBe(3);
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.initContainers[0].command.join(' ')).toContain('pg_isready');
    const c = pod.containers[0];
    expect(c.image).toBe('postgres:16-alpine');
    expect(c.command).toEqual(['psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '--single-transaction', '-f', '/topas/init/init.sql']);
    expect(pod.volumes).toEqual([{ name: 'init-sql', configMap: { name: `users-db-init-${hash}` } }]);
    expect(resolvedEnv(c, children)).toMatchObject({ PGHOST: 'users-db', PGPORT: '5432', PGUSER: 'admin', PGPASSWORD: 's3cret-pass', PGDATABASE: 'users' });
    expect(JSON.stringify(job)).not.toContain('s3cret-pass');
  });

  it('keeps init Job names within 63 characters for long database names', () => {
    const long = 'a'.repeat(63);
    expect(initJobName(long, '0123456789')).toBe(`${'a'.repeat(47)}-init-0123456789`);
    expect(initJobName(`${'a'.repeat(46)}-bbbb`, '0123456789')).toBe(`${'a'.repeat(46)}-init-0123456789`);
    expect(credentialsSecretName('demo', 'users-db')).toBe('demo-users-db-credentials');
  });

  it('makes no new init Job for a database initialized with another initSQL', () => {
    const applied = { 'users-db': '0000000000' };
    const keys = appChildren(demo, { appliedInitSql: applied }).map((c) => childKey(c));
    expect(keys.some((k) => k.startsWith('Job/'))).toBe(false);
    const same = { 'users-db': initSqlHash(demo.spec.databases[0]!.initSQL!) };
    expect(appChildren(demo, { appliedInitSql: same }).map((c) => childKey(c))).toEqual(appChildren(demo).map((c) => childKey(c)));
  });

  it('finds the applied initSQL in the status first, else in a succeeded init Job', () => {
    const job = (hash: string, succeeded: boolean, completionTime?: string) => ({
      metadata: { name: `users-db-init-${hash}`, labels: { 'topas.dev/component': 'users-db', 'topas.dev/init-sql-hash': hash } },
      status: succeeded ? { succeeded: 1, completionTime, conditions: [{ type: 'Complete', status: 'True' }] } : { failed: 4, conditions: [{ type: 'Failed', status: 'True' }] },
    });
    expect(appliedInitSql(null, [job('aaaaaaaaaa', false)] as any)).toEqual({});
    expect(appliedInitSql(null, [job('bbbbbbbbbb', true, '2026-01-02T00:00:00Z'), job('aaaaaaaaaa', true, '2026-01-01T00:00:00Z')] as any)).toEqual({ 'users-db': 'aaaaaaaaaa' });
    const status = { databases: [{ name: 'users-db', ready: true, endpoint: null, engine: 'postgresql' as const, initializedAt: 'x', initSQLHash: 'cccccccccc' }] };
    expect(appliedInitSql(status, [job('aaaaaaaaaa', true)] as any)).toEqual({ 'users-db': 'cccccccccc' });
  });

  it('marks workloads with a hash of their spec that changes with it and not otherwise', () => {
    const hash = (a: AppObject, key: string) => get(appChildren(a), key).metadata.annotations[SPEC_HASH_ANNOTATION];
    const v2 = app({ ...demo.spec, services: [{ ...demo.spec.services[0]!, version: 'v2' }] });
    expect(hash(demo, 'Deployment/users')).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(app(demoManifest.spec), 'Deployment/users')).toBe(hash(demo, 'Deployment/users'));
    expect(hash(v2, 'Deployment/users')).not.toBe(hash(demo, 'Deployment/users'));
    expect(hash(v2, 'StatefulSet/users-db')).toBe(hash(demo, 'StatefulSet/users-db'));
  });

  it('selects an App\'s children by label', () => {
    expect(appChildSelector('demo')).toBe('app.kubernetes.io/managed-by=topas,topas.dev/app=demo');
    expect(childKey({ metadata: { name: 'users' } }, 'Deployment')).toBe('Deployment/users');
  });
});

describe('appObjectFromResource', () => {
  it('reads the App resource: identity, spec with defaults, status; a bad spec names the field', () => {
    const a = appObjectFromResource({ metadata: { name: 'demo', namespace: 'shop', uid, generation: 4 }, spec: { services: [{ name: 'web', image: 'i', version: 'v', port: 80 }] } });
    expect(a).toEqual({ name: 'demo', namespace: 'shop', uid, generation: 4, spec: { services: [{ name: 'web', image: 'i', version: 'v', port: 80, replicas: 1 }], databases: [] }, status: null });
    expect(() => appObjectFromResource({ metadata: { name: 'x' }, spec: { services: [{ name: 'web', version: 'v', port: 80, ports: [{ name: 'a', port: 81 }, { name: 'a', port: 82 }] }] } })).toThrow(
      /spec\.services\[0\]\.ports\[1\]\.name/,
    );
  });
});
