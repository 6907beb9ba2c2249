/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AppStatusSchema, parseAppManifest, type AppSpec, type AppStatus } from '../../core/app.js';
import { appOpenApiSchema } from '../crd/app-crd.js';
import { crdSchemaValidator } from '../testing/crd-schema-validator.js';
import { childKey, initSqlHash, type AppObject } from './app-child-meta.js';
import { appChildren, type AppChild } from './app-children.js';
import { appStatusFromChildren, deploymentRolloutMessage, type AppObservation } from './app-status.js';

const demoSpec = parseAppManifest(parse(readFileSync(new URL('../../../examples/apps/demo/app.yaml', import.meta.url), 'utf8'))).spec;
const uid = '6f1c2d3e-0000-4000-8000-0000000000a1';
const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-01T00:05:00.000Z');
const hash = initSqlHash(demoSpec.databases[0]!.initSQL!);
const JOB = `users-db-init-${hash}`;

const app = (spec: AppSpec = demoSpec, status: AppStatus | null = null, generation = 3): AppObject => ({ name: 'demo', namespace: 'shop', uid, generation, spec, status });
const find = (children: AppChild[], key: string): any => structuredClone(children.find((c) => childKey(c) === key));

/** Live children as the API server and controllers would show them once everything is up. */
function cluster(a: AppObject) {
  const children = appChildren(a);
  const deployments = children.filter((c) => c.kind === 'Deployment').map((c: any) => {
    const n = c.spec.replicas;
    return { ...structuredClone(c), metadata: { ...c.metadata, generation: 1 }, status: { observedGeneration: 1, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n } };
  });
  const statefulSets = children.filter((c) => c.kind === 'StatefulSet').map((c: any) => ({
    ...structuredClone(c),
    metadata: { ...c.metadata, generation: 1 },
    status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, currentRevision: 'r1', updateRevision: 'r1' },
  }));
  const services = children.filter((c) => c.kind === 'Service').map((c: any, i) => ({ ...structuredClone(c), spec: { ...c.spec, clusterIP: `127.2.0.${i + 1}` } }));
  const jobs = children.filter((c) => c.kind === 'Job').map((c: any) => ({
    ...structuredClone(c),
    status: { succeeded: 1, completionTime: '2026-01-01T00:01:00Z', conditions: [{ type: 'Complete', status: 'True' }] },
  }));
  const pods = [0, 1].map((i) => ({
    metadata: { name: `users-abc-${i}`, creationTimestamp: `2026-01-01T00:00:0${i}Z`, labels: { 'topas.dev/app': 'demo', 'topas.dev/component': 'users' }, annotations: { 'topas.dev/version': 'v1' } },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'users', ready: true, restartCount: i + 1, state: { running: {} }, ...(i === 1 ? { lastState: { terminated: { exitCode: 137, message: '' } } } : {}) }],
    },
  }));
  return { app: a, deployments, statefulSets, services, jobs, pods, now: T0 } as AppObservation & { deployments: any[]; statefulSets: any[]; services: any[]; jobs: any[]; pods: any[] };
}
const condition = (s: AppStatus, type: string) => s.conditions.find((c) => c.type === type)!;

