/**
 * One Pod's life on the simulated kubelet, from first sight to its end: set up the
 * volumes, run the init containers one after another, then the main containers
 * together, restart them as `restartPolicy` says (with a doubling back-off shown as
 * `CrashLoopBackOff`), and write the Pod's status after each change. A stop request
 * (deadline, eviction, deletion, kubelet shutdown) kills the processes — SIGTERM, then
 * SIGKILL after the grace period — and ends the Pod as the request says.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorField, type Logger } from '../../../src/core/logger.js';
import { ContainerProcess, type ContainerExit, type ContainerMount } from './container-process.js';
import { ContainerConfigError, ContainerStartError, containerArgv, resolveContainerEnv } from './container-env.js';
import { imageId, lookupImage, type ImageEntry, type ImageTable } from './images.js';
import { KubeApiError, type KubeletApi } from './kubelet-api.js';
import { buildPodStatus, type PodTerminal } from './pod-status.js';
import type { ContainerStatus, PodCondition, PodContainer, PodObject, TerminatedState } from './pod-types.js';
import { VolumeMountError, claimResolver, materializeVolumes } from './pod-volumes.js';
import { ReadinessProber, type Probe } from './readiness-probe.js';
import { hostsFile, podHostname } from './hosts-file.js';
import type { ServiceDirectory } from './service-directory.js';

/** Timings of the kubelet's waits; tests shorten them. */
export interface KubeletTiming {
  /** Longest grace between SIGTERM and SIGKILL, whatever the Pod asks (default 5000 ms; Kubernetes' default grace is 30 s). */
  maxGracePeriodMs: number;
  /** From `ErrImagePull` to `ImagePullBackOff` (default 1000 ms). */
  imagePullBackOffMs: number;
  /** First restart back-off; it doubles up to `crashLoopBackOffMaxMs` (defaults 1000 ms and 60 s; Kubernetes: 10 s and 5 min). */
  crashLoopBackOffMs: number;
  crashLoopBackOffMaxMs: number;
  /** Between attempts to set up volumes or a container's configuration, and to write status after a failed write (default 1000 ms). */
  retryMs: number;
}

export const DEFAULT_TIMING: KubeletTiming = {
  maxGracePeriodMs: 5000,
  imagePullBackOffMs: 1000,
  crashLoopBackOffMs: 1000,
  crashLoopBackOffMaxMs: 60_000,
  retryMs: 1000,
};

export interface PodWorkerContext {
  api: KubeletApi;
  images: ImageTable;
  logDir: string;
  podsDir: string;
  /** Where bound claims' folders are (`persistentVolumeClaim` volumes); none: such volumes fail to mount. */
  volumesDir?: string;
  /** The node this kubelet is; unbound Pods are bound to it first. */
  nodeName: string;
  /** This Pod's IP (see `pod-ips.ts`). */
  podIP: string;
  /** The cluster's Services, for the Pod's /etc/hosts. */
  services: ServiceDirectory;
  timing: KubeletTiming;
  logger: Logger;
}

/** Why a Pod's containers are being stopped. */
type StopKind = 'deadline' | 'evicted' | 'deleting' | 'deleted' | 'shutdown';

interface StopRequest {
  kind: StopKind;
  graceMs: number;
}

