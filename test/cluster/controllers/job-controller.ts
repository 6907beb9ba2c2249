/**
 * The test cluster's Job controller (with the TTL-after-finished controller's
 * part), doing what kube-controller-manager's do for a Job's users: Pods
 * `<job>-<random>` from the template (its labels carry the generated
 * `job-name`/`batch.kubernetes.io/job-name` and `controller-uid` ones; its
 * `restartPolicy` Never or OnFailure is the kubelet's business), up to
 * `parallelism` at a time until `completions` have succeeded; a failed Pod is
 * replaced after a back-off that doubles (`backOffMs`, kube: 10 s, capped at
 * 10 min) until `backoffLimit` is passed — counting failed Pods for Never, and
 * container restarts for OnFailure — or `activeDeadlineSeconds` is; then the
 * remaining Pods are deleted and the Job gets `FailureTarget` then `Failed`
 * (reason `BackoffLimitExceeded` / `DeadlineExceeded`); on success
 * `SuccessCriteriaMet` then `Complete` (reason `CompletionsReached`) and
 * `completionTime`, as kube 1.31+ sets them. Status `startTime`, `active`,
 * `ready`, `succeeded`, `failed`, `terminating`, `uncountedTerminatedPods`. A
 * finished Job with `ttlSecondsAfterFinished` is deleted (foreground, so its
 * Pods go first) that long after it finished. `suspend: true` deletes the
 * active Pods and starts none.
 *
 * It does NOT: track Pods with the `batch.kubernetes.io/job-tracking` finalizer
 * (succeeded/failed are counted from the Pods still there, and never go down —
 * a Pod deleted while running is not counted as failed); do Indexed completion
 * (no completion indexes, `JOB_COMPLETION_INDEX`), `podFailurePolicy`,
 * `successPolicy`, `backoffLimitPerIndex`, `managedBy`; set the `Suspended`
 * condition; adopt orphaned Pods. Events: SuccessfulCreate, Completed,
 * BackoffLimitExceeded/DeadlineExceeded.
 */
import type { JsonObject } from '../api-server/errors.js';
import { timestamp } from '../api-server/object-service.js';
import type { StoreEvent } from '../api-server/watch-hub.js';
import { controllerOf, controllerRef, isRunningAndReady, isTerminated, keyOf, StoreController, type ControllerLog, type ReconcileResult } from './store-controller.js';
import type { ObjectService } from '../api-server/object-service.js';

export interface JobControllerOptions {
  /** The first back-off before a failed Pod is replaced; it doubles per failure (default 10 000 ms, as kube). */
  backOffMs?: number;
  /** The longest back-off (default 10 min, as kube). */
  maxBackOffMs?: number;
  retryMs?: number;
  log?: ControllerLog;
}

function condition(type: string, reason: string, message: string): JsonObject {
  const now = timestamp();
  return { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message };
}

function hasCondition(job: JsonObject, type: string): JsonObject | undefined {
  return (job.status?.conditions ?? []).find((c: JsonObject) => c.type === type && c.status === 'True');
}

export class JobController extends StoreController {
  protected readonly storageKey = 'jobs.batch';
  private readonly backOffMs: number;
  private readonly maxBackOffMs: number;
  /** Job uid → failures seen and when the last one was seen (the back-off's clock). */
  private failures = new Map<string, { count: number; at: number }>();

  constructor(service: ObjectService, options: JobControllerOptions = {}) {
    super(service, options.retryMs, options.log);
    this.backOffMs = options.backOffMs ?? 10_000;
    this.maxBackOffMs = options.maxBackOffMs ?? 600_000;
  }

  protected keysFor(e: StoreEvent): string[] {
    if (e.storageKey === this.storageKey) {
      if (e.type === 'DELETED') this.failures.delete(e.object.metadata.uid);
      return [keyOf(e.object)];
    }
    if (e.storageKey === 'pods') {
      const ref = controllerOf(e.object) ?? controllerOf(e.previous);
      if (ref?.kind === 'Job' && ref.apiVersion?.startsWith('batch/')) return [`${e.namespace}/${ref.name}`];
    }
    return [];
  }

