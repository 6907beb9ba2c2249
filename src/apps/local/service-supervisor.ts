/**
 * Keeps one service's replica processes converged to its spec, the way a Deployment
 * controller keeps Pods: level-triggered, one serialized reconcile pass after every
 * change (a new spec, a replica ready or exited, a backoff timer).
 *
 * Replicas live in slots `0..replicas-1`. A slot holds its serving process (`active`)
 * and, during a rollout, a `surge` process running the new spec. Rollout is max surge
 * 1, max unavailable 0: one slot at a time starts a surge, and only when the surge is
 * ready is the old process drained (out of the balancer, open connections given up to
 * a second) and stopped. A slot whose old process is not serving anyway is replaced
 * in place. A replica that exits on its own is restarted with exponential backoff,
 * counted per slot and per service; while a new version crash-loops, the old ready
 * replicas keep serving.
 */
import { resolveUnder } from '../../store/resolve-under.js';
import type { Endpoint, ReplicaStatus, ServiceSpec, ServiceStatus } from '../../core/app.js';
import { ConflictError } from '../../core/errors.js';
import { freePort, releasePort } from './free-port.js';
import { ServiceLog } from './line-log.js';
import type { RecordedProcess } from './process-group.js';
import { ReplicaProcess, type ReplicaExit } from './replica-process.js';
import { probeTarget, renderReplica, type ReplicaPorts, type ReplicaTemplate } from './replica-template.js';
import { RestartBackoff } from './restart-backoff.js';
import { TcpBalancer } from './tcp-balancer.js';
import type { RuntimeLog } from './runtime-log.js';

/** SIGTERM → SIGKILL grace for a stopping replica. */
const STOP_GRACE_MS = 5000;
/** How long a replaced replica's open connections may finish before it is stopped. */
const DRAIN_MS = 1000;
/** A replica that ran this long before exiting was healthy: its exit is not a crash loop. */
const HEALTHY_RUN_MS = 10_000;
/** A replica of the current spec not ready after this long makes the App Degraded. */
const NOT_READY_DEADLINE_MS = 30_000;
/**
 * A service whose every replica of the current spec exited early this many times in a
 * row, none ready, is reported crash looping (`reason: CrashLoopBackOff`): it will not
 * get better by itself. With the restart back-off (0.5 s, 1 s, 2 s) that is a few
 * seconds after the first start — long enough for a dependency that comes up late.
 */
export const CRASH_LOOP_EXITS = 3;
/** Lines of output kept in memory per service. */
const LOG_LINES = 2000;

/** One problem of a service, for the App's Degraded condition. */
export interface ServiceProblem {
  reason: 'CrashLoopBackOff' | 'ReplicaNotReady' | 'NoLocalCommand';
  message: string;
}

/** What the service is busy with, for the App's Progressing condition; null when converged. */
export interface ServiceProgress {
  reason: 'RollingOut' | 'ScalingUp' | 'ScalingDown' | 'Starting' | 'Restarting';
  message: string;
}

/** A crash of a slot's process, remembered for Degraded messages. */
interface Crash {
  hash: string;
  version: string;
  exit: ReplicaExit;
  lastLine: string;
  /** It exited before running HEALTHY_RUN_MS (or before ever being ready). */
  early: boolean;
}

interface Slot {
  index: number;
  active: ReplicaProcess | null;
  surge: ReplicaProcess | null;
  restarts: number;
  backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | null;
  restartAt: number | null;
  /** The crashed process was a surge: its restart is the slot's surge, still holding the rollout's one surge. */
  pendingSurge: boolean;
  lastExit: string | null;
  /** The last lines of the process that last exited. */
  lastLog: string[];
  crash: Crash | null;
  /** Early exits in a row of this slot's processes of `crash.hash`. */
  crashesInARow: number;
}

export interface ServiceSupervisorOptions {
  app: string;
  /** Folder for the service's log file. */
  logDir: string;
  /** The environment replicas inherit. */
  inheritedEnv: NodeJS.ProcessEnv;
  log: RuntimeLog;
  /** Replica processes started or exited (the state file must be rewritten). */
  onProcesses: () => void;
  /** Anything in the status changed. */
  onChange: () => void;
}