const TERMINATION_MESSAGE_MAX = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/** Whether `a` is a later version than `b` (resourceVersions compared as numbers when both are; otherwise a is taken). */
function isNewer(a: PodObject, b: PodObject | null): boolean {
  const x = Number(a.metadata.resourceVersion);
  const y = Number(b?.metadata.resourceVersion);
  return !b || Number.isNaN(x) || Number.isNaN(y) || x > y;
}

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Settles when the Pod's containers have all ended and its last status is written. */
  readonly done: Promise<void>;

  private readonly spec: PodObject['spec'];
  private latest: PodObject | null;
  private readonly podDir: string;
  private readonly startTime: string;
  /**
   * When this Pod became active, to the millisecond: `startTime` is written in whole
   * seconds (as the API does), and a deadline counted from it could fire up to a second
   * early — before the container even started, for `activeDeadlineSeconds: 1`. The
   * kubelet, too, counts from the time it holds, not from the truncated one.
   */
  private readonly startMs: number;
  private sandboxReady = false;
  private initialized = false;
  private readonly initStatuses: ContainerStatus[];
  private readonly mainStatuses: ContainerStatus[];
  private terminal: PodTerminal | null = null;
  private conditions: PodCondition[] | undefined;
  private stopping: StopRequest | null = null;
  private readonly abort = new AbortController();
  private readonly processes = new Map<string, { proc: ContainerProcess; oomKilled: boolean }>();
  private volumes = new Map<string, string>();
  /** The Pod's hosts file (bind-mounted at /etc/hosts in each container), and the unsubscribe of its rewrites. */
  private hostsPath = '';
  private unwatchServices: (() => void) | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> | null = null;
  private finished = false;

  constructor(
    pod: PodObject,
    private readonly ctx: PodWorkerContext,
  ) {
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name;
    this.spec = pod.spec;
    this.latest = pod;
    this.podDir = join(ctx.podsDir, this.uid);
    this.startTime = pod.status?.startTime ?? nowIso();
    this.startMs = pod.status?.startTime ? Date.parse(pod.status.startTime) : Date.now();
    this.conditions = pod.status?.conditions;
    const waiting = (c: PodContainer, reason: string): ContainerStatus => ({
      name: c.name,
      state: { waiting: { reason } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      image: c.image,
      imageID: '',
    });
    this.initStatuses = (pod.spec.initContainers ?? []).map((c) => waiting(c, 'PodInitializing'));
    this.mainStatuses = pod.spec.containers.map((c) => waiting(c, this.initStatuses.length ? 'PodInitializing' : 'ContainerCreating'));
    // Logs of an earlier Pod of the same name are not this Pod's (the real kubelet keys them by uid).
    rmSync(join(ctx.logDir, this.namespace, this.name), { recursive: true, force: true });
    this.done = this.run().catch((error) => ctx.logger('error', 'pod worker failed', { pod: this.key, error: errorField(error) }));
  }

  get key(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** A newer version of the Pod was seen; a `deletionTimestamp` starts the graceful deletion. */
  update(pod: PodObject): void {
    if (isNewer(pod, this.latest)) this.latest = pod;
    if (pod.metadata.deletionTimestamp) {
      const seconds = pod.metadata.deletionGracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds ?? 30;
      this.stop('deleting', seconds * 1000);
    }
  }

  /** The Pod object is gone from the API server: kill its processes, write nothing. */
  deleted(): void {
    this.stop('deleted', 0);
  }

  /** The kubelet is stopping: kill everything at once, write nothing. */
  shutdown(): Promise<void> {
    this.stop('shutdown', 0);
    return this.done;
  }

  /** Test hook: the node evicts the Pod (memory pressure). */
  evict(): void {
    this.stop('evicted', this.graceMs());
  }

  /** Test hook: the kernel's OOM killer ends one container (SIGKILL; reported as `OOMKilled`, exit 137). Returns false when it is not running. */
  oomKill(container: string): boolean {
    const running = this.processes.get(container);
    if (!running) return false;
    running.oomKilled = true;
    running.proc.kill();
    return true;
  }

  /** The pids of the containers running now, by container name (for tests). */
  pids(): Record<string, number> {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.proc.pid]));
  }

  /** Records an Event about the Pod (or one of its containers), as the kubelet does; not awaited. */
  private event(type: 'Normal' | 'Warning', reason: string, message: string, container?: { name: string; init: boolean }, component?: string): void {
    if (this.stopping?.kind === 'deleted' || this.stopping?.kind === 'shutdown') return;
    void this.ctx.api.createEvent({
      pod: { metadata: { name: this.name, namespace: this.namespace, uid: this.uid } },
      container: container?.name,
      init: container?.init,
      type,
      reason,
      message,
      host: this.ctx.nodeName,
      component,
    });
  }

  private graceMs(): number {
    return (this.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  private stop(kind: StopKind, graceMs: number): void {
    if (this.finished) {
      // Already ended: a graceful deletion only needs the final delete.
      if (kind === 'deleting') void this.finishDeletion();
      if (kind === 'deleted' || kind === 'deleting' || kind === 'shutdown') this.removePodDir();
      return;
    }
    const order: StopKind[] = ['deadline', 'evicted', 'deleting', 'deleted', 'shutdown'];
    if (this.stopping && order.indexOf(this.stopping.kind) >= order.indexOf(kind)) return;
    const first = this.stopping === null;
    this.stopping = { kind, graceMs: Math.min(graceMs, this.ctx.timing.maxGracePeriodMs) };
    if (kind === 'deadline') this.event('Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
    if (kind === 'evicted') this.event('Warning', 'Evicted', 'The node was low on resource: memory.');
    for (const name of this.processes.keys()) {
      const init = (this.spec.initContainers ?? []).some((c) => c.name === name);
      if (kind !== 'deleted' && kind !== 'shutdown') this.event('Normal', 'Killing', `Stopping container ${name}`, { name, init });
    }
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.abort.abort();
    if (this.stopping.graceMs === 0) {
      for (const { proc } of this.processes.values()) proc.kill();
      return;
    }
    if (first) {
      for (const { proc } of this.processes.values()) proc.terminate();
      this.killTimer = setTimeout(() => {
        for (const { proc } of this.processes.values()) proc.kill();
      }, this.stopping.graceMs);
    }
  }

  private async run(): Promise<void> {
    if (!this.spec.nodeName) {
      try {
        if ((await this.ctx.api.bindPod(this.namespace, this.name, this.ctx.nodeName)) === 'taken') {
          // Another kubelet bound it first: not ours to run.
          this.finished = true;
          return;
        }
      } catch (error) {
        this.ctx.logger('warn', 'pod binding failed', { pod: this.key, error: errorField(error) });
      }
      this.event('Normal', 'Scheduled', `Successfully assigned ${this.namespace}/${this.name} to ${this.ctx.nodeName}`, undefined, 'default-scheduler');
    }
    this.write();
    const deadline = this.spec.activeDeadlineSeconds;
    if (deadline !== undefined) {
      const ms = this.startMs + deadline * 1000 - Date.now();
      this.deadlineTimer = setTimeout(() => this.stop('deadline', this.graceMs()), Math.max(0, ms));
    }
    await this.setUpVolumes();
    if (this.sandboxReady) {
      const initOk = await this.runInitContainers();
      if (initOk) {
        this.initialized = true;
        for (const st of this.mainStatuses) if ('waiting' in st.state) st.state = { waiting: { reason: 'ContainerCreating' } };
        this.write();
        await Promise.all(this.spec.containers.map((c, i) => this.runMain(c, this.mainStatuses[i]!)));
      }
    }
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await this.end();
  }

  private async end(): Promise<void> {
    const stop = this.stopping;
    if (!stop) {
      if (!this.terminal) {
        const allZero = [...this.initStatuses, ...this.mainStatuses].every((s) => 'terminated' in s.state && s.state.terminated.exitCode === 0);
        this.terminal = { phase: allZero ? 'Succeeded' : 'Failed' };
      }
    } else if (stop.kind === 'deadline') {
      this.terminal = { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
    } else if (stop.kind === 'evicted') {
      this.terminal = {
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ',
      };
    } else if (stop.kind === 'deleting') {
      const allZero = this.mainStatuses.every((s) => 'terminated' in s.state && s.state.terminated.exitCode === 0);
      this.terminal = { phase: allZero && this.initialized ? 'Succeeded' : 'Failed' };
    }
    this.finished = true;
    if (stop?.kind === 'deleted' || stop?.kind === 'shutdown') {
      this.removePodDir();
      return;
    }
    this.write();
    await this.settled();
    this.ctx.logger('info', 'pod ended', { pod: this.key, phase: this.terminal?.phase, reason: this.terminal?.reason });
    this.removePodDir();
    if (stop?.kind === 'deleting') await this.finishDeletion();
  }

  private async finishDeletion(): Promise<void> {
    await this.settled();
    try {
      await this.ctx.api.deletePodNow(this.namespace, this.name, this.uid);
    } catch (error) {
      this.ctx.logger('warn', 'pod final delete failed', { pod: this.key, error: errorField(error) });
    }
  }

  private removePodDir(): void {
    this.unwatchServices?.();
    this.unwatchServices = null;
    rmSync(this.podDir, { recursive: true, force: true });
  }

  /** Waits `ms`; false when the Pod is being stopped first. */
  private delay(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async setUpVolumes(): Promise<void> {
    while (!this.stopping) {
      try {
        mkdirSync(this.podDir, { recursive: true, mode: 0o755 });
        chmodSync(this.podDir, 0o755);
        this.volumes = await materializeVolumes(this.latest ?? ({ metadata: { name: this.name, namespace: this.namespace }, spec: this.spec } as PodObject), this.podDir, this.ctx.api.readObject.bind(this.ctx.api), this.ctx.volumesDir === undefined ? undefined : claimResolver(this.ctx.api.readClaim.bind(this.ctx.api), this.ctx.volumesDir));
        await this.setUpHosts();
        this.sandboxReady = true;
        this.write();
        return;
      } catch (error) {
        if (!(error instanceof VolumeMountError) && !(error instanceof KubeApiError)) throw error;
        this.ctx.logger('warn', 'pod volumes not ready', { pod: this.key, error: errorField(error) });
        this.event('Warning', 'FailedMount', error.message);
        if (!(await this.delay(this.ctx.timing.retryMs))) return;
      }
    }
  }

  /**
   * Writes the Pod's hosts file from a fresh list of the Services, then rewrites it in
   * place (same inode: the containers' bind mounts keep showing it) whenever they change.
   */
  private async setUpHosts(): Promise<void> {
    this.hostsPath = join(this.podDir, 'etc-hosts');
    await this.ctx.services.refresh().catch((error: unknown) => this.ctx.logger('warn', 'service list failed; hosts file from the last known Services', { pod: this.key, error: errorField(error) }));
    this.writeHosts();
    this.unwatchServices ??= this.ctx.services.onChange(() => this.writeHosts());
  }

  private writeHosts(): void {
    const content = hostsFile(
      { hostname: podHostname({ metadata: { name: this.name }, spec: this.spec }), subdomain: this.spec.subdomain, namespace: this.namespace, ip: this.ctx.podIP },
      this.ctx.services.all(),
    );
    try {
      // Truncate and write, never replace: a bind mount follows the inode. (A lookup at that very
      // moment may read it half written; rewrites happen only when Services change.)
      writeFileSync(this.hostsPath, content, { mode: 0o644 });
    } catch (error) {
      this.ctx.logger('warn', 'hosts file write failed', { pod: this.key, error: errorField(error) });
    }
  }

  private async runInitContainers(): Promise<boolean> {
    const policy = this.spec.restartPolicy ?? 'Always';
    for (const [i, c] of (this.spec.initContainers ?? []).entries()) {
      const st = this.initStatuses[i]!;
      let backOff = this.ctx.timing.crashLoopBackOffMs;
      for (;;) {
        const exit = await this.runOnce(c, st, true);
        if (!exit || this.stopping) return false;
        if (exit.exitCode === 0) break;
        if (policy === 'Never') {
          this.terminal = { phase: 'Failed' };
          return false;
        }
        if (!(await this.backOff(c, st, backOff))) return false;
        backOff = Math.min(backOff * 2, this.ctx.timing.crashLoopBackOffMaxMs);
      }
    }
    return true;
  }

  private async runMain(c: PodContainer, st: ContainerStatus): Promise<void> {
    const policy = this.spec.restartPolicy ?? 'Always';
    let backOff = this.ctx.timing.crashLoopBackOffMs;
    for (;;) {
      const exit = await this.runOnce(c, st, false);
      if (!exit || this.stopping) return;
      const restart = policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0);
      if (!restart) return;
      if (!(await this.backOff(c, st, backOff))) return;
      backOff = Math.min(backOff * 2, this.ctx.timing.crashLoopBackOffMaxMs);
    }
  }

  /** Between a container's exit and its restart: `CrashLoopBackOff`, the last run kept as `lastState`. */
  private async backOff(c: PodContainer, st: ContainerStatus, ms: number): Promise<boolean> {
    st.lastState = st.state;
    st.restartCount++;
    st.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(ms / 1000)}s restarting failed container=${c.name} pod=${this.name}_${this.namespace}(${this.uid})` } };
    this.write();
    this.event('Warning', 'BackOff', 'Back-off restarting failed container', { name: c.name, init: (this.spec.initContainers ?? []).includes(c) });
    return this.delay(ms);
  }

  /** "Pulls" the image, configures and runs the container once; null when the Pod is stopped before it ran. */
  private async runOnce(c: PodContainer, st: ContainerStatus, init: boolean): Promise<ContainerExit | null> {
    const image = await this.pull(c, st);
    if (!image) return null;
    let env: Record<string, string>;
    let uid: number;
    for (;;) {
      try {
        const sc = { ...this.spec.securityContext, ...c.securityContext };
        uid = sc.runAsUser ?? image.user ?? 0;
        if (sc.runAsNonRoot && uid === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${this.name}_${this.namespace}(${this.uid})", container: ${c.name})`);
        env = await resolveContainerEnv(this.latest ?? ({ metadata: { name: this.name, namespace: this.namespace }, spec: this.spec } as PodObject), c, this.ctx.api.readObject.bind(this.ctx.api), uid, {
          podIP: this.ctx.podIP,
          imageEnv: image.env,
        });
        break;
      } catch (error) {
        if (!(error instanceof ContainerConfigError) && !(error instanceof KubeApiError)) throw error;
        st.state = { waiting: { reason: 'CreateContainerConfigError', message: error.message } };
        this.write();
        this.event('Warning', 'Failed', `Error: ${error.message}`, { name: c.name, init });
        if (!(await this.delay(this.ctx.timing.retryMs))) return null;
      }
    }
    const sc = { ...this.spec.securityContext, ...c.securityContext };
    const containerID = `containerd://${randomBytes(32).toString('hex')}`;
    const startedAt = nowIso();
    let argv: string[];
    try {
      argv = containerArgv(c, image, env);
    } catch (error) {
      if (!(error instanceof ContainerStartError)) throw error;
      st.state = { terminated: { exitCode: 128, reason: 'StartError', message: error.message, startedAt: '1970-01-01T00:00:00Z', finishedAt: nowIso(), containerID } };
      st.containerID = containerID;
      this.write();
      this.event('Warning', 'Failed', `Error: ${st.state.terminated.message}`, { name: c.name, init });
      return { exitCode: 128, signal: null };
    }
    const containerDir = join(this.podDir, 'containers', c.name);
    mkdirSync(containerDir, { recursive: true, mode: 0o755 });
    const terminationFile = join(containerDir, 'termination-log');
    writeFileSync(terminationFile, '');
    chmodSync(terminationFile, 0o666);
    const logFile = join(this.ctx.logDir, this.namespace, this.name, `${c.name}.log`);
    if (this.stopping) return null;
    let proc: ContainerProcess;
    try {
      const imageFiles: ContainerMount[] = (image.files ?? []).map((f) => ({ source: f.source, target: f.target, readOnly: true, image: true }));
      const volumes: ContainerMount[] = (c.volumeMounts ?? []).map((m) => {
        const source = this.volumes.get(m.name);
        if (!source) throw new Error(`volumeMount "${m.name}" of container ${c.name} names no volume of the Pod`);
        return { source: m.subPath ? join(source, m.subPath) : source, target: m.mountPath, readOnly: m.readOnly === true };
      });
      // The image's files first, the Pod's volumes over them (as a volume covers an image path).
      const hosts: ContainerMount[] = this.hostsPath ? [{ source: this.hostsPath, target: '/etc/hosts', readOnly: false }] : [];
      const mounts = [...imageFiles, ...hosts, ...volumes];
      proc = await ContainerProcess.start({
        argv,
        env,
        mounts,
        terminationFile: { source: terminationFile, target: c.terminationMessagePath ?? '/dev/termination-log' },
        workingDir: c.workingDir,
        hostname: podHostname({ metadata: { name: this.name }, spec: this.spec }),
        readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem === true,
        user: { uid, gid: sc.runAsGroup ?? (uid === 0 ? 0 : uid), groups: sc.fsGroup !== undefined ? [sc.fsGroup] : [] },
        logFile,
      });
    } catch (error) {
      st.state = { terminated: { exitCode: 128, reason: 'StartError', message: errorField(error), startedAt: '1970-01-01T00:00:00Z', finishedAt: nowIso(), containerID } };
      st.containerID = containerID;
      this.write();
      this.event('Warning', 'Failed', `Error: ${st.state.terminated.message}`, { name: c.name, init });
      return { exitCode: 128, signal: null };
    }
    const entry = { proc, oomKilled: false };
    this.processes.set(c.name, entry);
    const stopNow = this.stopping as StopRequest | null; // set while the process was starting
    if (stopNow && stopNow.graceMs === 0) proc.kill();
    else if (stopNow) proc.terminate();
    this.ctx.logger('debug', 'container started', { pod: this.key, container: c.name, pid: proc.pid });
    st.state = { running: { startedAt } };
    st.containerID = containerID;
    st.imageID = imageId(c.image);
    st.started = true;
    st.ready = !init;
    // A container with a readiness probe starts unready; the prober flips it.
    const probe = init ? undefined : (c as PodContainer & { readinessProbe?: Probe }).readinessProbe;
    let podIp = '127.0.0.1';
    const prober = probe
      ? new ReadinessProber(
          probe,
          {
            // The IP the kubelet last wrote to the Pod's status (kept while a conflict retry drops `latest`).
            podIp: () => (podIp = (this.latest?.status as { podIP?: string } | undefined)?.podIP ?? podIp),
            ports: (c as PodContainer & { ports?: { name?: string; containerPort: number }[] }).ports ?? [],
            env,
            image,
          },
          (ready) => {
            st.ready = ready;
            this.write();
          },
        )
      : undefined;
    if (prober) st.ready = false;
    this.write();
    this.event('Normal', 'Pulled', `Container image "${c.image}" already present on machine`, { name: c.name, init });
    this.event('Normal', 'Created', `Created container ${c.name}`, { name: c.name, init });
    this.event('Normal', 'Started', `Started container ${c.name}`, { name: c.name, init });
    const exit = await proc.exited;
    prober?.stop();
    this.processes.delete(c.name);
    const finishedAt = nowIso();
    const exitCode = entry.oomKilled ? 137 : exit.exitCode;
    const terminated: TerminatedState = {
      exitCode,
      ...(exit.signal ? { signal: exitCode - 128 } : {}),
      reason: entry.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt,
      containerID,
    };
    const message = this.terminationMessage(terminationFile, logFile, c, exitCode);
    if (message) terminated.message = message;
    if (exit.signal) delete terminated.signal;
    st.state = { terminated };
    st.ready = init && exitCode === 0;
    st.started = false;
    this.write();
    this.ctx.logger('debug', 'container exited', { pod: this.key, container: c.name, exitCode });
    return { exitCode, signal: exit.signal };
  }

  /** The image's table entry, or `ErrImagePull` then `ImagePullBackOff` until the Pod is stopped (null). */
  private async pull(c: PodContainer, st: ContainerStatus): Promise<ImageEntry | null> {
    const entry = lookupImage(this.ctx.images, c.image);
    if (entry) return entry;
    st.state = {
      waiting: {
        reason: 'ErrImagePull',
        message: `failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": ${c.image}: not found (the test cluster's kubelet runs only the images in its image table)`,
      },
    };
    this.write();
    this.ctx.logger('warn', 'image not in the image table', { pod: this.key, container: c.name, image: c.image });
    const init = (this.spec.initContainers ?? []).includes(c);
    this.event('Normal', 'Pulling', `Pulling image "${c.image}"`, { name: c.name, init });
    this.event('Warning', 'Failed', `Failed to pull image "${c.image}": ${st.state.waiting.message}`, { name: c.name, init });
    this.event('Warning', 'Failed', 'Error: ErrImagePull', { name: c.name, init });
    if (!(await this.delay(this.ctx.timing.imagePullBackOffMs))) return null;
    st.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } };
    this.write();
    this.event('Normal', 'BackOff', `Back-off pulling image "${c.image}"`, { name: c.name, init });
    this.event('Warning', 'Failed', 'Error: ImagePullBackOff', { name: c.name, init });
    await new Promise<void>((resolve) => (this.abort.signal.aborted ? resolve() : this.abort.signal.addEventListener('abort', () => resolve(), { once: true })));
    return null;
  }

  /** The termination message file's content (≤ 4096 bytes); with FallbackToLogsOnError, an empty file and a failure, the log's tail (80 lines, ≤ 2048 bytes). */
  private terminationMessage(file: string, logFile: string, c: PodContainer, exitCode: number): string {
    let text = '';
    try {
      text = readFileSync(file).subarray(0, TERMINATION_MESSAGE_MAX).toString('utf8');
    } catch {
      // no file: no message
    }
    if (text === '' && c.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0) {
      try {
        const log = readFileSync(logFile);
        const lines = log.toString('utf8').split('\n');
        if (lines.at(-1) === '') lines.pop();
        const tail = Buffer.from(lines.slice(-FALLBACK_LOG_LINES).join('\n') + (lines.length ? '\n' : ''), 'utf8');
        text = tail.subarray(Math.max(0, tail.length - FALLBACK_LOG_BYTES)).toString('utf8');
      } catch {
        // no log
      }
    }
    return text;
  }

  /** Asks for the current status to be written (coalesced; one write in flight at a time). */
  private write(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.flush().finally(() => (this.writing = null));
  }

  /** Resolves once every status asked for so far is written (or given up). */
  private async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      if (this.stopping?.kind === 'deleted' || this.stopping?.kind === 'shutdown') return;
      const now = nowIso();
      const status = buildPodStatus(
        { startTime: this.startTime, podIP: this.ctx.podIP, sandboxReady: this.sandboxReady, initialized: this.initialized, initContainers: this.initStatuses, containers: this.mainStatuses, terminal: this.terminal },
        this.conditions,
        now,
      );
      this.conditions = status.conditions;
      // Snapshot: the statuses are mutated in place while the write is in flight.
      const body = JSON.parse(JSON.stringify(status)) as typeof status;
      for (let attempt = 0; ; attempt++) {
        try {
          const current = attempt === 0 && this.latest ? this.latest : await this.ctx.api.getPod(this.namespace, this.name);
          if (!current || current.metadata.uid !== this.uid) return;
          this.latest = await this.ctx.api.putPodStatus(current, body);
          break;
        } catch (error) {
          if (error instanceof KubeApiError && error.status === 409 && attempt < 10) {
            this.latest = null;
            continue;
          }
          if (error instanceof KubeApiError && error.status === 404) return;
          this.ctx.logger('warn', 'pod status write failed', { pod: this.key, error: errorField(error) });
          if ((this.stopping as StopRequest | null)?.kind === 'shutdown') return;
          await new Promise((r) => setTimeout(r, this.ctx.timing.retryMs));
          this.latest = null;
          this.dirty = true;
          break;
        }
      }
    }
  }
}