describe('appStatusFromChildren', () => {
  it('reports a running App Ready, with endpoints at the Services, restarts from its Pods and the init Job\'s completion', () => {
    const s = appStatusFromChildren(cluster(app()));
    expect(condition(s, 'Ready')).toEqual({ type: 'Ready', status: 'True', reason: 'AllReady', message: '1 service and 1 database ready', observedGeneration: 3, lastTransitionTime: T0.toISOString() });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Converged' });
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(s.observedGeneration).toBe(3);
    expect(s.summary).toEqual({ services: '1/1', databases: '1/1' });
    expect(s.services).toEqual([
      {
        name: 'users',
        version: 'v1',
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
        restarts: 3,
        endpoint: { host: '127.2.0.2', port: 8080 },
        ports: { grpc: { host: '127.2.0.2', port: 50051 } },
        replicaStatuses: [
          { index: 0, pid: null, ready: true, restarts: 1, version: 'v1', lastExit: null },
          { index: 1, pid: null, ready: true, restarts: 2, version: 'v1', lastExit: 'exited with code 137' },
        ],
      },
    ]);
    expect(s.databases).toEqual([
      { name: 'users-db', ready: true, endpoint: { host: '127.2.0.1', port: 5432 }, engine: 'postgresql', initializedAt: '2026-01-01T00:01:00.000Z', initSQLHash: hash },
    ]);
  });

  it('writes what the CRD\'s status schema and AppStatusSchema accept', () => {
    const check = crdSchemaValidator(appOpenApiSchema());
    const nothing = { ...cluster(app()), deployments: [], statefulSets: [], services: [], jobs: [], pods: [] };
    for (const s of [appStatusFromChildren(cluster(app())), appStatusFromChildren(nothing)]) {
      expect(check({ apiVersion: 'topas.dev/v1alpha1', kind: 'App', metadata: { name: 'demo' }, spec: demoSpec, status: s })).toEqual([]);
      expect(AppStatusSchema.safeParse(s).success).toBe(true);
    }
  });

  it('says what it waits for before the children exist: not Ready, Progressing, not Degraded', () => {
    const s = appStatusFromChildren({ ...cluster(app()), deployments: [], statefulSets: [], services: [], jobs: [], pods: [] });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'DatabasesNotReady' });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'True' });
    expect(condition(s, 'Degraded').status).toBe('False');
    expect(s.summary).toEqual({ services: '0/1', databases: '0/1' });
    expect(s.services[0]).toMatchObject({ readyReplicas: 0, endpoint: null, message: 'waiting for its Deployment to be created' });
    expect(s.databases[0]).toMatchObject({ ready: false, endpoint: null, initializedAt: null });
  });

  it('keeps lastTransitionTime while a condition stays, and moves it when it changes', () => {
    const first = appStatusFromChildren(cluster(app()));
    const again = appStatusFromChildren({ ...cluster(app(demoSpec, first)), now: T1 });
    expect(condition(again, 'Ready').lastTransitionTime).toBe(T0.toISOString());
    const broken = cluster(app(demoSpec, first));
    broken.deployments[0].status.readyReplicas = 1;
    broken.deployments[0].status.availableReplicas = 1;
    const later = appStatusFromChildren({ ...broken, now: T1 });
    expect(condition(later, 'Ready')).toMatchObject({ status: 'False', reason: 'ServicesNotReady', lastTransitionTime: T1.toISOString() });
  });

  it('is done with a rollout only as kubectl rollout status is: generation seen, updated == available == replicas, no old Pods', () => {
    const d = (spec: number, st: Record<string, number>, generation = 2) => ({ metadata: { generation }, spec: { replicas: spec }, status: st });
    expect(deploymentRolloutMessage(d(2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }) as any)).toBe('waiting for the Deployment controller to see the new spec');
    expect(deploymentRolloutMessage(d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 }) as any)).toBe('rolling out: 1 of 2 replicas updated');
    expect(deploymentRolloutMessage(d(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }) as any)).toBe('rolling out: 1 old replica pending termination');
    expect(deploymentRolloutMessage(d(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }) as any)).toBe('rolling out: 1 of 2 updated replicas available');
    expect(deploymentRolloutMessage(d(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }) as any)).toBeNull();

    const c = cluster(app());
    Object.assign(c.deployments[0].status, { observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 });
    const s = appStatusFromChildren(c);
    expect(s.services[0]).toMatchObject({ readyReplicas: 3, updatedReplicas: 1, message: 'rolling out: 1 of 2 replicas updated' });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ServicesNotReady', message: 'users: rolling out: 1 of 2 replicas updated' });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(s.summary!.services).toBe('0/1');
  });

  it('is not Ready while the Deployment still has the previous spec (apply_service to v2 before the reconciler wrote it)', () => {
    const v1 = cluster(app());
    const v2spec = { ...demoSpec, services: [{ ...demoSpec.services[0]!, version: 'v2' }] };
    const s = appStatusFromChildren({ ...v1, app: app(v2spec, null, 4) });
    expect(s.services[0]).toMatchObject({ version: 'v2', message: 'waiting for its Deployment to be updated to the spec' });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', observedGeneration: 4 });
  });

  it('reports a crash-looping service Degraded with the Pod and its last exit', () => {
    const c = cluster(app());
    Object.assign(c.deployments[0].status, { readyReplicas: 0, availableReplicas: 0 });
    c.pods[0].status.containerStatuses[0] = {
      name: 'users',
      ready: false,
      restartCount: 5,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
      lastState: { terminated: { exitCode: 1, message: 'starting\nError: connect ECONNREFUSED' } },
    };
    const s = appStatusFromChildren(c);
    expect(s.services[0]!.reason).toBe('CrashLoopBackOff');
    expect(s.services[0]!.restarts).toBe(7);
    expect(s.services[0]!.message).toBe(
      'rolling out: 0 of 2 updated replicas available; pod users-abc-0: CrashLoopBackOff: back-off 40s restarting failed container (last exit code 1: Error: connect ECONNREFUSED)',
    );
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReplicasUnavailable' });
    expect(condition(s, 'Degraded').message).toContain('users: ');
  });

  it('reports a failed init Job with psql\'s error, and the database not ready', () => {
    const c = cluster(app());
    c.jobs[0].status = { failed: 4, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] };
    c.pods.push({
      metadata: { name: `${JOB}-x1`, labels: { 'topas.dev/app': 'demo', 'topas.dev/component': 'users-db', 'topas.dev/init-sql-hash': hash } },
      status: { containerStatuses: [{ name: 'init-sql', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, finishedAt: '2026-01-01T00:00:30Z', message: 'psql:/topas/init/init.sql:1: ERROR:  syntax error at or near "CREAT"\n' } } } as any] },
    });
    const s = appStatusFromChildren(c);
    expect(s.databases[0]).toMatchObject({ ready: false, initializedAt: null, message: `init Job ${JOB} failed: psql:/topas/init/init.sql:1: ERROR:  syntax error at or near "CREAT"` });
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'InitJobFailed' });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'DatabasesNotReady' });
  });

  it('waits for the init Job before the database counts as ready', () => {
    const c = cluster(app());
    c.jobs[0].status = { active: 1 };
    const s = appStatusFromChildren(c);
    expect(s.databases[0]).toMatchObject({ ready: false, message: `applying initSQL (Job ${JOB})` });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'InitializingDatabase' });
  });

  it('reports a changed initSQL as not applied again, keeping when the database was initialized', () => {
    const first = appStatusFromChildren(cluster(app()));
    const changed = { ...demoSpec, databases: [{ ...demoSpec.databases[0]!, initSQL: 'CREATE TABLE other (id int);' }] };
    const c = cluster(app(changed, first));
    c.jobs = []; // the old Job was pruned; the status remembers
    const s = appStatusFromChildren(c);
    expect(s.databases[0]).toMatchObject({
      ready: true,
      initSQLHash: hash,
      initializedAt: '2026-01-01T00:01:00.000Z',
      message: 'initSQL changed since the database was initialized at 2026-01-01T00:01:00.000Z; not applied again (it runs once, when the database is created)',
    });
    expect(condition(s, 'Ready').status).toBe('True');
  });

  it('reports a service without an image Degraded (MissingImage), and problems the reconciler met (ChildConflict)', () => {
    const spec = { ...demoSpec, services: [{ ...demoSpec.services[0]!, image: undefined }] };
    const s = appStatusFromChildren({ ...cluster(app(spec)), problems: [{ component: 'users-db', reason: 'ChildConflict', message: 'Service users-db already exists and is not managed by App demo' }] });
    expect(s.services[0]!.message).toBe('spec.services[0].image is not set: a service needs an image to run on Kubernetes');
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ChildConflict' });
    expect(condition(s, 'Degraded').message).toContain('users: spec.services[0].image is not set');
  });

  it('ignores objects of the same names that the App does not own', () => {
    const c = cluster(app());
    for (const list of [c.deployments, c.statefulSets, c.services, c.jobs]) for (const o of list) o.metadata.ownerReferences[0].uid = 'someone-else';
    const s = appStatusFromChildren(c);
    expect(s.services[0]).toMatchObject({ readyReplicas: 0, endpoint: null });
    expect(s.databases[0]).toMatchObject({ ready: false, endpoint: null });
  });

  it('refuses a database name too long for a StatefulSet\'s Pods (Degraded NameTooLong)', () => {
    const spec = { ...demoSpec, databases: [{ ...demoSpec.databases[0]!, name: 'd'.repeat(53) }] };
    const s = appStatusFromChildren(cluster(app(spec)));
    expect(s.databases[0]!.message).toMatch(/^a database name longer than 52 characters cannot run as a StatefulSet/);
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'NameTooLong' });
  });

  it('counts a service scaled to 0 as ready', () => {
    const spec = { ...demoSpec, services: [{ ...demoSpec.services[0]!, replicas: 0 }] };
    const s = appStatusFromChildren(cluster(app(spec)));
    expect(s.services[0]).toMatchObject({ replicas: 0, readyReplicas: 0 });
    expect(condition(s, 'Ready').status).toBe('True');
  });
});
