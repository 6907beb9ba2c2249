/**
 * The change log watches are served from: every write is an event with the
 * resourceVersion it produced. The last `window` events are kept, so a watch can
 * resume from any resourceVersion inside the window; older ones get 410 Gone, as
 * with an etcd compaction on the real server.
 */
import type { JsonObject } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  storageKey: string;
  namespace: string;
  /** The object after the change (for DELETED, its last state with the deletion's resourceVersion). */
  object: JsonObject;
  /** The version it replaced (MODIFIED only): a watch with a selector needs both. */
  previous?: JsonObject;
  /** The global resourceVersion this change produced. */
  rv: number;
}

export type StoreListener = (event: StoreEvent) => void;

export class WatchHub {
  private log: StoreEvent[] = [];
  private listeners = new Set<StoreListener>();
  /** The newest resourceVersion no longer in the log (0: nothing dropped yet). */
  private compactedRv = 0;

  constructor(private readonly window: number) {}

  publish(event: StoreEvent): void {
    this.log.push(event);
    if (this.log.length > this.window) {
      const dropped = this.log.splice(0, this.log.length - this.window);
      this.compactedRv = dropped[dropped.length - 1].rv;
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  /** Whether a watch can resume from `rv` (everything after it is still in the log). */
  canResumeFrom(rv: number): boolean {
    return rv >= this.compactedRv;
  }

  /** The oldest resourceVersion still resumable from (for the 410 message). */
  oldestResumable(): number {
    return this.compactedRv;
  }

  /** Events after `rv` still in the log, oldest first. */
  since(rv: number): StoreEvent[] {
    return this.log.filter((e) => e.rv > rv);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
