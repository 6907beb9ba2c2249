/**
 * The reconcile loop: workers take keys from a `WorkQueue` and call a reconciler
 * for each. The unit of work is an identity (`namespace/name`), never an event:
 * a reconciler reads current state, converges, writes status, and says whether to
 * come back. Every retry, requeue and give-up decision is in `handle` below.
 */
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';

/** What a reconcile asks for next. Nothing (undefined) means "done until something changes". */
export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (polling a slow change). */
  requeueAfterMs?: number;
}

/** An error that retrying cannot fix (bad spec, …): logged, not retried. */
export class TerminalError extends Error {
  readonly code = 'Terminal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  /** Name in logs and metrics (`testrun`). */
  name: string;
  reconcile: Reconciler;
  /** Keys reconciled at once (different keys only). Default 4. */
  workers?: number;
  queue?: WorkQueueOptions;
  metrics?: ControllerMetrics;
  log?: Logger;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly workers: Promise<void>[] = [];
  private readonly log: Logger;
  private started = false;

  constructor(private readonly options: ControllerOptions) {
    this.queue = new WorkQueue(options.queue);
    this.log = options.log ?? silentLogger;
  }

  /** Starts the workers. Keys may be added before. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < (this.options.workers ?? 4); i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.allSettled(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === null) return;
      try {
        await this.handle(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** The one place that decides what happens after a reconcile. */
  private async handle(key: string): Promise<void> {
    const { name, metrics } = this.options;
    const started = performance.now();
    let outcome: 'success' | 'requeue' | 'error' | 'terminal';
    try {
      const result = await this.options.reconcile(key);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        outcome = 'requeue';
        this.queue.addAfter(key, result.requeueAfterMs);
      } else outcome = 'success';
    } catch (error) {
      if (error instanceof TerminalError) {
        outcome = 'terminal';
        this.queue.forget(key);
        this.log('error', 'reconcile failed for good; not retrying', { controller: name, key, error: errorField(error) });
      } else {
        outcome = 'error';
        const retries = this.queue.retries(key);
        // Logged at 1, 2, 4, 8, ... failures in a row, so a long outage does not flood the log.
        if (((retries + 1) & retries) === 0) this.log('warn', 'reconcile failed; retrying with back-off', { controller: name, key, error: errorField(error), failures: retries + 1 });
        this.queue.addRateLimited(key);
      }
    }
    metrics?.observeReconcile(name, outcome, (performance.now() - started) / 1000);
  }
}
