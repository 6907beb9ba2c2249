/**
 * The retention sweeper: deletes finished runs, and expires their log lines, once
 * they are older than the policy keeps them (`core/retention.ts`), in the background.
 *
 * A sweep runs shortly after start and then every `everyMs`. It works in batches
 * (`batchSize` runs per short transaction, oldest-finished first) and pauses between
 * them, so running work — claims, event writes, ends of runs — gets the database in
 * between: a backlog of a million old runs is worked off over minutes without ever
 * holding up a run. Queued and Running runs are never candidates. With several
 * instances on one database only the leader sweeps (`mayRun`), checked before each batch.
 * Each sweep logs one line with what it deleted.
 */
import { Counter, type Registry } from 'prom-client';
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import { retentionCutoffs, retentionEnabled, type RetentionPolicy } from '../core/retention.js';
import type { Store } from '../store/store.js';

export interface RetentionOptions {
  policy: RetentionPolicy;
  store: Pick<Store, 'deleteRunsBefore' | 'expireLogsBefore'>;
  /** True while this instance may sweep (the leader, when several share the database). Default: always. */
  mayRun?: () => boolean;
  /** First sweep after this long. Default 60 s. */
  firstAfterMs?: number;
  /** Then every this long. Default 10 min. */
  everyMs?: number;
  /** Runs per batch (one transaction). Default 500. */
  batchSize?: number;
  /** Pause between batches, so other work gets the database. Default 20 ms. */
  pauseMs?: number;
  /** The clock cut-offs are computed from (tests move it). Default: now. */
  now?: () => Date;
  log?: Logger;
  /** Where `topas_retention_*` counters are registered (the engine's registry). */
  metrics?: Registry;
  /** Called after each batch, awaited before the next (observability in tests). */
  onBatch?: (batch: RetentionBatch) => void | Promise<void>;
}

/** One batch of a sweep: what kind, and how much it deleted. */
export type RetentionBatch =
  | { kind: 'runs'; runs: number; tests: number }
  | { kind: 'logs'; runs: number; lines: number };

/** What one sweep did. */
export interface RetentionSweep {
  deletedRuns: number;
  deletedTests: number;
  /** Runs whose log lines expired, and how many lines that deleted. */
  expiredLogRuns: number;
  expiredLogLines: number;
  batches: number;
  /** False when it stopped early (shutdown, or this instance stopped leading). */
  complete: boolean;
  ms: number;
}

export interface RetentionSweeper {
  /** Runs a sweep now (or joins the one in progress). Null when retention is off or this instance may not sweep. */
  sweep(): Promise<RetentionSweep | null>;
  /** Stops the schedule; resolves when a batch in progress has ended (a sweep stops between batches). */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function startRetention(o: RetentionOptions): RetentionSweeper {
  const log = o.log ?? silentLogger;
  const everyMs = o.everyMs ?? 600_000;
  const pauseMs = o.pauseMs ?? 20;
  const mayRun = o.mayRun ?? (() => true);
  const now = o.now ?? (() => new Date());
  const counters = o.metrics ? retentionCounters(o.metrics) : null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionSweep | null> | null = null;

  const go = () => !stopped && mayRun();

  const run = async (): Promise<RetentionSweep | null> => {
    if (!retentionEnabled(o.policy) || !go()) return null;
    const started = performance.now();
    const cut = retentionCutoffs(o.policy, now());
    const sweep: RetentionSweep = { deletedRuns: 0, deletedTests: 0, expiredLogRuns: 0, expiredLogLines: 0, batches: 0, complete: false, ms: 0 };
    let complete = true;
    // Runs first: logs of runs about to be deleted need not expire first.
    if (cut.runsBefore !== null) {
      let after: string | null = null;
      do {
        if (!go()) {
          complete = false;
          break;
        }
        const r = await o.store.deleteRunsBefore({ before: cut.runsBefore, overrides: cut.overrides, batchSize: o.batchSize, after });
        after = r.next;
        sweep.batches++;
        sweep.deletedRuns += r.runs;
        sweep.deletedTests += r.tests;
        counters?.runs.inc(r.runs);
        counters?.tests.inc(r.tests);
        await o.onBatch?.({ kind: 'runs', runs: r.runs, tests: r.tests });
        if (after !== null) await sleep(pauseMs);
      } while (after !== null);
    }
    if (cut.logsBefore !== null && complete) {
      let more = true;
      while (more) {
        if (!go()) {
          complete = false;
          break;
        }
        const r = await o.store.expireLogsBefore({ before: cut.logsBefore, batchSize: o.batchSize });
        more = r.more;
        sweep.batches++;
        sweep.expiredLogRuns += r.runs;
        sweep.expiredLogLines += r.lines;
        counters?.logLines.inc(r.lines);
        await o.onBatch?.({ kind: 'logs', runs: r.runs, lines: r.lines });
        if (more) await sleep(pauseMs);
      }
    }
    sweep.complete = complete;
    sweep.ms = Math.round(performance.now() - started);
    const deleted = sweep.deletedRuns + sweep.expiredLogRuns > 0;
    log(deleted ? 'info' : 'debug', 'retention sweep done', {
      deletedRuns: sweep.deletedRuns,
      deletedTests: sweep.deletedTests,
      expiredLogRuns: sweep.expiredLogRuns,
      expiredLogLines: sweep.expiredLogLines,
      batches: sweep.batches,
      complete,
      ms: sweep.ms,
      runsBefore: cut.runsBefore,
      logsBefore: cut.logsBefore,
    });
    return sweep;
  };

  const sweep = (): Promise<RetentionSweep | null> => {
    running ??= run()
      .catch((error: unknown) => {
        log('warn', 'retention sweep failed; trying again at the next one', { error: errorField(error) });
        return null;
      })
      .finally(() => (running = null));
    return running;
  };

  const schedule = (ms: number) => {
    if (stopped || !retentionEnabled(o.policy)) return;
    timer = setTimeout(() => void sweep().then(() => schedule(everyMs)), ms);
    timer.unref();
  };
  schedule(o.firstAfterMs ?? 60_000);

  return {
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function retentionCounters(registry: Registry) {
  return {
    runs: new Counter({
      name: 'topas_retention_deleted_runs_total',
      help: 'Finished runs deleted by retention (TOPAS_RETENTION_DAYS) on this instance.',
      registers: [registry],
    }),
    tests: new Counter({
      name: 'topas_retention_deleted_tests_total',
      help: 'Tests whose every result was deleted by retention, deleted with their last result, on this instance.',
      registers: [registry],
    }),
    logLines: new Counter({
      name: 'topas_retention_expired_log_lines_total',
      help: 'Log lines deleted by log retention (TOPAS_LOG_RETENTION_DAYS) on this instance.',
      registers: [registry],
    }),
  };
}
