/**
 * The TestRun controller: reconciles each `TestRun` (one `{namespace, name}` at a time)
 * into a run in the store (origin `crd`, `k8sRef`) and mirrors that run — the store is
 * the truth — and its runner Pod back into the resource's status subresource. Started
 * by the composition root only while this instance holds the leader Lease.
 *
 * Level-triggered: a TestRun change, a runner Pod change (label `topas.dev/testrun`) and
 * a run's phase change all only say "look at this TestRun again"; the reconcile reads
 * what is, and converges:
 *
 * 1. being deleted → cancel its run (if not ended), delete its Pod, source ConfigMap and
 *    token Secret, remove the finalizer `topas.dev/cleanup` (the run record stays);
 * 2. add the finalizer;
 * 3. record the run, exactly once: its id is derived from the TestRun's uid
 *    (`testrun-run-id.ts`), so a retry after a crash finds the run made before;
 *    a spec topas cannot run (a missing Secret, definition or App, an invalid spec) →
 *    status `Error`, `Ready=False`, no retry until the spec changes;
 * 4. write the status (`testRunStatus`) when it differs from what the resource has —
 *    while the run has not ended at most once a second (its end at once), so a passing
 *    TestRun costs a finalizer patch, two status writes and one Event;
 * 5. once ended, an Event says how, and `ttlSecondsAfterFinished` deletes the resource
 *    (requeued for then).
 *
 * The executor (`--kubernetes`) creates and follows the runner Pod; the engine applies the
 * one global concurrency limit, so a TestRun waits `Queued` (`Ready=False/WaitingForCapacity`).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ConflictError, TopasError, ValidationError } from '../core/errors.js';
import { canonicalJson } from '../core/canonical-json.js';
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import type { Run, RunSource } from '../core/run.js';
import { isTerminal } from '../core/run-phase.js';
import { parseOrThrow } from '../core/schemas/issues.js';
import { withMaskedEnvNames } from '../core/secrets.js';
import { TESTRUN_FINALIZER, TestRunSpecSchema, type TestRun, type TestRunStatus } from '../core/testrun.js';
import type { Engine, RunRequest } from '../engine/engine.js';
import { TESTRUN_LABEL } from '../kubernetes/manifests/labels.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../kubernetes/manifests/names.js';
import { DEFAULT_POD_GRACE_MS } from '../kubernetes/status/pod-outcome.js';
import { CONDITION, testRunRejectedStatus, testRunStatus } from '../kubernetes/status/testrun-status.js';
import { testRunToRunRequest } from '../kubernetes/testrun-run-request.js';
import type { Store } from '../store/store.js';
import { Controller, TerminalError, type ReconcileResult } from './controller.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { Informer } from '../kube/informer.js';
import { isAlreadyExists, RESOURCES, type KubeApi, type KubeObject } from '../kube/kube-api.js';
import { readTestRunInputs, TestRunRejected } from './testrun-inputs.js';
import { testRunEvent } from './testrun-event.js';
import { testRunRunId } from './testrun-run-id.js';

export interface TestRunControllerOptions {
  api: KubeApi;
  engine: Engine;
  store: Store;
  /** The runner Pods' informer (label `app.kubernetes.io/managed-by=topas`), shared with the kubernetes executor. */
  pods: Informer<KubeObject>;
  /** Reconcile TestRuns of this namespace only; null: all namespaces. */
  watchNamespace: string | null;
  metrics?: ControllerMetrics;
  log?: Logger;
  /** How long a runner Pod's image pull or scheduling may fail before that shows as its run's end. Default 60 s (`DEFAULT_POD_GRACE_MS`). */
  podGraceMs?: number;
  /** TestRuns reconciled at once. Default 4. */
  workers?: number;
  /** Record Kubernetes Events on TestRuns (how its run ended; why it was refused). Default true. */
  events?: boolean;
  /**
   * Status changes of a run that has not ended are written at most once per this many
   * ms per TestRun (counted from the run's recording), so a short run costs two status
   * writes (Running with its Pod, then its end); an end is written at once. Default 1000.
   */
  statusIntervalMs?: number;
  /** Named in Events as the reporting instance. Default `topas`. */
  instanceId?: string;
  /** Back-off of failed reconciles (first, longest). Defaults 100 ms, 30 s. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** The clock (tests). */
  now?: () => Date;
}

