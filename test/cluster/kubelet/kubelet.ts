/**
 * The simulated kubelet of the test cluster: a client of the test API server over HTTP,
 * as a real kubelet is. It lists and watches Pods in all namespaces (resuming from the
 * last resourceVersion when a watch ends, listing again on 410 Gone or an error), and
 * runs each Pod's containers as local processes on this machine (see `pod-worker.ts`
 * for a Pod's life, `container-process.ts` for how a container sees its mount paths,
 * `images.ts` for how images are "pulled"). One kubelet per cluster: it is the only node.
 *
 * What it does, like the real kubelet: registers its Node (`topas-test-node`, Ready,
 * host IP 127.0.0.1; no heartbeats) and plays the scheduler too — each unbound Pod is bound to
 * it through `pods/{name}/binding` (so `spec.nodeName` is set, and deleting the Pod is
 * graceful) and gets `PodScheduled` (no nodeSelector, affinity, taints or resources
 * are considered); Pods bound to another node are left alone. Then: init containers in
 * order, then the main containers together; `restartPolicy` Never/OnFailure/Always with
 * a doubling back-off (`CrashLoopBackOff`); command/args/env/envFrom with `$(VAR)`
 * expansion, `valueFrom` Secret/ConfigMap keys (with `optional`), `fieldRef` and
 * `resourceFieldRef`; configMap/secret/emptyDir volumes at their mount paths (`items`,
 * `defaultMode`, `readOnly`, `subPath`, `fsGroup`); persistentVolumeClaim volumes as the
 * bound claim's host folder, which outlives the Pod (the Pod waits in
 * ContainerCreating, `FailedMount`, until its claim is Bound); `runAsUser`/`runAsGroup`/
 * `runAsNonRoot`; `workingDir`; termination messages (`File` and
 * `FallbackToLogsOnError`); the Pod status (phase, `reason`/`message`, conditions,
 * container statuses, `startTime`, IPs) written with conflict retries; each Pod's own
 * IP (`status.podIP`, the `status.podIP` fieldRef), a loopback address from
 * 127.1.0.0/16 held while the Pod runs (`pod-ips.ts`); the Pod's hostname (its own UTS
 * namespace: `hostname` and HOSTNAME say `spec.hostname` or the Pod's name); a per-Pod
 * /etc/hosts bind-mounted in every container (`hosts-file.ts`) with localhost, the
 * Pod's hostname → its IP and every Service's names → its cluster IP, rewritten in
 * place as Services come and go (Services are listed and watched, `service-directory.ts`);
 * `activeDeadlineSeconds` (`DeadlineExceeded`); graceful deletion (SIGTERM, SIGKILL
 * after the grace period — capped by `timing.maxGracePeriodMs` — then the final
 * delete); Events (Scheduled, Pulled, Created, Started, Failed, BackOff, Killing, …;
 * one per occurrence, no aggregation); a log file per container; readiness probes
 * (httpGet, tcpSocket, exec — see `readiness-probe.ts`; a container without one is
 * ready once running), which the Pod's Ready condition follows.
 *
 * What it does NOT do: no cgroups — resource requests/limits are not enforced and
 * nothing is OOM-killed except by the `oomKill` test hook; no PID, network, user or
 * IPC namespaces — Pods share the host's network stack: a Pod's IP is only where its
 * image's entrypoint chooses to listen (images.ts), nothing stops a program binding
 * 0.0.0.0 or another Pod's address, `localhost` in a Pod is the host's, Pods see the
 * host's processes; no CNI, no iptables/NAT (Service traffic goes through the userspace
 * kube-proxy, so Pods see connections from the proxy), no NetworkPolicy, no real DNS
 * server (only /etc/hosts: no SRV records, no per-Pod A records, no search domains for
 * programs that query DNS directly), no UDP Services, no hostNetwork/hostPort semantics;
 * no image filesystem or pulls (the image table maps images
 * to host programs; the container sees the host's files, an image's own files (the
 * runner image: this checkout at /opt/topas) and its volumes);
 * capabilities, seccomp and `allowPrivilegeEscalation` are not applied
 * (`readOnlyRootFilesystem` is: the host's `/` is read-only inside such a container); no
 * liveness or startup probes (nor grpc readiness probes), no lifecycle hooks,
 * no sidecar (restartable init) containers, no ephemeral containers, no `kubectl
 * exec`/`attach`/`port-forward`; no volume types but configMap, secret, emptyDir and
 * persistentVolumeClaim (no projected, downwardAPI, hostPath; no attach/detach, volume
 * capacity is not enforced), emptyDir `medium`/`sizeLimit` are
 * ignored, mounted ConfigMaps/Secrets are not refreshed; no service-account token
 * volume and no Service env vars (`KUBERNETES_SERVICE_*`, `<SVC>_SERVICE_HOST`, …;
 * `enableServiceLinks` is ignored); `imagePullPolicy` and image pull secrets
 * are ignored; logs are plain text (no CRI timestamps) and a restarted container's
 * log replaces the previous one (no `--previous`); it does not re-adopt the processes
 * of an earlier kubelet (a Pod it finds Pending or Running after its own restart is
 * run again from the start).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorField, silentLogger, type Logger } from '../../../src/core/logger.js';
import type { ImageTable } from './images.js';
import { KubeletApi, type WatchEvent } from './kubelet-api.js';
import { PodIpPool } from './pod-ips.js';
import { DEFAULT_TIMING, PodWorker, type KubeletTiming } from './pod-worker.js';
import { ServiceDirectory } from './service-directory.js';
import type { PodObject } from './pod-types.js';

export { DEFAULT_TIMING, type KubeletTiming } from './pod-worker.js';

export interface SimulatedKubeletOptions {
  /** The API server's base URL, e.g. http://127.0.0.1:6443. */
  apiUrl: string;
  /** Bearer token the API server accepts. */
  token: string;
  /** Where container logs go: `<logDir>/<namespace>/<pod>/<container>.log` (the API server serves pods/log from there). */
  logDir: string;
  /** Which images this kubelet can "pull", and the host commands they provide. */
  images: ImageTable;
  /** Where each Pod's folder (volumes, termination-message files) lives; default a new temporary folder, removed by `stop()`. */
  podsDir?: string;
  /** Where bound PersistentVolumeClaims' folders are (`../local-volumes.ts`); without it `persistentVolumeClaim` volumes do not mount. */
  volumesDir?: string;
  /** Waits and back-offs (defaults in DEFAULT_TIMING). */
  timing?: Partial<KubeletTiming>;
  /** The node name Pods may name in `spec.nodeName` to be run here (default `topas-test-node`; an empty nodeName runs here too). */
  nodeName?: string;
  logger?: Logger;
}

