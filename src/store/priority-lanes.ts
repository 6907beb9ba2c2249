/**
 * Two queues in front of a database that runs one statement at a time (PGlite): the
 * engine's work goes first, API reads take what is left — except that after
 * `ENGINE_BURST` engine statements in a row a waiting read gets one turn, so reads are
 * slowed down by a busy engine, never starved by it. Queued work runs back
 * to back for at most `SLICE_MS`, then the event loop gets a turn (`setImmediate`), so
 * connections are accepted and requests parsed while hundreds of statements wait.
 */
export type Lane = 'engine' | 'reads';

interface Work {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How long queued statements run back to back before the event loop gets a turn, in ms. */
export const SLICE_MS = 5;

/** Engine statements run in a row, at most, while a read waits. */
export const ENGINE_BURST = 8;

export class PriorityLanes {
  private readonly queues: Record<Lane, Work[]> = { engine: [], reads: [] };
  private busy = false;
  /** Inside `beforePick`: work queued meanwhile waits for the pick under way. */
  private picking = false;
  /** When the current run of back-to-back work began. */
  private sliceStart = 0;
  /** Engine work run in a row while reads waited. */
  private burst = 0;

  /**
   * `beforePick` runs each time the next work is about to be chosen: it may queue work
   * (the PGlite thread takes the requests that arrived meanwhile, so an engine
   * statement that came after a read still goes first).
   */
  constructor(private readonly beforePick?: () => void) {}

  /** Runs `fn` alone (nothing else of either lane meanwhile), after all queued engine work. */
  run<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queues[lane].push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.busy && !this.picking) {
        this.sliceStart = performance.now();
        this.next();
      }
    });
  }

  /** Work waiting in a lane (not counting the one running). */
  waiting(lane: Lane): number {
    return this.queues[lane].length;
  }

  private next(): void {
    if (this.beforePick) {
      this.picking = true;
      try {
        this.beforePick();
      } finally {
        this.picking = false;
      }
    }
    const { engine, reads } = this.queues;
    const readsTurn = reads.length > 0 && (engine.length === 0 || this.burst >= ENGINE_BURST);
    const work = readsTurn ? reads.shift() : engine.shift();
    this.burst = readsTurn || reads.length === 0 ? 0 : this.burst + 1;
    if (!work) {
      this.busy = false;
      return;
    }
    this.busy = true;
    let settled: Promise<unknown>;
    try {
      settled = work.run();
    } catch (error) {
      settled = Promise.reject(error);
    }
    settled
      .then(work.resolve, work.reject)
      .finally(() => {
        if (performance.now() - this.sliceStart < SLICE_MS) return this.next();
        setImmediate(() => {
          this.sliceStart = performance.now();
          this.next();
        });
      });
  }
}