  protected reconcile(namespace: string, name: string): ReconcileResult {
    const job = this.service.store.get(this.storageKey, namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    if (hasCondition(job, 'Complete') || hasCondition(job, 'Failed')) return this.expire(job);
    const spec = job.spec;
    const podType = this.type('', 'pods');
    const pods = this.service.store.list('pods', namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
    const active = pods.filter((p) => !isTerminated(p) && !p.metadata.deletionTimestamp);
    const terminating = pods.filter((p) => !isTerminated(p) && p.metadata.deletionTimestamp);
    const succeeded = Math.max(pods.filter((p) => p.status?.phase === 'Succeeded').length, job.status?.succeeded ?? 0);
    const failed = Math.max(pods.filter((p) => p.status?.phase === 'Failed').length, job.status?.failed ?? 0);
    const status: JsonObject = structuredClone(job.status ?? {});
    const conditions: JsonObject[] = (status.conditions ??= []);
    const now = Date.now();
    let requeueAfterMs: number | undefined;
    const deleteAll = (list: JsonObject[]) => {
      for (const p of list) this.service.delete(podType, namespace, p.metadata.name);
    };

    const seen = this.failures.get(job.metadata.uid) ?? { count: 0, at: 0 };
    if (failed > seen.count) this.failures.set(job.metadata.uid, { count: failed, at: now });

    if (spec.suspend) {
      deleteAll(active);
    } else {
      status.startTime ??= timestamp(now);
      const started = Date.parse(status.startTime);
      const completions: number | undefined = spec.completions ?? undefined;
      const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' ? active.reduce((n, p) => n + [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].reduce((m: number, s: JsonObject) => m + (s.restartCount ?? 0), 0), 0) : 0;
      const backoffLimit: number = spec.backoffLimit ?? 6;
      const pastBackoffLimit = failed > backoffLimit || (restarts > 0 && (backoffLimit === 0 || restarts >= backoffLimit));
      const deadline = spec.activeDeadlineSeconds !== undefined ? started + spec.activeDeadlineSeconds * 1000 : undefined;
      const complete = completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      let failure = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True') as { reason: string; message: string } | undefined;
      if (!failure && !complete && pastBackoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      if (!failure && !complete && deadline !== undefined && now >= deadline) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      if (failure) {
        deleteAll(active);
        if (!hasCondition(job, 'FailureTarget')) conditions.push(condition('FailureTarget', failure.reason, failure.message));
        if (active.length === 0 && terminating.length === 0) {
          conditions.push(condition('Failed', failure.reason, failure.message));
          this.event(job, 'job-controller', 'Warning', failure.reason, failure.message);
        }
      } else if (complete || hasCondition(job, 'SuccessCriteriaMet')) {
        deleteAll(active);
        const message = 'Reached expected number of succeeded pods';
        if (!hasCondition(job, 'SuccessCriteriaMet')) conditions.push(condition('SuccessCriteriaMet', 'CompletionsReached', message));
        if (active.length === 0 && terminating.length === 0) {
          conditions.push(condition('Complete', 'CompletionsReached', message));
          status.completionTime = timestamp(now);
          this.event(job, 'job-controller', 'Normal', 'Completed', 'Job completed');
        }
      } else {
        const wanted = Math.min(spec.parallelism ?? 1, completions !== undefined ? completions - succeeded : spec.parallelism ?? 1) - active.length;
        const last = this.failures.get(job.metadata.uid);
        const backOff = failed > 0 && last ? Math.min(this.backOffMs * 2 ** (failed - 1), this.maxBackOffMs) : 0;
        const waitMs = last && backOff > 0 ? last.at + backOff - now : 0;
        if (wanted > 0 && waitMs > 0) requeueAfterMs = waitMs;
        else {
          for (let i = 0; i < wanted; i++) {
            const pod = this.service.create(podType, namespace, this.newPod(job)).object;
            this.event(job, 'job-controller', 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
          }
        }
        if (deadline !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, deadline - now);
      }
    }
    const after = this.service.store.list('pods', namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
    const stillActive = after.filter((p) => !isTerminated(p) && !p.metadata.deletionTimestamp);
    status.active = stillActive.length;
    status.ready = stillActive.filter(isRunningAndReady).length;
    status.succeeded = succeeded;
    status.failed = failed;
    status.terminating = after.filter((p) => !isTerminated(p) && p.metadata.deletionTimestamp).length;
    status.uncountedTerminatedPods ??= {};
    for (const k of ['active', 'succeeded', 'failed'] as const) if (status[k] === 0) delete status[k];
    if (conditions.length === 0) delete status.conditions;
    const written = this.service.update(this.type('batch', 'jobs'), namespace, name, { ...job, status }, { subresource: 'status' }).object;
    if (hasCondition(written, 'Complete') || hasCondition(written, 'Failed')) return this.expire(written);
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs: Math.max(requeueAfterMs, 0) };
  }

  private newPod(job: JsonObject): JsonObject {
    const template = job.spec.template ?? {};
    return {
      metadata: {
        generateName: `${job.metadata.name}-`,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [controllerRef(job)],
      },
      spec: structuredClone(template.spec ?? {}),
    };
  }

  /** The TTL-after-finished controller: a finished Job goes `ttlSecondsAfterFinished` after it finished. */
  private expire(job: JsonObject): ReconcileResult {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return;
    const finished = job.status?.completionTime ?? hasCondition(job, 'Failed')?.lastTransitionTime ?? hasCondition(job, 'Complete')?.lastTransitionTime;
    const at = Date.parse(finished ?? '') + ttl * 1000;
    if (Number.isNaN(at)) return;
    const left = at - Date.now();
    if (left > 0) return { requeueAfterMs: left };
    this.service.delete(this.type('batch', 'jobs'), job.metadata.namespace, job.metadata.name, { propagationPolicy: 'Foreground' });
  }
}