export class SimulatedKubelet {
  private readonly api: KubeletApi;
  private readonly workers = new Map<string, PodWorker>();
  private readonly ips = new PodIpPool();
  private readonly services: ServiceDirectory;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private podsDir = '';
  private ownPodsDir = false;
  private readonly logger: Logger;
  private readonly timing: KubeletTiming;
  private synced: Promise<void>;
  private markSynced: () => void = () => {};

  constructor(readonly options: SimulatedKubeletOptions) {
    this.api = new KubeletApi(options.apiUrl, options.token);
    this.logger = options.logger ?? silentLogger;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    this.services = new ServiceDirectory(this.api, this.logger);
  }

  /** Starts listing and watching Pods; resolves once the first list has been handled. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.ownPodsDir = this.options.podsDir === undefined;
    // Not under /tmp: a Pod that mounts a volume at /tmp (runner Pods do) would hide the
    // volumes' host folders before they are bind-mounted (mounts go shortest target first).
    this.podsDir = this.options.podsDir ?? mkdtempSync(join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'topas-kubelet-'));
    await this.api.registerNode(this.nodeName).catch((error) => this.logger('warn', 'node registration failed', { error: errorField(error) }));
    this.services.start(this.abort.signal);
    this.loop = this.watchLoop();
    await Promise.race([this.synced, this.loop]);
  }

  /** Stops watching and kills every container it started (SIGKILL to each process group), then removes the Pods' folders. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
    await this.services.stopped();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown()));
    this.workers.clear();
    if (this.ownPodsDir && this.podsDir) rmSync(this.podsDir, { recursive: true, force: true });
  }

  /**
   * Test hook (no other way to reach this path here): the node evicts the Pod — its
   * processes are killed and it ends `Failed` with `reason: Evicted`. False when this
   * kubelet is not running that Pod.
   */
  evict(namespace: string, name: string): boolean {
    const worker = this.find(namespace, name);
    worker?.evict();
    return worker !== undefined;
  }

