import type { RunNotification } from './engine.js';

type Listener = (n: RunNotification) => void;

/** In-process fan-out of run notifications to followers (SSE streams, waiters). */
export class RunBus {
  private readonly byRun = new Map<string, Set<Listener>>();
  private readonly all = new Set<Listener>();

  subscribe(runId: string, listener: Listener): () => void {
    let set = this.byRun.get(runId);
    if (!set) this.byRun.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.byRun.get(runId) === set) this.byRun.delete(runId);
    };
  }

  subscribeAll(listener: Listener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  publish(n: RunNotification): void {
    const runId = n.type === 'phase' ? n.run.id : n.runId;
    for (const l of this.byRun.get(runId) ?? []) safely(l, n);
    if (n.type === 'phase') for (const l of this.all) safely(l, n);
  }

  /** Number of runs with at least one follower (for leak checks). */
  get followedRuns(): number {
    return this.byRun.size;
  }
}

function safely(listener: Listener, n: RunNotification): void {
  try {
    listener(n);
  } catch {
    // A broken follower must not break the engine or other followers.
  }
}
