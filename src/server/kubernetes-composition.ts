/**
 * The `topas up --kubernetes` part of the composition root, loaded only with
 * `--kubernetes` (so embedded mode loads no Kubernetes code): the kubeconfig (kubectl's
 * order), the one `KubeApi` (its requests counted in `topas_kube_requests_total`), the
 * ONE Pod informer shared by the kubernetes executor and the TestRun controller, the
 * kubernetes executor, and leader election on the `topas-controller` Lease: only the
 * leader's engine claims and executes runs, and only the leader runs the TestRun
 * controller. Losing the Lease stops both (the runs go on in their Pods; the new leader
 * takes them over). Apps: every instance reads `App` resources through one informer
 * (the `KubernetesAppRuntime`: status, endpoints, `sut` operations); only the leader
 * runs the App reconciler that converges their children.
 */
import { contextNamespace, loadKubeConfig } from '../kube/kube-config.js';
import { KubeApi, RESOURCES, type KubeObject } from '../kube/kube-api.js';
import { Informer } from '../kube/informer.js';
import { ControllerMetrics } from '../controller/controller-metrics.js';
import { LeaderElector } from '../controller/leader-election.js';
import { startRunObjectSweeper, type RunObjectSweeper } from '../controller/run-object-sweeper.js';
import { startTestRunController, type RunningController } from '../controller/testrun-controller.js';
import { startAppReconciler, type RunningAppReconciler } from '../controller/app-reconciler.js';
import { KubernetesAppRuntime } from '../apps/kubernetes/kubernetes-app-runtime.js';
import { createKubernetesExecutor } from '../executors/kubernetes/kubernetes-executor.js';
import { MANAGED_BY } from '../kubernetes/manifests/labels.js';
import { CONTROLLER_LEASE_NAME } from '../kubernetes/manifests/lease.js';
import { errorField, type Logger } from '../core/logger.js';
import { TopasError } from '../core/errors.js';
import type { KubernetesConfig } from '../config/config.js';
import type { Executor } from '../executors/executor.js';
import type { RunEngine } from '../engine/run-engine.js';
import type { Store } from '../store/store.js';
import type { DetachedExecutorDeps } from './start.js';
import { Registry } from 'prom-client';

export interface KubernetesModeOptions {
  config: KubernetesConfig;
  instanceId: string;
  /** `--git-allow-file`. */
  gitAllowFile: boolean;
  log: Logger;
  /** The environment (`KUBECONFIG`, in-cluster variables). */
  env?: NodeJS.ProcessEnv;
  /** Timings of the executor (tests). */
  executor?: { cancelGraceMs?: number; checkMs?: number };
}

/** Kubernetes, prepared before the engine exists: the executor and what the leader starts later. */
export interface KubernetesMode {
  namespace: string;
  api: KubeApi;
  pods: Informer<KubeObject>;
  /** Where Apps run: their `App` resources in `namespace`. */
  appRuntime: KubernetesAppRuntime;
  metrics: ControllerMetrics;
  /** The engine starts standing by when leader election is on. */
  standby: boolean;
  /** Whether the engine may claim runs now: without leader election always; with it, while the Lease is held and renewed lately. */
  mayClaim(): boolean;
  executor(deps: DetachedExecutorDeps): Executor;
  /** Once the engine and the server run: registers the metrics, starts the election (or leads at once). */
  start(deps: { engine: RunEngine; store: Store; registry: Registry }): Promise<void>;
  /** Releases the Lease (so another instance leads at once) and stops watching. Call after the engine stopped. */
  stop(): Promise<void>;
}

