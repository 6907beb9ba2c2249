/**
 * The `kubernetes` executor: each run executes in a **runner Pod** (`topas runner`,
 * the runner image's entrypoint) that calls back over the runner protocol. Detached:
 * the Pod outlives the topas that started it, and any topas instance re-attaches to it
 * by run id (the objects' names derive from the run id alone).
 *
 * Per run it creates, with crd's pure builders: the per-run token Secret, the source
 * ConfigMap (when the script and its files fit one; else the runner fetches the bundle,
 * and git sources are cloned by the Pod's init container) and the Pod. A Pod that
 * already exists (AlreadyExists) was started before: it is followed, never made twice.
 * It then follows the run through the runner hub (events, heartbeats, `sut`, the
 * runner's completion) and the Pod's status through the shared Pod informer (deadline,
 * eviction, OOM, image pulls and scheduling past a grace period, deletion, a runner that
 * ended without reporting). After the run: its token Secret is deleted, and for runs
 * not owned by a TestRun (API runs) the Pod and ConfigMap too — their log is in topas.
 * A TestRun's objects stay until the TestRun goes (owner references).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { errorField, silentLogger, type Logger } from '../../core/logger.js';
import { EMPTY_SUMMARY, type RunCompletion } from '../../core/run.js';
import type { TestRunSpec } from '../../core/testrun.js';
import type { Informer } from '../../kube/informer.js';
import { RESOURCES, type KubeApi, type KubeObject, type ResourceType } from '../../kube/kube-api.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../../kubernetes/manifests/names.js';
import { runnerPod, type RunnerSource } from '../../kubernetes/manifests/runner-pod.js';
import { sourceConfigMap, SourceTooLargeError } from '../../kubernetes/manifests/source-config-map.js';
import { tokenSecret } from '../../kubernetes/manifests/token-secret.js';
import type { TestRunOwner } from '../../kubernetes/manifests/owner.js';
import { checkedOutCommit, DEFAULT_POD_GRACE_MS, isPodTrouble, podDeletedCompletion, podOutcome } from '../../kubernetes/status/pod-outcome.js';
import { ExecutorClosedError, type ExecutionJob, type Executor, type RunSink } from '../executor.js';
import type { RunnerHub } from '../runner-hub.js';
import type { MintRunToken } from '../run-tokens.js';

const { pod: POD, configMap: CONFIG_MAP, secret: SECRET, testRun: TESTRUN } = RESOURCES;

/** The Kubernetes API as this executor uses it (`KubeApi`). */
export type KubeClient = Pick<KubeApi, 'create' | 'find' | 'delete'>;

export interface KubernetesExecutorOptions {
  api: KubeClient;
  /** The shared informer of Pods labelled `app.kubernetes.io/managed-by=topas` (started by the composition root). */
  pods: Pick<Informer<KubeObject>, 'get' | 'on' | 'synced'>;
  hub: RunnerHub;
  mintRunToken: MintRunToken;
  /** The URL runner Pods reach this server at (resolves once it listens). */
  serverUrl: () => string | Promise<string>;
  /** Where Pods of runs without a TestRun (API, CLI, dashboard runs) go. */
  namespace: string;
  /** The runner image (a TestRun's `spec.runner.image` overrides it). */
  image: string;
  /** `--git-allow-file`: git sources may be `file://` URLs (the clone's init container is told so). */
  gitAllowFile?: boolean;
  /** How many runs this executor takes at once (the engine's global limit applies too). Default 1000. */
  capacity?: number;
  /** How long a Pod may fail to pull its image or be scheduled before its run ends `Error`. Default 60 s. */
  podGraceMs?: number;
  /** After a cancel, how long the runner may take to report `Cancelled` before its Pod is deleted. Default 10 s. */
  cancelGraceMs?: number;
  /** How often a followed Pod's status is looked at again without news (grace periods, a Pod never seen). Default 1000 ms. */
  checkMs?: number;
  /** After the runner reported, how long its Pod may take to end before the run ends anyway. Default 10 s. */
  exitGraceMs?: number;
  /** How long a Pod just created may be missing from the informer before it counts as deleted. Default 30 s. */
  podAppearMs?: number;
  log?: Logger;
}

/** Where a run's objects go and who owns them. */
interface Placement {
  namespace: string;
  owner?: TestRunOwner;
  spec?: Partial<TestRunSpec>;
}

interface Following {
  stop: () => void;
}

/** The TestRun a run came from: its spec's runner overrides and git credentials matter here. */
type TestRunObject = KubeObject & { spec?: Partial<TestRunSpec> };

