/**
 * An App's status on Kubernetes, derived from its children as they are (a pure function
 * of what the reconciler listed): the shape the local runtime reports, so `topas app
 * status`, `sut.status` and `kubectl get app` read the same fields.
 *
 * - A service is ready when its Deployment's rollout is done — as `kubectl rollout
 *   status` decides: the controller saw the current generation, and updated, total and
 *   available replicas all equal the desired count — and that Deployment was built from
 *   the current spec (its `topas.dev/spec-hash`).
 * - A database is ready when its StatefulSet's Pod is ready on the current spec and, with
 *   initSQL, its init Job succeeded (or it was initialized before with another SQL,
 *   which is reported, not run again).
 * - Conditions follow the local runtime's rules (`src/apps/local/app-conditions.ts`):
 *   Ready, Progressing, Degraded, with reasons and `observedGeneration`;
 *   `lastTransitionTime` is kept while a condition's status stays.
 */
import type { V1Deployment, V1Job, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import {
  setCondition,
  type AppStatus,
  type Condition,
  type DatabaseSpec,
  type DatabaseStatus,
  type Endpoint,
  type ReplicaStatus,
  type ServiceSpec,
  type ServiceStatus,
} from '../../core/app.js';
import { APP_COMPONENT_LABEL, APP_LABEL, INIT_SQL_HASH_LABEL, initJobName, initSqlHash, SPEC_HASH_ANNOTATION, VERSION_ANNOTATION, type AppObject } from './app-child-meta.js';
import { isoTime, jobFailed, jobSucceeded } from './app-children.js';
import { isOwnedBy } from './child-diff.js';
import { databaseStatefulSet, INIT_CONTAINER } from './database-children.js';
import { serviceDeployment } from './service-children.js';

/** Something the reconciler met that the children alone do not show, e.g. a Service `users` that is not the App's. */
export interface ChildProblem {
  /** The service or database it concerns, if one. */
  component?: string;
  /** A Degraded reason: `ChildConflict`, `Forbidden`… */
  reason: string;
  message: string;
}

/** What the reconciler listed (the App's children, by `appChildSelector`) and when. */
export interface AppObservation {
  app: AppObject;
  deployments: readonly V1Deployment[];
  statefulSets: readonly V1StatefulSet[];
  jobs: readonly V1Job[];
  services: readonly V1Service[];
  pods: readonly V1Pod[];
  now: Date;
  /** Problems met while reconciling (they make the App Degraded). */
  problems?: readonly ChildProblem[];
}

/** A StatefulSet's Pods get the label `controller-revision-hash: <name>-<10 characters>`, at most 63. */
export const MAX_STATEFULSET_NAME = 52;

/** Pod waiting reasons that will not resolve by themselves. */
const STUCK_WAITING = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

interface Progress {
  reason: string;
  message: string;
}

interface ComponentResult<S> {
  status: S;
  ready: boolean;
  progress: Progress | null;
  problem: Progress | null;
}

/** The App's status from its children (see the file comment). */
export function appStatusFromChildren(o: AppObservation): AppStatus {
  const { app } = o;
  const previous = app.status ?? null;
  const owned = <T extends { metadata?: { ownerReferences?: { uid?: string; controller?: boolean }[] } }>(list: readonly T[]) => list.filter((x) => isOwnedBy(x, app.uid));
  const deployments = owned(o.deployments);
  const statefulSets = owned(o.statefulSets);
  const jobs = owned(o.jobs);
  const services = owned(o.services);
  const pods = o.pods.filter((p) => p.metadata?.labels?.[APP_LABEL] === app.name);

  const svcResults = app.spec.services.map((s, i) => serviceResult(app, s, i, deployments, services, pods));
  const dbResults = app.spec.databases.map((d) => databaseResult(app, d, statefulSets, services, jobs, pods, previous, o.now));

  const now = o.now.toISOString();
  let conditions: Condition[] = previous?.conditions ?? [];
  const set = (type: string, status: boolean, reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status: status ? 'True' : 'False', reason, message, observedGeneration: app.generation }, now);
  };
  const notReadyDbs = dbResults.filter((r) => !r.ready);
  const notReadySvcs = svcResults.filter((r) => !r.ready);
  if (!notReadyDbs.length && !notReadySvcs.length) {
    set('Ready', true, 'AllReady', `${count(svcResults.length, 'service')} and ${count(dbResults.length, 'database')} ready`);
  } else {
    const parts = [...notReadyDbs, ...notReadySvcs].map((r) => `${r.status.name}: ${r.status.message ?? 'not ready'}`);
    set('Ready', false, notReadyDbs.length ? 'DatabasesNotReady' : 'ServicesNotReady', parts.join('; '));
  }
  const progress = [...dbResults, ...svcResults].flatMap((r) => (r.progress ? [r.progress] : []));
  if (progress.length) set('Progressing', true, progress[0]!.reason, progress.map((p) => p.message).join('; '));
  else set('Progressing', false, 'Converged', 'every service and database runs its current spec');
  const problems = [...(o.problems ?? []).map((p) => ({ reason: p.reason, message: p.message })), ...[...dbResults, ...svcResults].flatMap((r) => (r.problem ? [r.problem] : []))];
  if (problems.length) set('Degraded', true, problems[0]!.reason, problems.map((p) => p.message).join('; '));
  else set('Degraded', false, 'AsExpected', 'no replica or database is failing');

  return {
    observedGeneration: app.generation,
    services: svcResults.map((r) => r.status),
    databases: dbResults.map((r) => r.status),
    conditions,
    summary: {
      services: `${svcResults.length - notReadySvcs.length}/${svcResults.length}`,
      databases: `${dbResults.length - notReadyDbs.length}/${dbResults.length}`,
    },
  };
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function componentPods(pods: readonly V1Pod[], component: string): V1Pod[] {
  return pods.filter((p) => p.metadata?.labels?.[APP_COMPONENT_LABEL] === component);
}

