/**
 * Checkpoints for the embedded database. PGlite runs PostgreSQL in single-user mode,
 * where no checkpointer process exists and nothing else checkpoints (the server only
 * asks its checkpointer for one when it runs under a postmaster): until the database
 * closes, every byte of write-ahead log stays in `pgdata/pg_wal` — ~6 KB a trivial run,
 * gigabytes for a server left up a week — and a restart after a crash replays all of
 * it. This does what PostgreSQL's checkpointer does, on the database's own thread: a
 * checkpoint once `walBytes` of log were written since the last one, or `seconds`
 * after it when anything was written; each checkpoint lets PostgreSQL recycle the
 * segments before it, so `pg_wal` stays near a few times `walBytes`.
 */

/** What the checkpointer needs of the database: one query, one statement, each run alone on it. */
export interface CheckpointTarget {
  /** The log written since the last checkpoint began (bytes) and that checkpoint's age (seconds). */
  pending(): Promise<{ walBytes: number; ageSeconds: number; sinceRecord: number }>;
  checkpoint(): Promise<void>;
}

export interface CheckpointPolicy {
  /** Checkpoint once this much log was written since the last checkpoint. Default 64 MiB. */
  walBytes?: number;
  /** Checkpoint when the last one is this old and anything was written since. Default 300 (PostgreSQL's `checkpoint_timeout`). */
  seconds?: number;
  /** How often to look, in ms. Default 5,000. */
  everyMs?: number;
}

/** Log a checkpoint record and its neighbours take: less than this written since it is "nothing written". */
const RECORD_SLACK_BYTES = 1024;

/** The query behind `pending()`: the log since the last checkpoint's redo point and since its record. */
export const PENDING_SQL = `SELECT (pg_current_wal_insert_lsn() - redo_lsn)::float8 AS wal_bytes,
       (pg_current_wal_insert_lsn() - checkpoint_lsn)::float8 AS since_record,
       extract(epoch FROM now() - checkpoint_time)::float8 AS age_seconds
  FROM pg_control_checkpoint()`;

/** Whether a checkpoint is due, by `policy`, given what `pending()` said. */
export function checkpointDue(pending: { walBytes: number; ageSeconds: number; sinceRecord: number }, policy: Required<Omit<CheckpointPolicy, 'everyMs'>>): boolean {
  if (pending.walBytes >= policy.walBytes) return true;
  return pending.ageSeconds >= policy.seconds && pending.sinceRecord > RECORD_SLACK_BYTES;
}

/**
 * Looks every `everyMs` and checkpoints when due; a look that fails (a full disk) is
 * simply tried again at the next one. `stop()` ends it (before the database closes).
 */
export function startCheckpointer(target: CheckpointTarget, policy: CheckpointPolicy = {}): { stop(): void } {
  const limits = { walBytes: policy.walBytes ?? 64 * 1024 * 1024, seconds: policy.seconds ?? 300 };
  let stopped = false;
  let checking = false;
  const check = async (): Promise<void> => {
    if (stopped || checking) return;
    checking = true;
    try {
      if (checkpointDue(await target.pending(), limits) && !stopped) await target.checkpoint();
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check().catch(() => {}), policy.everyMs ?? 5000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