export interface RunningController {
  /** Resolves once the TestRuns are listed and the workers run. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export function startTestRunController(options: TestRunControllerOptions): RunningController {
  const controller = new TestRunController(options);
  controller.start();
  return controller;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;


/** What the controller wrote last per TestRun, so a reconcile before the informer caught up reads its own write. */
interface OwnWrite {
  /** resourceVersions the write superseded. */
  superseded: Set<string>;
  object: TestRun;
}

class TestRunController implements RunningController {
  readonly ready: Promise<void>;
  private readonly testRuns: Informer<KubeObject>;
  private readonly controller: Controller;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly writes = new Map<string, OwnWrite>();
  /** When the status of a TestRun's running run was last written (or the run recorded), by key. */
  private readonly lastStatusWrite = new Map<string, number>();
  /** Stops listening to the engine and to the shared Pod informer (which outlives this controller). */
  private unsubscribe: () => void = () => {};
  private readonly podHandler = (_type: string, pod: KubeObject) => {
    const name = pod.metadata.labels?.[TESTRUN_LABEL];
    if (name && pod.metadata.namespace && this.watches(pod.metadata.namespace)) this.controller.queue.add(key(pod.metadata.namespace, name));
  };
  private stopped = false;

  constructor(private readonly o: TestRunControllerOptions) {
    this.log = o.log ?? silentLogger;
    this.now = o.now ?? (() => new Date());
    this.testRuns = new Informer(o.api, RESOURCES.testRun, { ...(o.watchNamespace ? { namespace: o.watchNamespace } : {}), log: this.log });
    this.controller = new Controller({
      name: 'testrun',
      reconcile: (k) => this.reconcile(k),
      workers: o.workers ?? 4,
      ...(o.retry ? { queue: o.retry } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
      log: this.log,
    });
    this.ready = this.testRuns.synced;
  }

  start(): void {
    this.testRuns.on((_type, tr) => this.controller.queue.add(key(tr.metadata.namespace ?? '', tr.metadata.name)));
    const offPods = this.o.pods.on(this.podHandler);
    const offRuns = this.o.engine.subscribeAll((n) => {
      if (n.type === 'phase' && n.run.origin === 'crd' && n.run.k8sRef && this.watches(n.run.k8sRef.namespace)) this.controller.queue.add(key(n.run.k8sRef.namespace, n.run.k8sRef.name));
    });
    this.unsubscribe = () => {
      offPods();
      offRuns();
    };
    this.testRuns.start();
    // Pods seen before this controller started: their TestRuns are listed by the informer anyway.
    void this.testRuns.synced.then(() => {
      if (!this.stopped) this.controller.start();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    await this.controller.stop();
    await this.testRuns.stop();
  }

  private watches(namespace: string): boolean {
    return !this.o.watchNamespace || this.o.watchNamespace === namespace;
  }

  // --- reading and writing the resource ---------------------------------------

  /** The TestRun as last seen: the informer's copy, or our own later write when the informer has not caught up. */
  private current(k: string): TestRun | undefined {
    const [namespace, name] = splitKey(k);
    const cached = this.testRuns.get(namespace, name) as unknown as TestRun | undefined;
    const own = this.writes.get(k);
    if (!cached) {
      this.writes.delete(k);
      this.lastStatusWrite.delete(k);
      return undefined;
    }
    if (own && own.superseded.has(cached.metadata.resourceVersion ?? '')) return own.object;
    this.writes.delete(k);
    return cached;
  }

  private remember(before: TestRun, after: TestRun): TestRun {
    const k = key(before.metadata.namespace, before.metadata.name);
    const own = this.writes.get(k);
    const superseded = own && own.object.metadata.resourceVersion === before.metadata.resourceVersion ? own.superseded : new Set<string>();
    superseded.add(before.metadata.resourceVersion ?? '');
    this.writes.set(k, { superseded, object: after });
    return after;
  }

  /** Writes `status` (merge patch of the status subresource) unless the resource already has it. */
  private async writeStatus(tr: TestRun, status: TestRunStatus): Promise<TestRun> {
    const old = (tr.status ?? {}) as Record<string, unknown>;
    if (canonicalJson(old) === canonicalJson(status)) return tr;
    // A merge patch replaces what it names; fields the new status no longer has are removed with null.
    const patch: Record<string, unknown> = { ...status };
    for (const field of Object.keys(old)) if (!(field in patch)) patch[field] = null;
    const updated = await this.o.api.patch<KubeObject>(RESOURCES.testRun, tr.metadata.namespace, tr.metadata.name, { status: patch }, 'status');
    return this.remember(tr, updated as unknown as TestRun);
  }

  /** Sets the finalizer list, guarded by the resourceVersion it was computed from (409 → retried). */
  private async setFinalizers(tr: TestRun, finalizers: string[]): Promise<TestRun> {
    const updated = await this.o.api.patch<KubeObject>(RESOURCES.testRun, tr.metadata.namespace, tr.metadata.name, {
      metadata: { finalizers, resourceVersion: tr.metadata.resourceVersion },
    });
    return this.remember(tr, updated as unknown as TestRun);
  }

  private async event(tr: TestRun, runId: string, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    if (this.o.events === false || !tr.metadata.uid) return;
    const event = testRunEvent({
      testRun: { name: tr.metadata.name, namespace: tr.metadata.namespace, uid: tr.metadata.uid },
      runId,
      reason,
      message,
      type,
      instance: this.o.instanceId ?? 'topas',
      now: this.now(),
    });
    try {
      await this.o.api.create(RESOURCES.event, tr.metadata.namespace, event as unknown as KubeObject);
    } catch (error) {
      if (!isAlreadyExists(error)) this.log('warn', 'recording a TestRun event failed', { testRun: `${tr.metadata.namespace}/${tr.metadata.name}`, reason, error: errorField(error) });
    }
  }

  // --- the reconcile ------------------------------------------------------------

  private async reconcile(k: string): Promise<ReconcileResult | void> {
    let tr = this.current(k);
    if (!tr) return; // gone: the finalizer saw to its run's objects
    const uid = tr.metadata.uid;
    if (!uid) throw new Error(`TestRun ${k} has no uid`);
    if (tr.metadata.deletionTimestamp) return this.finalize(tr);
    if (!(tr.metadata.finalizers ?? []).includes(TESTRUN_FINALIZER)) tr = await this.setFinalizers(tr, [...(tr.metadata.finalizers ?? []), TESTRUN_FINALIZER]);

    const generation = tr.metadata.generation ?? 1;
    const runId = testRunRunId(uid, tr.metadata.creationTimestamp);
    let run = await this.o.store.getRun(runId);
    if (!run) {
      const st = tr.status;
      if (st?.runId) {
        // Its run was recorded, and the store no longer has it (another database?): never run it twice.
        this.log('warn', "a TestRun's run is not in the store; not recording it again", { testRun: k, runId: st.runId });
        return;
      }
      // Refused for this very spec before: wait for a change (or its ttlSecondsAfterFinished).
      if (st?.phase === 'Error' && st.observedGeneration === generation) {
        const refusedAt = st.conditions?.find((c) => c.type === CONDITION.testCompleted)?.lastTransitionTime ?? null;
        return this.expire(tr, runId, refusedAt);
      }
      try {
        run = await this.record(tr, runId);
      } catch (error) {
        const rejected = asRejection(error);
        if (!rejected) throw error;
        await this.writeStatus(tr, testRunRejectedStatus(tr, rejected.reason, rejected.message, this.now()));
        await this.event(tr, runId, rejected.reason, rejected.message, 'Warning');
        throw rejected;
      }
    }

    const pod = (this.o.pods.get(tr.metadata.namespace, runnerPodName(run.id)) ?? null) as V1Pod | null;
    const before = tr.status ?? {};
    const now = this.now();
    const status = testRunStatus(run, pod, tr, now, { graceMs: this.o.podGraceMs ?? DEFAULT_POD_GRACE_MS });
    if (!isTerminal(run.phase)) {
      // Counts so far alone are no reason to write (a long run would write all the time): they go with the next change.
      if (canonicalJson(withoutProgress(before)) === canonicalJson(withoutProgress(status))) return;
      // Coalesce the changes of a running run (Queued → Running → its Pod): one write per interval.
      const wait = (this.lastStatusWrite.get(k) ?? 0) + (this.o.statusIntervalMs ?? 1000) - now.getTime();
      if (wait > 0) return { requeueAfterMs: wait };
      this.lastStatusWrite.set(k, now.getTime());
    }
    tr = await this.writeStatus(tr, status);
    if (isTerminal(run.phase)) {
      await this.announceEnd(tr, run, before, status);
      return this.expire(tr, run.id, run.finishedAt);
    }
  }

  /** Records the TestRun's run with id `runId` (or finds it, when a retry races a first attempt). */
  private async record(tr: TestRun, runId: string): Promise<Run> {
    const spec = parseOrThrow(TestRunSpecSchema, tr.spec, { prefix: ['spec'] });
    const valid: TestRun = { ...tr, spec };
    const inputs = await readTestRunInputs(this.o.api, valid);
    const { request, secretEnvNames, skippedEnvKeys } = testRunToRunRequest(valid, inputs);
    const { source, ...rest } = request;
    const runRequest: RunRequest = {
      ...(rest as Omit<RunRequest, 'source'>),
      id: runId,
      ...(source && 'git' in source ? { source: { type: 'git', url: source.git.url, path: source.git.path, revision: source.git.revision } satisfies RunSource } : {}),
      ...(rest.env && secretEnvNames.length ? { env: withMaskedEnvNames(rest.env, secretEnvNames) } : {}),
    };
    let run: Run;
    try {
      run = await this.o.engine.submit(runRequest);
    } catch (error) {
      if (error instanceof ConflictError) {
        const existing = await this.o.store.getRun(runId);
        if (existing) return existing;
      }
      throw error;
    }
    this.log('info', 'recorded the run of a TestRun', { testRun: `${tr.metadata.namespace}/${tr.metadata.name}`, runId: run.id });
    this.lastStatusWrite.set(key(tr.metadata.namespace, tr.metadata.name), this.now().getTime());
    if (skippedEnvKeys.length)
      await this.event(tr, run.id, 'EnvKeysSkipped', `envFrom keys that are not valid env variable names were skipped: ${skippedEnvKeys.join(', ')}`, 'Warning');
    return run;
  }

  /** The Event of the run's end (once: a TestRun whose status already showed the end has it). */
  private async announceEnd(tr: TestRun, run: Run, before: TestRunStatus, after: TestRunStatus): Promise<void> {
    if (before.phase && isTerminal(before.phase) && before.runId) return;
    const counts = after.summary ? `; ${after.summary.stepsPassed} steps passed, ${after.summary.stepsFailed} failed` : '';
    await this.event(
      tr,
      run.id,
      `Run${after.phase}`,
      `run ${run.id} ended ${after.phase}${after.reason ? ` (${after.reason})` : ''} in ${after.duration ?? '?'}${counts}${after.message ? `: ${after.message}` : ''}`,
      after.phase === 'Passed' ? 'Normal' : 'Warning',
    );
  }

  /** `ttlSecondsAfterFinished`: deletes the TestRun that ended (or was refused) at `endedAt` when its time is up (the run stays in topas). */
  private async expire(tr: TestRun, runId: string, endedAt: string | null): Promise<ReconcileResult | void> {
    const ttl = tr.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number' || !endedAt || Number.isNaN(Date.parse(endedAt))) return;
    const left = Date.parse(endedAt) + ttl * 1000 - this.now().getTime();
    if (left > 0) return { requeueAfterMs: left };
    this.log('info', 'deleting a TestRun whose ttlSecondsAfterFinished passed', { testRun: `${tr.metadata.namespace}/${tr.metadata.name}`, runId });
    await this.o.api.delete(RESOURCES.testRun, tr.metadata.namespace, tr.metadata.name, { propagationPolicy: 'Background' });
  }

  /** The TestRun is being deleted: cancel its run, delete its objects, let go. */
  private async finalize(tr: TestRun): Promise<void> {
    const finalizers = tr.metadata.finalizers ?? [];
    if (!finalizers.includes(TESTRUN_FINALIZER)) return;
    const ns = tr.metadata.namespace;
    const runId = testRunRunId(tr.metadata.uid!, tr.metadata.creationTimestamp);
    const run = await this.o.store.getRun(runId);
    if (run) {
      if (!isTerminal(run.phase)) {
        try {
          const cancelled = await this.o.engine.cancel(run.id);
          this.log('info', 'cancelled the run of a deleted TestRun', { testRun: `${ns}/${tr.metadata.name}`, runId: run.id, phase: cancelled.phase });
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error; // ended meanwhile
        }
      }
      // Deleted now rather than by the garbage collector later: gone when the TestRun is.
      await this.o.api.delete(RESOURCES.pod, ns, runnerPodName(run.id), { propagationPolicy: 'Background' });
      await this.o.api.delete(RESOURCES.configMap, ns, sourceConfigMapName(run.id));
      await this.o.api.delete(RESOURCES.secret, ns, tokenSecretName(run.id));
    }
    await this.setFinalizers(tr, finalizers.filter((f) => f !== TESTRUN_FINALIZER));
  }
}

/** A status without what changes as the run goes on (its counts so far). */
function withoutProgress(status: TestRunStatus): TestRunStatus {
  const { summary: _summary, ...rest } = status;
  return { ...rest, ...(rest.conditions ? { conditions: rest.conditions.map((c) => (c.type === CONDITION.testCompleted && c.status === 'False' ? { ...c, message: '' } : c)) } : {}) };
}

function splitKey(k: string): [string, string] {
  const slash = k.indexOf('/');
  return [k.slice(0, slash), k.slice(slash + 1)];
}

/** Errors that say the spec cannot run as it is (rather than "try again"), as a rejection with its status reason. */
function asRejection(error: unknown): TestRunRejected | null {
  if (error instanceof TestRunRejected) return error;
  if (error instanceof ValidationError) {
    const app = error.issues.find((i) => i.field === 'appName');
    if (app) return new TestRunRejected('AppNotFound', `spec.appName: ${app.message}`);
    return new TestRunRejected('InvalidSpec', error.issues.map((i) => `${i.field.replace(/^request\./, '')}: ${i.message}`).join('; '));
  }
  if (error instanceof TopasError && error.code === 'NotFound') {
    const kind = (error.details as { kind?: string } | undefined)?.kind;
    if (kind === 'test definition') return new TestRunRejected('DefinitionNotFound', `spec.definition: ${error.message}; store it first (topas definition apply, or POST /api/definitions)`);
    return new TestRunRejected('NotFound', error.message);
  }
  if (error instanceof TerminalError) return new TestRunRejected('InvalidSpec', error.message);
  return null;
}
