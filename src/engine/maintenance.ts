/**
 * Store housekeeping at quiet moments: the embedded database has no autovacuum, so
 * after a while its run tables are read row by row where an index would do (trends
 * go from ~60 ms to ~600 ms at 1,000,000 runs). This runs `store.maintain()` soon
 * after start and then every `everyMs`, but only when no run is queued or running —
 * it blocks the embedded database for a second or two. While runs are queued or
 * running it looks every `busyEveryMs` and calls `maintainUnderLoad` (the store
 * vacuums `runs` alone, once enough runs have finished: a server that is never idle
 * would otherwise slow down).
 */
export interface MaintenanceOptions {
  /** Queue depth and active runs now. */
  stats: () => Promise<{ queueDepth: number; activeRunners: number }>;
  maintain: () => Promise<void>;
  /** The part that cannot wait for an idle moment; resolves true if it did something. */
  maintainUnderLoad?: () => Promise<boolean>;
  /** First look after this long. Default 10 s. */
  firstAfterMs?: number;
  /** Then every this long. Default 30 min. */
  everyMs?: number;
  /** While busy, look every this long. Default 5 s (60 s without `maintainUnderLoad`). */
  busyEveryMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface Maintenance {
  /** Stops the schedule; resolves when a pass in progress has ended. */
  stop(): Promise<void>;
}

export function startMaintenance(o: MaintenanceOptions): Maintenance {
  const log = o.log ?? (() => {});
  const everyMs = o.everyMs ?? 1_800_000;
  const busyEveryMs = Math.min(everyMs, o.busyEveryMs ?? (o.maintainUnderLoad ? 5_000 : 60_000));
  let running: Promise<void> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const pass = async () => {
    let next = everyMs;
    try {
      const { queueDepth, activeRunners } = await o.stats();
      const started = performance.now();
      if (queueDepth > 0 || activeRunners > 0) {
        next = busyEveryMs; // busy: look again soon
        if (await o.maintainUnderLoad?.()) log('debug', 'store maintenance under load done', { ms: Math.round(performance.now() - started) });
      } else {
        await o.maintain();
        log('debug', 'store maintenance done', { ms: Math.round(performance.now() - started) });
      }
    } catch (error) {
      log('warn', 'store maintenance failed', { error: String(error) });
    }
    schedule(next);
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
