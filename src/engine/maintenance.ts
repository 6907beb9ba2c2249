/**
 * Store housekeeping at quiet moments: the embedded database has no autovacuum, so
 * after a while its run tables are read row by row where an index would do (trends
 * go from ~60 ms to ~600 ms at 1,000,000 runs). This runs `store.maintain()` soon
 * after start and then every `everyMs`, but only when no run is queued or running —
 * it blocks the embedded database for a second or two.
 */
export interface MaintenanceOptions {
  /** Queue depth and active runs now. */
  stats: () => Promise<{ queueDepth: number; activeRunners: number }>;
  maintain: () => Promise<void>;
  /** First look after this long. Default 10 s. */
  firstAfterMs?: number;
  /** Then every this long. Default 30 min. */
  everyMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface Maintenance {
  /** Stops the schedule; resolves when a pass in progress has ended. */
  stop(): Promise<void>;
}

export function startMaintenance(o: MaintenanceOptions): Maintenance {
  const log = o.log ?? (() => {});
  const everyMs = o.everyMs ?? 1_800_000;
  let running: Promise<void> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const pass = async () => {
    try {
      const { queueDepth, activeRunners } = await o.stats();
      if (queueDepth > 0 || activeRunners > 0) return schedule(Math.min(everyMs, 60_000)); // busy: look again soon
      const started = performance.now();
      await o.maintain();
      log('debug', 'store maintenance done', { ms: Math.round(performance.now() - started) });
    } catch (error) {
      log('warn', 'store maintenance failed', { error: String(error) });
    }
    schedule(everyMs);
  };
  const tick = () => {
    if (stopped) return;
    running = pass().finally(() => (running = null));
  };
  schedule(o.firstAfterMs ?? 10_000);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
