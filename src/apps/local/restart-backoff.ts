/**
 * How long to wait before restarting a process that exited: exponential, from
 * `initialMs` doubling to `maxMs`, back to `initialMs` once a run lasted `resetAfterMs`
 * (a process that stayed up that long was healthy; its next crash is not a loop).
 */
export interface RestartBackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Largest delay (default 30 s). */
  maxMs?: number;
  /** A run at least this long resets the delay (default 10 s). */
  resetAfterMs?: number;
}

export class RestartBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private last = 0;

  constructor(options: RestartBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.resetAfterMs = options.resetAfterMs ?? 10_000;
  }

  /** The delay before the next start, given how long the process that just exited ran. */
  next(ranForMs: number): number {
    this.last = ranForMs >= this.resetAfterMs || this.last === 0 ? this.initialMs : Math.min(this.last * 2, this.maxMs);
    return this.last;
  }

  /** Forgets past failures. */
  reset(): void {
    this.last = 0;
  }
}