export async function prepareKubernetes(o: KubernetesModeOptions): Promise<KubernetesMode> {
  const { config, log } = o;
  const kc = loadKubeConfig({ ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}), ...(config.context ? { context: config.context } : {}), env: o.env ?? process.env });
  const namespace = config.namespace ?? contextNamespace(kc);
  // Counted from the first request; registered in the engine's registry once it exists.
  const metrics = new ControllerMetrics(new Registry());
  const api = new KubeApi(kc, { metrics });
  // Fail fast, saying why, when the cluster cannot be reached (instead of waiting for the informer forever).
  try {
    await api.list(RESOURCES.pod, namespace, { limit: 1 });
  } catch (error) {
    throw new TopasError('KubeUnreachable', `cannot list Pods in namespace ${namespace} of the Kubernetes API at ${kc.getCurrentCluster()?.server}: ${(error as Error).message}`);
  }
  const pods = new Informer<KubeObject>(api, RESOURCES.pod, {
    labelSelector: `${MANAGED_BY}=topas`,
    ...(config.watchNamespace && config.watchNamespace === namespace ? { namespace } : {}),
    log,
  });
  pods.start();
  await pods.synced;
  const apps = new Informer<KubeObject>(api, RESOURCES.app, { namespace, log });
  try {
    await api.list(RESOURCES.app, namespace, { limit: 1 });
  } catch (error) {
    log('warn', 'kubernetes: cannot list App resources; Apps are unavailable until the CRDs are installed (topas crds | kubectl apply -f -)', { namespace, error: errorField(error) });
  }
  apps.start();
  const appRuntime = new KubernetesAppRuntime({ api, namespace, apps, log });
  log('info', 'kubernetes: connected', { context: kc.getCurrentContext(), namespace, leaderElection: config.leaderElection });

  let controller: RunningController | null = null;
  let appReconciler: RunningAppReconciler | null = null;
  let sweeper: RunObjectSweeper | null = null;
  let elector: LeaderElector | null = null;
  let engineRef: RunEngine | null = null;
  let storeRef: Store | null = null;
  let transitions = Promise.resolve();

  const startLeading = async () => {
    await engineRef!.lead();
    controller ??= startTestRunController({ api, engine: engineRef!, store: storeRef!, pods, watchNamespace: config.watchNamespace, metrics, log });
    appReconciler ??= startAppReconciler({ api, namespace, apps, pods, store: storeRef!, metrics, log, instanceId: o.instanceId });
    const store = storeRef!;
    sweeper ??= startRunObjectSweeper({ api, pods, namespace, getRun: (id) => store.getRun(id), log });
  };
  const stopLeading = async () => {
    const c = controller;
    const a = appReconciler;
    const w = sweeper;
    controller = null;
    appReconciler = null;
    sweeper = null;
    await Promise.all([c?.stop(), a?.stop(), w?.stop()]);
    await engineRef!.standBy();
  };
  // Transitions happen one at a time, in order.
  const serial = (fn: () => Promise<void>) => () => {
    transitions = transitions.then(fn).catch((error: unknown) => log('error', 'leader transition failed', { error: errorField(error) }));
    return transitions;
  };

  return {
    namespace,
    api,
    pods,
    appRuntime,
    metrics,
    standby: config.leaderElection,
    mayClaim: () => !config.leaderElection || (elector?.holdsLease ?? false),
    executor: (deps) =>
      createKubernetesExecutor({
        api,
        pods,
        hub: deps.hub,
        mintRunToken: deps.mintRunToken,
        serverUrl: config.serverUrl ? () => config.serverUrl! : deps.serverUrl,
        namespace,
        image: config.runnerImage,
        podGraceMs: config.podGraceSeconds * 1000,
        gitAllowFile: o.gitAllowFile,
        ...o.executor,
        log,
      }),
    async start({ engine, store, registry }) {
      engineRef = engine;
      storeRef = store;
      registry.registerMetric(metrics.reconciles);
      registry.registerMetric(metrics.reconcileSeconds);
      registry.registerMetric(metrics.kubeRequests);
      if (!config.leaderElection) {
        await startLeading();
        return;
      }
      const leaseMs = config.leaseDurationSeconds * 1000;
      elector = new LeaderElector({
        api,
        namespace,
        name: CONTROLLER_LEASE_NAME,
        identity: o.instanceId,
        leaseDurationMs: leaseMs,
        renewDeadlineMs: Math.round((leaseMs * 2) / 3),
        retryPeriodMs: Math.max(100, Math.round((leaseMs * 2) / 15)),
        onStartedLeading: serial(startLeading),
        onStoppedLeading: serial(stopLeading),
        log,
      });
      elector.start();
    },
    async stop() {
      const c = controller;
      const a = appReconciler;
      const w = sweeper;
      controller = null;
      appReconciler = null;
      sweeper = null;
      await Promise.all([c?.stop(), a?.stop(), w?.stop()]);
      await transitions;
      await elector?.stop();
      await pods.stop();
      await apps.stop();
    },
  };
}