/** The Service's cluster IP, or null (not yet allocated, or headless). */
function clusterIp(service: V1Service | undefined): string | null {
  const ip = service?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : null;
}

/**
 * Where a Deployment's rollout stands, as `kubectl rollout status` reads it; null when
 * it is done.
 */
export function deploymentRolloutMessage(d: V1Deployment): string | null {
  const generation = d.metadata?.generation ?? 0;
  const st = d.status ?? {};
  if ((st.observedGeneration ?? 0) < generation) return 'waiting for the Deployment controller to see the new spec';
  const desired = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < desired) return `rolling out: ${updated} of ${desired} replicas updated`;
  if (total > updated) return `rolling out: ${total - updated} old replica${total - updated === 1 ? '' : 's'} pending termination`;
  if (available < updated) return `rolling out: ${available} of ${updated} updated replicas available`;
  return null;
}

/** A Pod's container stuck in a state that will not pass by itself, described; null if none. */
function stuckPod(pods: readonly V1Pod[]): { reason: string; message: string } | null {
  for (const pod of pods) {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = c.state?.waiting;
      if (!waiting?.reason || !STUCK_WAITING.has(waiting.reason)) continue;
      const last = c.lastState?.terminated;
      const lastText = last ? ` (last exit code ${last.exitCode}${last.message ? `: ${lastLine(last.message)}` : ''})` : '';
      return { reason: waiting.reason, message: `pod ${pod.metadata?.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}${lastText}` };
    }
  }
  return null;
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim()).pop() ?? '';
}