export function createKubernetesExecutor(options: KubernetesExecutorOptions): Executor {
  const log = options.log ?? silentLogger;
  const graceMs = options.podGraceMs ?? DEFAULT_POD_GRACE_MS;
  const checkMs = options.checkMs ?? 1000;
  const appearMs = options.podAppearMs ?? 30_000;
  const exitGraceMs = options.exitGraceMs ?? 10_000;
  const following = new Set<Following>();
  let closed = false;
  /**
   * How many times `leaveAll` was called. An `execute`/`attach` that began before a
   * leave but only follows its run after it (it was still looking the Pod up) leaves it
   * too: standing by means following nothing.
   */
  let leaves = 0;

  async function placement(job: ExecutionJob): Promise<Placement | RunCompletion> {
    const ref = job.k8sRef;
    if (!ref) return { namespace: options.namespace };
    const tr = await options.api.find<TestRunObject>(TESTRUN, ref.namespace, ref.name);
    if (!tr || (ref.uid && tr.metadata.uid !== ref.uid)) {
      return { phase: 'Error', reason: 'RunnerCrashed', message: `the TestRun ${ref.namespace}/${ref.name} of this run is gone; no runner Pod was started`, summary: EMPTY_SUMMARY };
    }
    return { namespace: ref.namespace, owner: { name: tr.metadata.name, uid: tr.metadata.uid! }, spec: tr.spec ?? {} };
  }

  /** Creates the run's Secret, ConfigMap and Pod (whatever is missing). */
  async function start(job: ExecutionJob, where: Placement): Promise<void> {
    const { namespace, owner } = where;
    const podName = runnerPodName(job.runId);
    const timeoutSeconds = Math.max(1, Math.ceil(job.timeoutMs / 1000));
    let source: RunnerSource;
    let configMap: KubeObject | null = null;
    if (job.git) {
      const secretName = (where.spec?.git as { secretRef?: { name?: string } } | undefined)?.secretRef?.name;
      source = {
        kind: 'git',
        url: job.git.url,
        path: job.git.path,
        revision: job.git.revision,
        ...(secretName ? { secretName } : {}),
        ...(options.gitAllowFile && /^file:/i.test(job.git.url) ? { allowFile: true } : {}),
      };
    } else {
      try {
        const built = sourceConfigMap({ runId: job.runId, namespace, fileName: job.fileName || 'script.lua', script: job.script, files: job.files, owner });
        configMap = built.configMap as unknown as KubeObject;
        source = { kind: 'configMap', fileName: job.fileName || 'script.lua', items: built.items };
      } catch (error) {
        if (!(error instanceof SourceTooLargeError)) throw error;
        source = { kind: 'server' };
      }
    }
    const token = await options.mintRunToken(job.runId, job.timeoutMs);
    const secret = tokenSecret({ runId: job.runId, namespace, token, owner }) as unknown as KubeObject;
    if (!(await createOrExists(SECRET, namespace, secret))) {
      // Left by an attempt that made no Pod: the token was minted again, so the Secret must hold the new one (it is immutable).
      await options.api.delete(SECRET, namespace, secret.metadata.name);
      await options.api.create(SECRET, namespace, secret);
    }
    if (configMap) await createOrExists(CONFIG_MAP, namespace, configMap);
    const pod = runnerPod({
      runId: job.runId,
      namespace,
      serverUrl: await options.serverUrl(),
      image: options.image,
      timeoutSeconds,
      source,
      ...(owner ? { owner } : {}),
      ...(where.spec?.runner ? { runner: where.spec.runner } : {}),
    });
    if (!(await createOrExists(POD, namespace, pod as unknown as KubeObject))) log('info', 'runner Pod already exists; following it', { runId: job.runId, pod: podName });
    else log('debug', 'runner Pod created', { runId: job.runId, pod: podName, namespace });
  }

  /** Creates; false when it already existed. */
  async function createOrExists(type: ResourceType, namespace: string, body: KubeObject): Promise<boolean> {
    try {
      await options.api.create(type, namespace, body);
      return true;
    } catch (error) {
      if ((error as { status?: number; reason?: string }).status === 409 && (error as { reason?: string }).reason === 'AlreadyExists') return false;
      throw error;
    }
  }

  /** The Pod as the informer has it, else (not yet cached) as the API says. */
  async function findPod(namespace: string, name: string): Promise<V1Pod | null> {
    await options.pods.synced;
    const cached = options.pods.get(namespace, name);
    if (cached) return cached as unknown as V1Pod;
    return (await options.api.find<KubeObject>(POD, namespace, name)) as unknown as V1Pod | null;
  }

  /**
   * Follows a started run until it ends: the runner's report through the hub, or what
   * its Pod's status says. `neverCame` is the answer when the Pod never appears (default: PodDeleted).
   */
  function follow(job: ExecutionJob, sink: RunSink, signal: AbortSignal, namespace: string, neverCame: RunCompletion | null, epoch: number, quit?: AbortSignal): Promise<RunCompletion | null> {
    const podName = runnerPodName(job.runId);
    const since = Date.now();
    return new Promise<RunCompletion | null>((resolve, reject) => {
      let done = false;
      // Seen in the informer's cache (only then does its absence mean it was deleted).
      let seen = false;
      let last: V1Pod | null = null;
      let deletedByUs = false;
      // The runner's own report: the run ends with it once its Pod has ended too, so a
      // slot is freed only when its Pod stops counting (never more Pods than the limit).
      let reported: RunCompletion | null = null;
      let reportTimer: NodeJS.Timeout | undefined;
      let cancelTimer: NodeJS.Timeout | undefined;
      const entry: Following = { stop: () => finish(() => reject(new ExecutorClosedError())) };
      // The caller gave up on the run (its Pod could not be created): stop following, quietly.
      quit?.addEventListener('abort', () => finish(() => resolve(null)), { once: true });
      const unfollow = options.hub.follow({
        job,
        sink,
        signal,
        complete: (c) => {
          if (done || reported) return;
          reported = c;
          reportTimer = setTimeout(() => finish(() => resolve(c)), exitGraceMs);
          reportTimer.unref();
          look((options.pods.get(namespace, podName) as unknown as V1Pod | undefined) ?? null, false);
        },
      });

      const deletePod = (why: string) =>
        options.api.delete(POD, namespace, podName, { propagationPolicy: 'Background' }).catch((error: unknown) => log('warn', `deleting the runner Pod (${why}) failed`, { runId: job.runId, pod: podName, error: errorField(error) }));

      // The commit a git source resolved to, told once (the init container's termination message).
      let commitTold = !job.git;
      const look = (pod: V1Pod | null, deleted: boolean) => {
        if (done) return;
        if (pod) {
          seen = true;
          last = pod;
          if (!commitTold) {
            const commit = checkedOutCommit(pod);
            if (commit) {
              commitTold = true;
              job.onCheckout?.({ commit });
            }
          }
        }
        if (reported) {
          const phase = (pod ?? last)?.status?.phase;
          if (deleted || !pod || phase === 'Succeeded' || phase === 'Failed') {
            const r = reported;
            finish(() => resolve(r));
          }
          return;
        }
        if (deleted || (!pod && seen)) {
          // Gone: a Pod that had ended says how (its termination message); else it was deleted mid-run.
          const ended = last ? podOutcome({ ...last, metadata: { ...last.metadata, deletionTimestamp: undefined } }, new Date(), graceMs) : null;
          const outcome = ended && !isPodTrouble(ended) && (last?.status?.phase === 'Succeeded' || last?.status?.phase === 'Failed') ? ended : null;
          if (outcome) return finish(() => resolve(outcome));
          // Deleted by us after a cancel, or by someone else (the TestRun's deletion) while cancelling.
          if (deletedByUs || signal.aborted) return finish(() => resolve(cancelled()));
          return finish(() => resolve(podDeletedCompletion(podName)));
        }
        if (!pod) {
          if (Date.now() - since > appearMs) finish(() => resolve(neverCame ?? podDeletedCompletion(podName)));
          return;
        }
        if (pod.metadata?.deletionTimestamp && deletedByUs) return; // ours (cancel): wait for it to go
        const outcome = podOutcome(pod, new Date(), graceMs);
        if (outcome === null || isPodTrouble(outcome)) return;
        if (outcome.reason === 'ImagePullError' || outcome.reason === 'SchedulingError' || outcome.reason === 'CrashLoopBackOff') {
          void deletePod(outcome.reason);
        }
        if (outcome.reason === 'PodDeleted' && deletedByUs) return;
        finish(() => resolve(outcome));
      };

      const onPod = (type: 'add' | 'update' | 'delete', object: KubeObject) => {
        if (object.metadata.name !== podName || object.metadata.namespace !== namespace) return;
        look(object as unknown as V1Pod, type === 'delete');
      };
      const offPod = options.pods.on(onPod);
      const tick = setInterval(() => look((options.pods.get(namespace, podName) as unknown as V1Pod | undefined) ?? null, false), checkMs);
      tick.unref();

      const cancelled = (): RunCompletion => ({ phase: 'Cancelled', reason: 'Cancelled', message: 'cancelled; the runner did not stop in time, so its Pod was deleted', summary: EMPTY_SUMMARY });
      const onAbort = () => {
        // The runner sees the cancel on its next heartbeat and reports Cancelled; one that does not loses its Pod.
        cancelTimer = setTimeout(() => {
          deletedByUs = true;
          void deletePod('cancelled').then(() => {
            // Gone at once or later: the informer says so; a Pod never seen ends here.
            if (!seen) finish(() => resolve(cancelled()));
          });
        }, options.cancelGraceMs ?? 10_000);
        cancelTimer.unref();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });

      function finish(settle: () => void) {
        if (done) return;
        done = true;
        clearInterval(tick);
        clearTimeout(cancelTimer);
        clearTimeout(reportTimer);
        signal.removeEventListener('abort', onAbort);
        offPod();
        unfollow();
        following.delete(entry);
        options.hub.forget(job.runId);
        settle();
      }
      following.add(entry);
      // Left while we were getting here: follow nothing (the Pod, if any, goes on; the leader attaches).
      if (epoch !== leaves) return entry.stop();
      // What the cache has now (a Pod that ended while nobody followed it).
      look((options.pods.get(namespace, podName) as unknown as V1Pod | undefined) ?? null, false);
    });
  }

  /** After a run: its token is of no use; an API run's Pod and ConfigMap go too (its log is in topas). */
  function cleanUp(runId: string, where: Placement): void {
    const { namespace } = where;
    const removals = [options.api.delete(SECRET, namespace, tokenSecretName(runId))];
    if (!where.owner) {
      removals.push(options.api.delete(POD, namespace, runnerPodName(runId), { propagationPolicy: 'Background' }));
      removals.push(options.api.delete(CONFIG_MAP, namespace, sourceConfigMapName(runId)));
    }
    void Promise.allSettled(removals).then((results) => {
      for (const r of results) if (r.status === 'rejected') log('warn', 'cleaning up a run\'s Kubernetes objects failed', { runId, error: errorField(r.reason) });
    });
  }

  const crashed = (podName: string): RunCompletion => ({
    phase: 'Error',
    reason: 'RunnerCrashed',
    message: `the runner Pod ${podName} ended without the runner reporting a result`,
    summary: EMPTY_SUMMARY,
  });

  return {
    name: 'kubernetes',
    capacity: options.capacity ?? 1000,
    detached: true,
    async execute(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      const epoch = leaves;
      const where = await placement(job);
      if ('phase' in where) return where;
      const podName = runnerPodName(job.runId);
      // By identity: a Pod that exists was started before (by us or another instance) and is followed.
      const existing = await findPod(where.namespace, podName);
      const quit = new AbortController();
      const followed = follow(job, sink, signal, where.namespace, null, epoch, quit.signal);
      // It may reject (closed, leaveAll) while the Pod is still being created: handled below, never unhandled.
      followed.catch(() => {});
      if (!existing) {
        try {
          await start(job, where);
        } catch (error) {
          if (closed) {
            quit.abort();
            throw new ExecutorClosedError();
          }
          log('error', 'starting the runner Pod failed', { runId: job.runId, pod: podName, error: errorField(error) });
          quit.abort();
          await followed;
          cleanUp(job.runId, where);
          throw error;
        }
      }
      const completion = await followed;
      cleanUp(job.runId, where);
      return completion ?? crashed(podName);
    },
    async attach(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      const epoch = leaves;
      const where = await placement(job);
      if ('phase' in where) return null;
      const podName = runnerPodName(job.runId);
      const pod = await findPod(where.namespace, podName);
      // No Pod, but its token Secret: the previous owner was starting the run (a leader
      // paused between the two, about to go on). Its Pod may still come: wait for it a while.
      if (!pod && !(await options.api.find<KubeObject>(SECRET, where.namespace, tokenSecretName(job.runId)))) return null;
      const neverCame: RunCompletion = {
        phase: 'Error',
        reason: 'ExecutorLost',
        message: `the previous owner of this run began starting it, but its runner Pod ${podName} did not appear within ${Math.round(appearMs / 1000)} s`,
        summary: EMPTY_SUMMARY,
      };
      const completion = await follow(job, sink, signal, where.namespace, pod ? null : neverCame, epoch);
      cleanUp(job.runId, where);
      return completion ?? crashed(podName);
    },
    leaveAll() {
      leaves++;
      for (const f of [...following]) f.stop();
    },
    async close() {
      closed = true;
      for (const f of [...following]) f.stop();
    },
  };
}
