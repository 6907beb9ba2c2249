import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunPhase } from '../core/run-phase.js';

/** The engine's Prometheus metrics, in a registry of its own (not prom-client's global). */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly queueDepth: Gauge;
  readonly activeRunners: Gauge;
  readonly duration: Histogram<'phase'>;
  readonly finished: Counter<'phase'>;
  readonly submitted: Counter<'origin'>;

  /** `readStats` is called at scrape time for the cluster-wide queue numbers. */
  constructor(readStats: () => Promise<{ queued: number; running: number }>) {
    let cached: Promise<{ queued: number; running: number }> | null = null;
    const stats = () => {
      // Both gauges are collected in one scrape: read the store once for them.
      if (!cached) {
        cached = readStats();
        setTimeout(() => (cached = null), 250).unref();
      }
      return cached;
    };
    this.queueDepth = new Gauge({
      name: 'topas_queue_depth',
      help: 'Runs waiting to execute (phase Queued), across all instances.',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).queued);
      },
    });
    this.activeRunners = new Gauge({
      name: 'topas_active_runners',
      help: 'Runs executing now (phase Running), across all instances.',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).running);
      },
    });
    this.duration = new Histogram({
      name: 'topas_test_duration_seconds',
      help: 'Execution time of finished runs, by final phase.',
      labelNames: ['phase'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    this.finished = new Counter({
      name: 'topas_runs_total',
      help: 'Runs that reached a terminal phase on this instance, by phase.',
      labelNames: ['phase'],
      registers: [this.registry],
    });
    this.submitted = new Counter({
      name: 'topas_runs_submitted_total',
      help: 'Runs submitted through this instance, by origin.',
      labelNames: ['origin'],
      registers: [this.registry],
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'topas_process_' });
  }

  observeFinished(phase: RunPhase, durationMs: number | null): void {
    this.finished.inc({ phase });
    if (durationMs !== null) this.duration.observe({ phase }, durationMs / 1000);
  }
}