function serviceResult(
  app: AppObject,
  spec: ServiceSpec,
  index: number,
  deployments: readonly V1Deployment[],
  services: readonly V1Service[],
  pods: readonly V1Pod[],
): ComponentResult<ServiceStatus> {
  const deployment = deployments.find((d) => d.metadata?.name === spec.name);
  const svc = services.find((s) => s.metadata?.name === spec.name);
  const ownPods = componentPods(pods, spec.name);
  const host = clusterIp(svc);
  const status: ServiceStatus = {
    name: spec.name,
    version: spec.version,
    replicas: spec.replicas,
    readyReplicas: deployment?.status?.readyReplicas ?? 0,
    updatedReplicas: deployment?.status?.updatedReplicas ?? 0,
    availableReplicas: deployment?.status?.availableReplicas ?? 0,
    restarts: ownPods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0),
    endpoint: host ? { host, port: spec.port } : null,
    ...(spec.ports?.length && host ? { ports: Object.fromEntries(spec.ports.map((p): [string, Endpoint] => [p.name, { host, port: p.port }])) } : {}),
    ...(ownPods.length ? { replicaStatuses: replicaStatuses(ownPods) } : {}),
  };
  const fail = (reason: string, message: string): ComponentResult<ServiceStatus> => ({ status: { ...status, message }, ready: false, progress: null, problem: { reason, message: `${spec.name}: ${message}` } });
  const wait = (reason: string, message: string): ComponentResult<ServiceStatus> => ({ status: { ...status, message }, ready: false, progress: { reason, message: `${spec.name}: ${message}` }, problem: null });

  const desired = serviceDeployment(app, spec);
  if (!desired) return fail('MissingImage', `spec.services[${index}].image is not set: a service needs an image to run on Kubernetes`);
  if (!deployment) return wait('Creating', 'waiting for its Deployment to be created');
  if (deployment.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== desired.metadata.annotations?.[SPEC_HASH_ANNOTATION]) {
    return wait('RollingOut', 'waiting for its Deployment to be updated to the spec');
  }
  const rollout = deploymentRolloutMessage(deployment);
  const deadline = deployment.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  const stuck = stuckPod(ownPods);
  if (rollout || status.readyReplicas < spec.replicas) {
    const message = rollout ?? `${status.readyReplicas}/${spec.replicas} replicas ready`;
    if (stuck) {
      const result = fail('ReplicasUnavailable', `${message}; ${stuck.message}`);
      if (stuck.reason === 'CrashLoopBackOff' && status.readyReplicas === 0) result.status.reason = 'CrashLoopBackOff';
      return result;
    }
    if (deadline) return fail('ProgressDeadlineExceeded', `${message}; ${deadline.message ?? 'the rollout made no progress within its deadline'}`);
    return wait('RollingOut', message);
  }
  if (!host) return wait('Creating', 'waiting for its Service to get a cluster IP');
  return { status, ready: true, progress: null, problem: null };
}