export class ServiceSupervisor {
  private spec: ServiceSpec;
  private template: ReplicaTemplate | null = null;
  /** Bumped by `restart()`: part of the effective hash, so a restart is a rollout. */
  private restartNonce = 0;
  private slots: Slot[] = [];
  private readonly stopping = new Set<ReplicaProcess>();
  private readonly balancers = new Map<string, TcpBalancer>();
  private restartsTotal = 0;
  /** Processes killed through `kill()`: their exit is a test's doing, not a crash loop. */
  private readonly killedOnPurpose = new WeakSet<ReplicaProcess>();
  private closed = false;
  private reconciling = false;
  private again = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  readonly log: ServiceLog;

  constructor(
    readonly name: string,
    spec: ServiceSpec,
    private readonly options: ServiceSupervisorOptions,
  ) {
    this.spec = spec;
    this.log = new ServiceLog(LOG_LINES, resolveUnder(options.logDir, `${name}.log`));
  }

  /** The spec hash replicas must run now. */
  private get hash(): string | null {
    return this.template ? `${this.template.hash}.${this.restartNonce}` : null;
  }

  /**
   * Sets the desired spec; listens on the service's ports (`preferredPorts`: the
   * ports used before, by port name, '' for the main port) and starts converging.
   */
  async update(spec: ServiceSpec, template: ReplicaTemplate | null, preferredPorts: Record<string, number>): Promise<void> {
    if (this.closed) return;
    const before = this.hash;
    this.spec = spec;
    this.template = template;
    if (this.hash !== before) this.freshStart();
    const wanted = new Set(['', ...(spec.ports ?? []).map((p) => p.name)]);
    for (const [key, balancer] of this.balancers) {
      if (!wanted.has(key)) {
        this.balancers.delete(key);
        await balancer.close();
      }
    }
    for (const key of wanted) {
      if (this.balancers.has(key)) continue;
      const balancer = new TcpBalancer({ backends: () => this.backends(key) });
      this.balancers.set(key, balancer);
      await balancer.listen(preferredPorts[key]);
    }
    this.reconcile();
  }

  /** Rolls every replica (new process ready before the old one stops). */
  restart(): void {
    this.restartNonce++;
    this.freshStart();
    this.reconcile();
  }

