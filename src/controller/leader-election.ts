/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
 * leaderelection does it: the holder renews `spec.renewTime` every `retryPeriod`;
 * a candidate takes the Lease when it is free, released, or not renewed for
 * `leaseDuration` as measured by the candidate's own clock since it last saw the
 * Lease change (so clock skew between machines does not matter). Every write is an
 * update with the read resourceVersion: two candidates never both win. A leader that
 * cannot renew within `renewDeadline` stops leading before another can take over.
 */
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import { isAlreadyExists, isConflict, RESOURCES, type KubeApi, type KubeObject } from '../kube/kube-api.js';
import { controllerLease, formatMicroTime } from '../kubernetes/manifests/lease.js';

export interface LeaderElectionOptions {
  api: KubeApi;
  namespace: string;
  /** The Lease's name. Default `topas-controller`. */
  name?: string;
  /** This candidate's identity (pod name + a random suffix). */
  identity: string;
  /** How long a Lease not renewed stays taken. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  /** Called once leadership is lost (not on a graceful `stop`). */
  onStoppedLeading: () => void | Promise<void>;
  log?: Logger;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** The Lease as last read, and when (our clock) its holder or renewTime last changed. */
  private observed: { spec: LeaseSpec; at: number } | null = null;
  private lastRenew = 0;
  private readonly o: Required<Omit<LeaderElectionOptions, 'log'>> & { log: Logger };

  constructor(options: LeaderElectionOptions) {
    this.o = { name: 'topas-controller', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, log: silentLogger, ...options };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Whether this leader may act as one right now: it leads and its last successful
   * renewal *began* within `renewDeadline`. A leader that was paused (SIGSTOP, a long
   * GC pause, a frozen VM) still believes it leads when it resumes, until its next
   * attempt answers; by then another candidate may hold the Lease (it can take an
   * expired Lease after `leaseDuration` > `renewDeadline`). Acting only while this is
   * true keeps a resumed leader from starting work in that window.
   */
  get holdsLease(): boolean {
    return this.leading && Date.now() - this.lastRenew < this.o.renewDeadlineMs;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so another takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      await this.release().catch((error) => this.o.log('warn', 'releasing the leader Lease failed', { error: errorField(error) }));
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    // When the attempt began, not when it answered: an answer read after a pause is old news.
    const attemptAt = Date.now();
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) {
        this.lastRenew = attemptAt;
        if (!this.leading) {
          this.leading = true;
          this.o.log('info', 'became the leader', { lease: this.o.name, identity: this.o.identity });
          await this.o.onStartedLeading();
        }
      } else if (this.leading) await this.lose('another instance holds the Lease');
    } catch (error) {
      this.o.log('warn', 'leader election: acquiring or renewing the Lease failed', { error: errorField(error), leading: this.leading });
      if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs) await this.lose('could not renew the Lease within the renew deadline');
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs);
      this.timer.unref();
    }
  }

  private async lose(why: string): Promise<void> {
    this.leading = false;
    this.o.log('warn', 'stopped leading', { lease: this.o.name, identity: this.o.identity, why });
    await this.o.onStoppedLeading();
  }

  /** One attempt; true when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    const now = new Date();
    const durationSeconds = Math.ceil(this.o.leaseDurationMs / 1000);
    const current = await api.find<Lease>(RESOURCES.lease, namespace, name);
    if (!current) {
      try {
        // crd's builder (MicroTime times, managed-by label); its name is the election's.
        const lease = controllerLease({ namespace, holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 });
        await api.create(RESOURCES.lease, namespace, { ...lease, metadata: { ...lease.metadata, name } });
        this.observed = { spec: { holderIdentity: identity }, at: Date.now() };
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    }
    const spec = current.spec ?? {};
    if (!this.observed || this.observed.spec.holderIdentity !== spec.holderIdentity || this.observed.spec.renewTime !== spec.renewTime) {
      this.observed = { spec, at: Date.now() };
    }
    const holder = spec.holderIdentity || '';
    const mine = holder === identity;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = this.observed.at + leaseMs <= Date.now();
    if (holder && !mine && !expired) return false;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: mine ? (spec.acquireTime ?? formatMicroTime(now)) : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      await api.update(RESOURCES.lease, namespace, { ...current, spec: next });
      this.observed = { spec: next, at: Date.now() };
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else wrote it first
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { api, namespace, name, identity } = this.o;
    const current = await api.find<Lease>(RESOURCES.lease, namespace, name);
    if (!current || current.spec?.holderIdentity !== identity) return;
    await api.update(RESOURCES.lease, namespace, {
      ...current,
      spec: { ...current.spec, holderIdentity: null, acquireTime: null, renewTime: formatMicroTime(new Date()), leaseDurationSeconds: 1 },
    });
  }
}