/** Per Pod of a service (oldest first), in the local runtime's shape: `pid` is null on Kubernetes. */
export function replicaStatuses(pods: readonly V1Pod[]): ReplicaStatus[] {
  const sorted = [...pods].sort((a, b) => (isoTime(a.metadata?.creationTimestamp) ?? '').localeCompare(isoTime(b.metadata?.creationTimestamp) ?? '') || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  return sorted.map((pod, index) => {
    const containers = pod.status?.containerStatuses ?? [];
    const last = containers.map((c) => c.lastState?.terminated).find(Boolean);
    return {
      index,
      pid: null,
      ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? (containers.length > 0 && containers.every((c) => c.ready)),
      restarts: containers.reduce((n, c) => n + (c.restartCount ?? 0), 0),
      version: pod.metadata?.annotations?.[VERSION_ANNOTATION] ?? '',
      lastExit: last ? `exited with code ${last.exitCode}${last.message?.trim() ? `: ${lastLine(last.message)}` : ''}` : null,
    };
  });
}

function databaseResult(
  app: AppObject,
  spec: DatabaseSpec,
  statefulSets: readonly V1StatefulSet[],
  services: readonly V1Service[],
  jobs: readonly V1Job[],
  pods: readonly V1Pod[],
  previous: AppStatus | null,
  now: Date,
): ComponentResult<DatabaseStatus> {
  const sts = statefulSets.find((s) => s.metadata?.name === spec.name);
  const svc = services.find((s) => s.metadata?.name === spec.name);
  const host = clusterIp(svc);
  const before = previous?.databases.find((d) => d.name === spec.name);
  const status: DatabaseStatus = { name: spec.name, ready: false, endpoint: host ? { host, port: spec.port } : null, engine: 'postgresql', initializedAt: null };
  const ownPods = componentPods(pods, spec.name);
  const serverPods = ownPods.filter((p) => !p.metadata?.labels?.[INIT_SQL_HASH_LABEL]);
  const fail = (reason: string, message: string): ComponentResult<DatabaseStatus> => ({ status: { ...status, ready: false, message }, ready: false, progress: null, problem: { reason, message: `${spec.name}: ${message}` } });
  const wait = (reason: string, message: string): ComponentResult<DatabaseStatus> => ({ status: { ...status, ready: false, message }, ready: false, progress: { reason, message: `${spec.name}: ${message}` }, problem: null });

  // What initSQL has done, whatever the server's state.
  const hash = spec.initSQL ? initSqlHash(spec.initSQL) : null;
  const appliedJob = jobs
    .filter((j) => j.metadata?.labels?.[APP_COMPONENT_LABEL] === spec.name && j.metadata?.labels?.[INIT_SQL_HASH_LABEL] && jobSucceeded(j))
    .sort((a, b) => (isoTime(a.status?.completionTime) ?? '').localeCompare(isoTime(b.status?.completionTime) ?? ''))[0];
  const appliedHash = before?.initSQLHash ?? appliedJob?.metadata?.labels?.[INIT_SQL_HASH_LABEL];
  if (appliedHash) {
    status.initSQLHash = appliedHash;
    status.initializedAt = before?.initSQLHash ? before.initializedAt : (isoTime(appliedJob?.status?.completionTime) ?? now.toISOString());
  }
  let initNote: string | undefined;
  let initState: ComponentResult<DatabaseStatus> | null = null;
  if (hash && appliedHash && appliedHash !== hash) {
    initNote = `initSQL changed since the database was initialized${status.initializedAt ? ` at ${status.initializedAt}` : ''}; not applied again (it runs once, when the database is created)`;
  } else if (hash && !appliedHash) {
    const name = initJobName(spec.name, hash);
    const job = jobs.find((j) => j.metadata?.name === name);
    if (!job) initState = wait('InitializingDatabase', `waiting for its init Job ${name} to be created`);
    else if (jobFailed(job)) initState = fail('InitJobFailed', `init Job ${name} failed: ${initFailure(job, ownPods.filter((p) => p.metadata?.labels?.[INIT_SQL_HASH_LABEL] === hash))}`);
    else initState = wait('InitializingDatabase', `applying initSQL (Job ${name})`);
  }

  if (spec.name.length > MAX_STATEFULSET_NAME) {
    return fail('NameTooLong', `a database name longer than ${MAX_STATEFULSET_NAME} characters cannot run as a StatefulSet (its Pods' controller-revision-hash label would exceed 63 characters); shorten it`);
  }
  const desired = databaseStatefulSet(app, spec);
  if (!sts) return wait('StartingDatabases', 'waiting for its StatefulSet to be created');
  if (sts.metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== desired.metadata.annotations?.[SPEC_HASH_ANNOTATION]) return wait('RollingOut', 'waiting for its StatefulSet to be updated to the spec');
  const st = sts.status ?? { replicas: 0 };
  const rolledOut = (st.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0) && (!st.updateRevision || st.currentRevision === st.updateRevision);
  if (!rolledOut || (st.readyReplicas ?? 0) < 1) {
    const stuck = stuckPod(serverPods);
    if (stuck) return fail('DatabaseFailed', stuck.message);
    return initState?.problem ? initState : wait('StartingDatabases', rolledOut ? 'starting' : 'rolling out');
  }
  if (initState) return initState;
  if (!host) return wait('StartingDatabases', 'waiting for its Service to get a cluster IP');
  return { status: { ...status, ready: true, ...(initNote ? { message: initNote } : {}) }, ready: true, progress: null, problem: null };
}

/** Why an init Job failed: psql's last line from the latest failed Pod, else the Job's Failed condition. */
function initFailure(job: V1Job, pods: readonly V1Pod[]): string {
  const failed = pods
    .flatMap((p) => (p.status?.containerStatuses ?? []).filter((c) => c.name === INIT_CONTAINER && c.state?.terminated && c.state.terminated.exitCode !== 0).map((c) => c.state!.terminated!))
    .sort((a, b) => (isoTime(a.finishedAt) ?? '').localeCompare(isoTime(b.finishedAt) ?? ''))
    .pop();
  if (failed?.message?.trim()) return lastLine(failed.message);
  if (failed) return `psql exited with code ${failed.exitCode}`;
  const condition = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  return condition?.message ?? condition?.reason ?? 'the Job failed';
}