  /** The balancer ports by port name ('' = main). */
  ports(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, balancer] of this.balancers) if (balancer.port !== null) out[key] = balancer.port;
    return out;
  }

  /** Where the service answers: its extra port declared as `port`, else the main port. */
  endpoint(port?: number): Endpoint | null {
    const named = port === undefined ? undefined : this.spec.ports?.find((p) => p.port === port)?.name;
    const balancerPort = this.balancers.get(named ?? '')?.port ?? null;
    return balancerPort === null ? null : { host: '127.0.0.1', port: balancerPort };
  }

  /** Live replica processes, for the state file. */
  recorded(): (RecordedProcess & { slot: number })[] {
    const out: (RecordedProcess & { slot: number })[] = [];
    for (const proc of this.processes()) {
      const rec = proc.recorded;
      if (rec) out.push({ ...rec, slot: proc.index });
    }
    return out;
  }

  /**
   * SIGKILLs the serving process of a replica (a crash, for self-healing tests); the
   * supervisor restarts it. Its exit counts as a restart, not as a crash loop.
   */
  async kill(index: number): Promise<{ pid: number }> {
    const slot = this.slots[index];
    const proc = slot?.active ?? slot?.surge ?? null;
    const pid = proc?.pid ?? null;
    if (!proc || pid === null) {
      const why = this.slots.length === 0 ? 'the service has no replicas' : slot ? 'it is waiting to restart' : `replicas are 0..${this.slots.length - 1}`;
      throw new ConflictError(`${this.name}: replica ${index} is not running (${why})`, { service: this.name, replica: index });
    }
    this.options.log({ level: 'info', msg: 'killing replica', app: this.options.app, service: this.name, replica: index, pid });
    this.killedOnPurpose.add(proc);
    await proc.kill();
    return { pid };
  }

  /** Stops every process and closes the ports. */
  async stop(): Promise<void> {
    this.closed = true;
    // A reconcile pass in flight stops at its next step; then nothing new starts.
    await this.idle;
    for (const slot of this.slots) if (slot.restartTimer) clearTimeout(slot.restartTimer);
    const procs = this.processes();
    this.slots = [];
    await Promise.all(procs.map((p) => this.stopProcess(p, false)));
    await Promise.all([...this.balancers.values()].map((b) => b.close()));
    this.balancers.clear();
    this.log.close();
  }

  /** SIGKILLs every process now (topas exits without close()). */
  killNow(): void {
    for (const proc of this.processes()) proc.killNow();
  }

  /**
   * True when every desired replica runs the current spec and is ready and the
   * replaced ones are gone (the rollout is finished, as `kubectl rollout status` says).
   */
  isRolledOut(): boolean {
    const hash = this.hash;
    if (hash === null) return this.spec.replicas === 0;
    if (this.slots.length !== this.spec.replicas || this.stopping.size > 0) return false;
    return this.slots.every((s) => s.active?.hash === hash && s.active.ready && !s.surge && !s.restartTimer);
  }

  /** "frontend: 1/3 replicas ready, replica 2 exited with code 1: <last line>". */
  describeProgress(): string {
    const desired = this.spec.replicas;
    if (!this.template) return `${this.name}: has no local.command, so it cannot run on this machine (it runs only on Kubernetes)`;
    const ready = this.slots.filter((s) => s.index < desired && s.active?.hash === this.hash && s.active.ready).length;
    const head = `${this.name}: ${ready}/${desired} replicas ready${ready < desired || this.isRolledOut() ? '' : ' (rollout not finished)'}`;
    const detail = this.firstProblemDetail();
    return detail ? `${head}, ${detail}` : head;
  }

  status(): ServiceStatus {
    const hash = this.hash;
    const replicaStatuses: ReplicaStatus[] = [];
    let readyReplicas = 0;
    let updatedReplicas = 0;
    for (const slot of this.slots) {
      const procs = [slot.active, slot.surge].filter((p): p is ReplicaProcess => p !== null);
      for (const proc of procs) {
        if (proc.ready) readyReplicas++;
        if (proc.hash === hash && slot.index < this.spec.replicas) updatedReplicas++;
        replicaStatuses.push({ index: slot.index, pid: proc.pid, ready: proc.ready, restarts: slot.restarts, version: proc.version, lastExit: slot.lastExit, ...lastLog(slot) });
      }
      if (procs.length === 0) replicaStatuses.push({ index: slot.index, pid: null, ready: false, restarts: slot.restarts, version: this.spec.version, lastExit: slot.lastExit, ...lastLog(slot) });
    }
    const detail = this.isRolledOut() ? null : this.firstProblemDetail();
    const ports: Record<string, Endpoint> = {};
    for (const [key, balancer] of this.balancers) if (key && balancer.port !== null) ports[key] = { host: '127.0.0.1', port: balancer.port };
    return {
      name: this.name,
      version: this.spec.version,
      replicas: this.spec.replicas,
      readyReplicas,
      updatedReplicas,
      restarts: this.restartsTotal,
      endpoint: this.endpoint(),
      ...(Object.keys(ports).length ? { ports } : {}),
      replicaStatuses,
      ...(this.crashLooping() ? { reason: 'CrashLoopBackOff' as const } : {}),
      ...(detail ? { message: detail } : {}),
    };
  }

  /**
   * True when the service will not become ready by itself: no replica of the current
   * spec is ready, and every slot that runs or ran it exited early CRASH_LOOP_EXITS
   * times in a row (slots still on the old spec during a rollout wait their turn, so
   * they do not count).
   */
  crashLooping(now = Date.now()): boolean {
    const hash = this.hash;
    if (hash === null) return false;
    let looping = 0;
    for (const slot of this.slots) {
      const current = [slot.active, slot.surge].filter((p): p is ReplicaProcess => p !== null && p.hash === hash && !p.exit);
      if (current.some((p) => p.ready)) return false;
      const crash = slot.crash;
      const loops = crash && crash.early && crash.hash === hash && !this.recoveredSince(slot, now) ? slot.crashesInARow : 0;
      if (loops >= CRASH_LOOP_EXITS) looping++;
      // A replica of the current spec that may still come up.
      else if (current.length > 0 || (crash?.hash === hash && slot.restartTimer)) return false;
    }
    return looping > 0;
  }

  /** What is wrong (Degraded), most telling first. */
  problems(now = Date.now()): ServiceProblem[] {
    if (!this.template) return [{ reason: 'NoLocalCommand', message: this.describeProgress() }];
    const out: ServiceProblem[] = [];
    for (const slot of this.slots) {
      const crash = slot.crash;
      if (crash && crash.early && crash.hash === this.hash && !this.recoveredSince(slot, now)) {
        const restarts = `restarted ${slot.restarts} time${slot.restarts === 1 ? '' : 's'}, with back-off`;
        out.push({ reason: 'CrashLoopBackOff', message: `${this.name}: replica ${slot.index} (${crash.version}) ${crash.exit.description}${crash.lastLine ? `: ${crash.lastLine}` : ''} (${restarts})` });
        continue;
      }
      for (const proc of [slot.surge, slot.active]) {
        if (proc && !proc.exit && proc.hash === this.hash && proc.readyAt === null && now - proc.startedAt > NOT_READY_DEADLINE_MS) {
          out.push({ reason: 'ReplicaNotReady', message: `${this.name}: replica ${slot.index} (${proc.version}) not ready ${formatMs(NOT_READY_DEADLINE_MS)} after it started: ${proc.probeDetail}` });
          break;
        }
      }
    }
    return out;
  }

  /** What the service is busy with; null when converged. */
  progress(): ServiceProgress | null {
    if (!this.template || this.isRolledOut()) return null;
    const desired = this.spec.replicas;
    const hash = this.hash;
    const outdated = this.slots.some((s) => s.active && s.active.hash !== hash);
    if (outdated) {
      const updated = this.slots.filter((s) => s.index < desired && s.active?.hash === hash && s.active.ready).length;
      const restarting = this.slots.some((s) => s.active && s.active.hash.split('.')[0] === this.template!.hash && s.active.hash !== hash);
      const detail = this.firstProblemDetail();
      return {
        reason: restarting ? 'Restarting' : 'RollingOut',
        message: `${this.name}: ${updated}/${desired} replicas updated to ${this.spec.version}${detail ? `, ${detail}` : ''}`,
      };
    }
    if (this.slots.length > desired) return { reason: 'ScalingDown', message: `${this.name}: scaling down to ${desired}` };
    const everReady = this.slots.some((s) => s.active?.readyAt != null);
    return { reason: everReady ? 'ScalingUp' : 'Starting', message: this.describeProgress() };
  }

  // --- converging ------------------------------------------------------------------

  /** A new spec gets a fresh start: replicas waiting out a crash backoff of the old spec start now. */
  private freshStart(): void {
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      slot.restartAt = null;
      slot.pendingSurge = false;
      slot.backoff.reset();
    }
  }

  /** Asks for a reconcile pass (serialized: a request during a pass runs another one after it). */
  reconcile(): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    void (async () => {
      try {
        do {
          this.again = false;
          try {
            await this.reconcileOnce();
          } catch (error) {
            this.options.log({ level: 'error', msg: 'service reconcile failed', app: this.options.app, service: this.name, error: String(error) });
          }
        } while (this.again && !this.closed);
      } finally {
        this.reconciling = false;
        this.markIdle();
        this.options.onChange();
      }
    })();
  }

  private async reconcileOnce(): Promise<void> {
    const hash = this.hash;
    const template = this.template;
    const desired = template ? this.spec.replicas : 0;

    // Scale down (and stop everything of a service that cannot run here).
    while (this.slots.length > desired) {
      const slot = this.slots.pop()!;
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      for (const proc of [slot.active, slot.surge]) if (proc) void this.stopProcess(proc, true);
    }
    if (!template || hash === null) return;
    while (this.slots.length < desired) this.slots.push(newSlot(this.slots.length));

    // A surge of a spec that is no longer wanted goes.
    for (const slot of this.slots) {
      if (slot.surge && slot.surge.hash !== hash) {
        void this.stopProcess(slot.surge, false);
        slot.surge = null;
      }
      if (slot.pendingSurge && slot.active?.hash === hash) slot.pendingSurge = false;
    }

    let surgeInUse = this.slots.some((s) => s.surge !== null || (s.pendingSurge && s.restartTimer !== null));
    for (const slot of this.slots) {
      if (this.closed) return;
      if (this.hash !== hash) {
        // The spec changed during this pass: start over with the new one.
        this.again = true;
        return;
      }
      if (slot.restartTimer) continue;
      if (!slot.active) {
        await this.startProcess(slot, 'active', template, hash);
        continue;
      }
      if (slot.active.hash === hash) continue;
      if (slot.surge) {
        if (slot.surge.ready) {
          // The new process serves: the old one is drained and stopped.
          const old = slot.active;
          slot.active = slot.surge;
          slot.surge = null;
          void this.stopProcess(old, true);
          this.options.log({ level: 'info', msg: 'replica updated', app: this.options.app, service: this.name, replica: slot.index, version: slot.active.version });
          surgeInUse = false;
          this.again = true;
        }
        continue;
      }
      if (!slot.active.ready) {
        // Not serving anyway: replace it in place.
        const old = slot.active;
        slot.active = null;
        void this.stopProcess(old, false);
        await this.startProcess(slot, 'active', template, hash);
        continue;
      }
      if (!surgeInUse) {
        surgeInUse = true;
        slot.pendingSurge = false;
        await this.startProcess(slot, 'surge', template, hash);
      }
    }
  }

  /** Starts a process of the current spec as the slot's active or surge process (and records it at once). */
  private async startProcess(slot: Slot, role: 'active' | 'surge', template: ReplicaTemplate, hash: string): Promise<void> {
    const named: Record<string, number> = {};
    const main = await freePort();
    for (const name of Object.keys(template.namedPorts)) named[name] = await freePort();
    if (this.closed) return;
    const ports: ReplicaPorts = { main, named };
    const { command, env } = renderReplica(template, ports, this.options.inheritedEnv);
    const proc: ReplicaProcess = new ReplicaProcess({
      index: slot.index,
      hash,
      version: template.version,
      command,
      cwd: template.cwd,
      env,
      ports,
      probe: probeTarget(template, ports),
      periodMs: template.probe.periodMs,
      onLine: (line) => this.log.append(slot.index, line),
      onChange: () => this.processChanged(slot, proc),
    });
    slot[role] = proc;
    proc.start();
    this.options.log({ level: 'info', msg: 'replica started', app: this.options.app, service: this.name, replica: slot.index, version: template.version, pid: proc.pid, port: main });
    this.options.onProcesses();
  }

  private processChanged(slot: Slot, proc: ReplicaProcess): void {
    if (proc.exit) {
      this.processExited(slot, proc, proc.exit);
    } else if (proc.ready && slot.crash && slot.crash.hash !== proc.hash) {
      slot.crash = null;
    }
    this.reconcile();
    this.options.onChange();
  }

  private processExited(slot: Slot, proc: ReplicaProcess, exit: ReplicaExit): void {
    for (const port of [proc.ports.main, ...Object.values(proc.ports.named)]) releasePort(port);
    const isActive = slot.active === proc;
    const isSurge = slot.surge === proc;
    this.options.onProcesses();
    if (proc.stopping || this.closed || (!isActive && !isSurge) || this.slots[slot.index] !== slot) return;
    // It exited on its own: self-healing.
    if (isActive) slot.active = null;
    else {
      slot.surge = null;
      slot.pendingSurge = true;
    }
    const ranFor = exit.at - proc.startedAt;
    const killed = exit.signal === 'SIGKILL' && this.killedOnPurpose.has(proc);
    slot.restarts++;
    this.restartsTotal++;
    slot.lastExit = `${exit.description}${proc.lastLine ? `: ${proc.lastLine}` : ''}`;
    slot.lastLog = [...proc.lastLines];
    const previous = slot.crash;
    slot.crash = killed
      ? null
      : { hash: proc.hash, version: proc.version, exit, lastLine: proc.lastLine, early: ranFor < HEALTHY_RUN_MS || proc.readyAt === null };
    slot.crashesInARow = slot.crash?.early ? (previous?.early && previous.hash === proc.hash ? slot.crashesInARow + 1 : 1) : 0;
    const delay = slot.backoff.next(killed ? HEALTHY_RUN_MS : ranFor);
    slot.restartAt = Date.now() + delay;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      slot.restartAt = null;
      this.reconcile();
    }, delay);
    this.options.log({ level: 'warn', msg: 'replica exited', app: this.options.app, service: this.name, replica: slot.index, version: proc.version, exit: exit.description, lastLine: proc.lastLine, restartInMs: delay });
  }

  private async stopProcess(proc: ReplicaProcess, drain: boolean): Promise<void> {
    if (this.stopping.has(proc) || proc.exit) return;
    this.stopping.add(proc);
    proc.drain();
    this.options.onChange();
    if (drain) {
      const deadline = Date.now() + DRAIN_MS;
      const ports = [proc.ports.main, ...Object.values(proc.ports.named)];
      while (Date.now() < deadline && !proc.exit && [...this.balancers.values()].some((b) => ports.some((p) => b.connectionsTo(p) > 0))) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await proc.stop(STOP_GRACE_MS);
    this.stopping.delete(proc);
    this.options.onChange();
    this.options.log({ level: 'debug', msg: 'replica stopped', app: this.options.app, service: this.name, replica: proc.index, version: proc.version });
  }

  // --- reading ---------------------------------------------------------------------

  private processes(): ReplicaProcess[] {
    const out = new Set<ReplicaProcess>(this.stopping);
    for (const slot of this.slots) {
      if (slot.active) out.add(slot.active);
      if (slot.surge) out.add(slot.surge);
    }
    return [...out].filter((p) => !p.exit);
  }

  /** Ports of the ready replicas for one service port, in slot order. */
  private backends(key: string): number[] {
    const out: number[] = [];
    for (const slot of this.slots) {
      for (const proc of [slot.active, slot.surge]) {
        if (!proc || !proc.ready || proc.stopping) continue;
        const port = key === '' ? proc.ports.main : proc.ports.named[key];
        if (port !== undefined) out.push(port);
      }
    }
    return out;
  }

  /** A crash-looping slot counts as recovered once a process of its spec stayed ready for HEALTHY_RUN_MS. */
  private recoveredSince(slot: Slot, now: number): boolean {
    const crash = slot.crash!;
    return [slot.active, slot.surge].some((p) => p && p.ready && p.hash === crash.hash && p.startedAt > crash.exit.at && p.readyAt !== null && now - p.readyAt >= HEALTHY_RUN_MS);
  }

  /** The most telling reason a replica of the current spec is not ready, or null. */
  private firstProblemDetail(): string | null {
    const hash = this.hash;
    for (const slot of this.slots) {
      if (slot.restartTimer && slot.lastExit) return `replica ${slot.index} ${slot.lastExit}`;
    }
    const now = Date.now();
    for (const slot of this.slots) {
      const crash = slot.crash;
      if (crash && crash.early && crash.hash === hash && !this.recoveredSince(slot, now)) {
        // Without the restart count: it is in the status beside, and the message stays the same while the loop goes on.
        return `replica ${slot.index} ${crash.exit.description}${crash.lastLine ? `: ${crash.lastLine}` : ''}`;
      }
    }
    for (const slot of this.slots) {
      for (const proc of [slot.surge, slot.active]) {
        if (proc && proc.hash === hash && !proc.ready && !proc.exit) return `replica ${slot.index}${slot.active && slot.active.hash !== hash ? ` (${proc.version})` : ''} not ready: ${proc.probeDetail}`;
      }
    }
    const waiting = this.slots.find((s) => s.active && s.active.hash !== hash);
    if (waiting) return `replica ${waiting.index} still runs ${waiting.active!.version}`;
    if (this.stopping.size > 0) return `${this.stopping.size} replaced replica${this.stopping.size === 1 ? ' is' : 's are'} stopping`;
    if (this.slots.length < this.spec.replicas) return `${this.spec.replicas - this.slots.length} replicas not started`;
    return null;
  }
}

function newSlot(index: number): Slot {
  return { index, active: null, surge: null, restarts: 0, backoff: new RestartBackoff(), restartTimer: null, restartAt: null, pendingSurge: false, lastExit: null, lastLog: [], crash: null, crashesInARow: 0 };
}

/** A replica's last output lines, once a process of it exited. */
function lastLog(slot: Slot): { lastLog?: string[] } {
  return slot.lastLog.length ? { lastLog: slot.lastLog } : {};
}

/** `1.5s`, `250ms`, `2m 5s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}
