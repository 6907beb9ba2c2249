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

export class ServiceDirectory {
  private readonly services = new Map<string, K8sObject>();
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

  /** Lists the Services now and replaces the view (errors leave the view as it is). */
  async refresh(signal?: AbortSignal): Promise<string> {
    const list = await this.api.listServices(signal);
    this.replace(list.items);
    return list.resourceVersion;
  }

  private replace(items: K8sObject[]): void {
    const before = JSON.stringify(this.summary());
    this.services.clear();
    for (const s of items) this.services.set(s.metadata.uid ?? `${s.metadata.namespace}/${s.metadata.name}`, s);
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
              const key = event.object.metadata.uid ?? `${event.object.metadata.namespace}/${event.object.metadata.name}`;
              const before = JSON.stringify(this.summary());
              if (event.type === 'DELETED') this.services.delete(key);
              else this.services.set(key, event.object);
              if (JSON.stringify(this.summary()) !== before) this.changed();
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
