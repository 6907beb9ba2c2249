/**
 * Sweeps what runs leave on the cluster when their cleanup was missed: the instance
 * that executed a run stored its end, then died (or lost the API) before deleting the
 * run's runner Pod, source ConfigMap and token Secret. Level-triggered, like a
 * reconciler: every pass looks at the runner Pods (the shared informer's cache) and
 * the run ConfigMaps (one list), asks the store about each run, and deletes the
 * objects of runs that ended more than `graceMs` ago (or that the store no longer
 * has, once the objects are that old), with the run's token Secret by its name (the
 * Secrets are never listed: topas may not). Objects of runs still Queued or Running are
 * never touched, nor objects a TestRun owns: those go with their TestRun (its TTL, or
 * its deletion, by garbage collection). Runs only on the leader.
 */
import type { Run } from '../core/run.js';
import { isTerminal } from '../core/run-phase.js';
import type { Informer } from '../kube/informer.js';
import { RESOURCES, type KubeApi, type KubeObject } from '../kube/kube-api.js';
import { MANAGED_BY, RUN_ID_LABEL, TESTRUN_LABEL } from '../kubernetes/manifests/labels.js';
import { runnerPodName, sourceConfigMapName, tokenSecretName } from '../kubernetes/manifests/names.js';
import { errorField, silentLogger, type Logger } from '../core/logger.js';

export interface RunObjectSweeperOptions {
  api: Pick<KubeApi, 'list' | 'delete'>;
  /** The shared informer of topas's Pods (label managed-by=topas). */
  pods: Pick<Informer<KubeObject>, 'list' | 'synced'>;
  /** The run by id, or null when the store has none. */
  getRun: (id: string) => Promise<Run | null>;
  /** Where runner objects are created. */
  namespace: string;
  /** How long after a run ended (or, for a run the store lacks, after the object was created) its objects may stay. Default 60 s. */
  graceMs?: number;
  /** Time between passes. Default 5 min; the first pass runs at start. */
  intervalMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface RunObjectSweeper {
  /** One pass; resolves with the runs whose objects it deleted. */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

/** A run's id when the object is one of an API run's objects (no TestRun owner); else null. */
function sweepableRunId(object: KubeObject): string | null {
  const labels = object.metadata.labels ?? {};
  if (labels[MANAGED_BY] !== 'topas' || labels[TESTRUN_LABEL] !== undefined) return null;
  if ((object.metadata.ownerReferences ?? []).length > 0) return null;
  return labels[RUN_ID_LABEL] ?? null;
}

export function startRunObjectSweeper(o: RunObjectSweeperOptions): RunObjectSweeper {
  const graceMs = o.graceMs ?? 60_000;
  const intervalMs = o.intervalMs ?? 5 * 60_000;
  const now = o.now ?? Date.now;
  const log = o.log ?? silentLogger;
  let stopped = false;
  let running: Promise<string[]> | null = null;

  async function pass(): Promise<string[]> {
    await o.pods.synced;
    // runId → the newest creation time of its objects
    const found = new Map<string, number>();
    const note = (object: KubeObject) => {
      if (object.metadata.namespace !== o.namespace) return;
      const id = sweepableRunId(object);
      if (!id) return;
      const created = Date.parse(object.metadata.creationTimestamp ?? '') || now();
      found.set(id, Math.max(found.get(id) ?? 0, created));
    };
    for (const pod of o.pods.list()) note(pod);
    const configMaps = await o.api.list<KubeObject>(RESOURCES.configMap, o.namespace, { labelSelector: `${MANAGED_BY}=topas,${RUN_ID_LABEL},!${TESTRUN_LABEL}` });
    for (const cm of configMaps.items) note(cm);

    const swept: string[] = [];
    for (const [runId, createdAt] of found) {
      if (stopped) break;
      const run = await o.getRun(runId);
      if (run && !isTerminal(run.phase)) continue;
      const since = run ? Date.parse(run.finishedAt ?? run.createdAt) : createdAt;
      if (now() - since < graceMs) continue;
      await Promise.all([
        o.api.delete(RESOURCES.pod, o.namespace, runnerPodName(runId), { propagationPolicy: 'Background' }),
        o.api.delete(RESOURCES.configMap, o.namespace, sourceConfigMapName(runId)),
        o.api.delete(RESOURCES.secret, o.namespace, tokenSecretName(runId)),
      ]);
      swept.push(runId);
    }
    if (swept.length) log('info', 'swept the Kubernetes objects of ended runs', { runs: swept.length, namespace: o.namespace });
    return swept;
  }

  const sweep = (): Promise<string[]> => {
    running ??= pass().finally(() => (running = null));
    return running;
  };
  const tick = () => {
    sweep().catch((error: unknown) => log('warn', 'sweeping the Kubernetes objects of ended runs failed; retrying at the next pass', { error: errorField(error) }));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
