/**
 * The simulated kubelet's view of the cluster's Services, for the Pods' /etc/hosts
 * (see `hosts-file.ts`): listed and watched over the API like the Pods (listing again
 * on 410 Gone or an error), with listeners told after every change so running Pods'
 * hosts files are rewritten. `refresh()` lists once more, so a Pod starting right after
 * a Service was created sees it even when the watch has not delivered it yet.
 */
import { errorField, type Logger } from '../../../src/core/logger.js';
import type { KubeletApi } from './kubelet-api.js';
import type { K8sObject } from './pod-types.js';

function keyOf(s: K8sObject): string {
  return s.metadata.uid ?? `${s.metadata.namespace}/${s.metadata.name}`;
}

function rvOf(s: K8sObject | undefined): number {
  const rv = Number(s?.metadata.resourceVersion);
  return Number.isFinite(rv) ? rv : 0;
}

export class ServiceDirectory {
  private readonly services = new Map<string, K8sObject>();
  /** Deleted Services' keys and the resourceVersion of their deletion (so an older list does not bring them back). */
  private readonly deletedAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly api: KubeletApi,
    private readonly logger: Logger,
  ) {}

  /** Every Service known now. */
  all(): K8sObject[] {
    return [...this.services.values()];
  }

  /** Calls `listener` after each change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts watching (once). */
  start(signal: AbortSignal): void {
    this.loop ??= this.watchLoop(signal);
  }

  async stopped(): Promise<void> {
    await this.loop?.catch(() => {});
  }

  /** Lists the Services now and merges them into the view (errors leave the view as it is). */
  async refresh(signal?: AbortSignal): Promise<string> {
    const list = await this.api.listServices(signal);
    this.merge(list.items, Number(list.resourceVersion));
    return list.resourceVersion;
  }

  /**
   * A list taken at `listRv` may be older than what the watch already delivered (both run
   * at once): a Service is taken from it only when newer than the one held and not deleted
   * since, and one held is dropped only when the list is newer than it.
   */
  private merge(items: K8sObject[], listRv: number): void {
    this.apply(() => {
      const listed = new Set<string>();
      for (const s of items) {
        const key = keyOf(s);
        listed.add(key);
        const held = this.services.get(key);
        if ((held && rvOf(held) >= rvOf(s)) || (this.deletedAt.get(key) ?? 0) >= rvOf(s)) continue;
        this.services.set(key, s);
      }
      for (const [key, held] of this.services) if (!listed.has(key) && !(rvOf(held) > listRv)) this.services.delete(key);
    });
  }

  /** Runs a change of the view and tells the listeners when the hosts files would differ. */
  private apply(change: () => void): void {
    const before = JSON.stringify(this.summary());
    change();
    if (JSON.stringify(this.summary()) !== before) this.changed();
  }

  /** What the hosts files depend on: names and cluster IPs. */
  private summary(): string[] {
    return this.all()
      .map((s) => `${s.metadata.namespace}/${s.metadata.name}=${(s.spec as { clusterIP?: string } | undefined)?.clusterIP ?? ''}`)
      .sort();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async watchLoop(signal: AbortSignal): Promise<void> {
    let backOff = 100;
    while (!signal.aborted) {
      try {
        let resourceVersion = await this.refresh(signal);
        backOff = 100;
        for (;;) {
          const end = await this.api.watchServices(
            resourceVersion,
            (event) => {
              if (event.object.metadata?.resourceVersion) resourceVersion = event.object.metadata.resourceVersion;
              if (event.type === 'BOOKMARK') return;
              const key = keyOf(event.object);
              this.apply(() => {
                if (event.type === 'DELETED') {
                  this.services.delete(key);
                  this.deletedAt.set(key, rvOf(event.object));
                } else if (!(rvOf(this.services.get(key)) > rvOf(event.object))) {
                  this.services.set(key, event.object);
                }
              });
            },
            signal,
          );
          if (end === 'gone' || signal.aborted) break;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.logger('warn', 'kubelet service watch failed; listing again', { error: errorField(error) });
        await new Promise((resolve) => setTimeout(resolve, backOff));
        backOff = Math.min(backOff * 2, 5000);
      }
    }
  }
}
