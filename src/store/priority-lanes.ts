/**
 * Two queues in front of a database that runs one statement at a time (PGlite): the
 * engine's work goes first, API reads take what is left — except that while both
 * wait, reads get `READ_SHARE` of the database's time, so reads are slowed down by a
 * busy engine, never starved by it, and a flood of reads leaves the engine the rest.
 * Shares are counted in time, not in statements: one engine statement may be a whole
 * batch of runs' events (`procedures.ts`), a read is usually well under a millisecond.
 * Queued work runs back to back for at most `SLICE_MS`, then the event loop gets a turn
 * (`setImmediate`), so connections are accepted and requests parsed while hundreds of
 * statements wait.
 */
export type Lane = 'engine' | 'reads';

interface Work {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How long queued statements run back to back before the event loop gets a turn, in ms. */
export const SLICE_MS = 5;

/**
 * The share of the database's time API reads get while engine work waits too. Measured
 * on PGlite (`BENCH_ONLY=read-load`, 2026-11-30): counting statements instead (a read
 * after every 8 engine statements) left reads 106/s with p99 3.7 s once batched engine
 * statements took 5–25 ms each. 0.3 → 0.25 (2026-12-01, two runs each): runs under 50
 * closed-loop readers 0.686 / 0.692 → 0.697 / 0.723 of idle, the open loop's read p99
 * 88 / 80 → 110 / 102 ms.
 */
export const READ_SHARE = 0.25;
/** Time used while the other lane waited is forgotten by half every this many ms. */
const HALF_LIFE_MS = 50;

export class PriorityLanes {
  private readonly queues: Record<Lane, Work[]> = { engine: [], reads: [] };
  private busy = false;
  /** Inside `beforePick`: work queued meanwhile waits for the pick under way. */
  private picking = false;
  /** When the current run of back-to-back work began. */
  private sliceStart = 0;
  /** Time each lane's work held the database while the other lane waited (decaying, ms). */
  private readonly used: Record<Lane, number> = { engine: 0, reads: 0 };
  private decayedAt = performance.now();

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
    const now = performance.now();
    const contended = engine.length > 0 && reads.length > 0;
    // Shares count within a time both lanes wait: when one is empty, nobody is owed anything.
    const keep = contended ? Math.pow(0.5, (now - this.decayedAt) / HALF_LIFE_MS) : 0;
    this.used.engine *= keep;
    this.used.reads *= keep;
    this.decayedAt = now;
    const readsTurn = reads.length > 0 && (engine.length === 0 || this.used.reads < READ_SHARE * (this.used.engine + this.used.reads));
    const lane: Lane = readsTurn ? 'reads' : 'engine';
    const work = readsTurn ? reads.shift() : engine.shift();
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
        if (contended) this.used[lane] += performance.now() - now;
        if (performance.now() - this.sliceStart < SLICE_MS) return this.next();
        setImmediate(() => {
          this.sliceStart = performance.now();
          this.next();
        });
      });
  }
}