  /**
   * Test hook (no cgroups here, so memory limits never kill): the container's process
   * is SIGKILLed and reported `terminated` with `reason: OOMKilled`, exit code 137.
   * False when that container is not running.
   */
  oomKill(namespace: string, name: string, container: string): boolean {
    return this.find(namespace, name)?.oomKill(container) ?? false;
  }

  /** The host pids of a Pod's running containers, by container name (for tests that check processes end). */
  containerPids(namespace: string, name: string): Record<string, number> {
    return this.find(namespace, name)?.pids() ?? {};
  }

  private find(namespace: string, name: string): PodWorker | undefined {
    return [...this.workers.values()].find((w) => w.namespace === namespace && w.name === name);
  }

  private async watchLoop(): Promise<void> {
    const signal = this.abort.signal;
    let backOff = 100;
    while (!signal.aborted) {
      try {
        const list = await this.api.listPods(signal);
        this.resync(list.items);
        this.markSynced();
        let resourceVersion = list.resourceVersion;
        backOff = 100;
        for (;;) {
          const end = await this.api.watchPods(
            resourceVersion,
            (event) => {
              if (event.object.metadata?.resourceVersion) resourceVersion = event.object.metadata.resourceVersion;
              this.handle(event);
            },
            signal,
          );
          if (end === 'gone' || signal.aborted) break;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.logger('warn', 'kubelet pod watch failed; listing again', { error: errorField(error) });
        await new Promise((resolve) => setTimeout(resolve, backOff));
        backOff = Math.min(backOff * 2, 5000);
      }
    }
  }

  private get nodeName(): string {
    return this.options.nodeName ?? 'topas-test-node';
  }

  private isMine(pod: PodObject): boolean {
    const node = pod.spec?.nodeName;
    return !node || node === this.nodeName;
  }

  /** After a (re)list: every listed Pod as seen now, and those no longer listed as deleted. */
  private resync(pods: PodObject[]): void {
    const seen = new Set<string>();
    for (const pod of pods) {
      seen.add(pod.metadata.uid ?? '');
      this.handle({ type: 'MODIFIED', object: pod });
    }
    for (const [uid, worker] of this.workers) {
      if (!seen.has(uid)) {
        worker.deleted();
        this.workers.delete(uid);
      }
    }
  }

  private handle(event: WatchEvent): void {
    if (event.type === 'BOOKMARK') return;
    const pod = event.object;
    const uid = pod.metadata?.uid;
    if (!uid || !this.isMine(pod)) return;
    const worker = this.workers.get(uid);
    if (event.type === 'DELETED') {
      if (worker) {
        worker.deleted();
        this.workers.delete(uid);
      }
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (pod.metadata.deletionTimestamp) {
      // Not running here (ended, or never started): only the final delete is left.
      void this.api.deletePodNow(pod.metadata.namespace ?? 'default', pod.metadata.name, uid).catch(() => {});
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const podIP = this.ips.allocate(uid, pod.status?.podIP);
    const created = new PodWorker(pod, {
      api: this.api,
      images: this.options.images,
      logDir: this.options.logDir,
      podsDir: this.podsDir,
      volumesDir: this.options.volumesDir,
      nodeName: this.nodeName,
      podIP,
      services: this.services,
      timing: this.timing,
      logger: this.logger,
    });
    // The Pod's sandbox is gone once its containers have ended: its address may be reused.
    void created.done.then(() => this.ips.release(uid));
    this.workers.set(uid, created);
  }
}
