/**
 * The run queue in SQL: which Queued runs may start now, and the claim that starts them
 * (Queued → Running, owned by one executor) oldest first, never past the one global
 * limit. The engine's dispatcher (`engine/run-engine.ts`) claims through the store.
 */
import { queryJsonRows } from './json-rows.js';
import type { SqlExecutor } from './sql.js';

/**
 * Queued runs that must wait because of their App (CTEs ending in `app_blocked`):
 * a run that changes its App starts only when it is the App's oldest queued run and
 * nothing runs on the App; a read-only run starts when no changing run is running on
 * the App or queued before it (so writers are not starved). Runs without an App are
 * never blocked.
 */
export const APP_BLOCKED_CTES = `app_busy AS MATERIALIZED (
    SELECT app_name, bool_and(app_read_only) AS read_only
      FROM runs WHERE phase = 'Running' AND app_name IS NOT NULL GROUP BY app_name
  ), app_waiting AS MATERIALIZED (
    SELECT id, app_name, app_read_only,
           row_number() OVER w AS pos,
           count(*) FILTER (WHERE NOT app_read_only) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS writers_before
      FROM runs WHERE phase = 'Queued' AND app_name IS NOT NULL
    WINDOW w AS (PARTITION BY app_name ORDER BY created_at, id)
  ), app_blocked AS (
    SELECT q.id FROM app_waiting q LEFT JOIN app_busy b ON b.app_name = q.app_name
     WHERE NOT ((NOT q.app_read_only AND q.pos = 1 AND b.app_name IS NULL)
             OR (q.app_read_only AND q.writers_before = 0 AND coalesce(b.read_only, true)))
  )`;

/** Advisory lock key that serialises claimers so the global Running count is exact ("topasclm"). */
export const CLAIM_LOCK = 0x746f70617363_6c6dn.toString();

/**
 * Takes the claimers' lock ($1: `CLAIM_LOCK`) and, for the rest of the transaction, keeps
 * the planner off sequential scans: a claim or an insert that starts runs touches a
 * handful of rows by index, whatever the statistics say. On a fresh database they say the
 * table is empty until autovacuum first analyzes it (a minute or more), and a connection
 * keeps the plan it made then (`pg-statements.ts`): the claim's update by id was a
 * sequential scan of `runs`, every claim, under this lock — throughput fell from ~1,000 to
 * ~570 runs/s within a minute of a fresh start (32 submitters, 47,000 runs, 2026-12-02).
 * One statement, so the setting costs no round trip.
 */
export const CLAIM_LOCK_BY_INDEX = `SELECT pg_advisory_xact_lock($1::bigint), set_config('enable_seqscan', 'off', true)`;

/**
 * Runs Running now, from `run_counts` (exact at every commit: the statement triggers
 * of migration 004 keep it). Counting `runs` instead walks every entry a finished run
 * left in `runs_active_idx` until the next VACUUM: thousands of dead entries under load,
 * the most expensive part of a claim.
 */
export const RUNNING_NOW = `(SELECT coalesce(sum(n), 0) FROM run_counts WHERE phase = 'Running')`;
/** Runs Queued now, from `run_counts` (as `RUNNING_NOW`, and for the same reason). */
export const QUEUED_NOW = `(SELECT coalesce(sum(n), 0) FROM run_counts WHERE phase = 'Queued')`;

/** Starts the runs a statement's WHERE picks, owned by $1, returning them whole. */
const START_PICKED = `UPDATE runs SET phase = 'Running', owner = $1, started_at = now(), cancel_requested = false`;

/** A claim on the embedded database (PGlite), as `claimEmbeddedWith` takes it. */
export interface EmbeddedClaim {
  owner: string;
  /** At most this many runs. */
  max: number;
  /** Never more than this many Running in all. */
  globalLimit: number;
  /**
   * No run still Queued was created before this instant (ISO), or null when unknown:
   * the pick's index scan starts here (see `PostgresStore.queuedSince`).
   */
  queuedSince: string | null;
  /** Whether runs that target an App may be Queued or Running: when not, the App rule is left out. */
  withApps: boolean;
}

export interface EmbeddedClaimResult {
  /** The claimed runs' rows. */
  rows: Record<string, unknown>[];
  /** With `withApps`: whether any run that targets an App is Queued or Running after the claim. */
  appRunsActive: boolean | null;
}

/**
 * The embedded claim, a procedure (`procedures.ts`): PGlite is one session in one
 * process, so the count, the pick and the update need no lock, and as short statements
 * of their own each keeps one plan (a single statement with them all as CTEs took
 * 5.6 ms a claim under load with the plan PostgreSQL kept for it, 3.1 ms planned for
 * its arguments each time; `BENCH_ONLY=throughput`, 2026-11-30). With runs that target
 * an App it is one statement with the App rules, planned for its arguments.
 */
export async function claimEmbeddedWith(tx: SqlExecutor, claim: EmbeddedClaim): Promise<EmbeddedClaimResult> {
  if (claim.withApps) return claimWithApps(tx, claim);
  const { rows: counted } = await tx.query<{ running: number; queued: number }>(`SELECT ${RUNNING_NOW}::int AS running, ${QUEUED_NOW}::int AS queued`);
  const { running, queued } = counted[0]!;
  const n = Math.min(claim.max, claim.globalLimit - Number(running), Number(queued));
  if (n <= 0) return { rows: [], appRunsActive: null };
  let { rows: picked } = await tx.query<{ id: string }>(
    `SELECT id FROM runs WHERE phase = 'Queued' AND created_at >= $1::timestamptz ORDER BY created_at, id LIMIT $2`,
    [claim.queuedSince ?? '-infinity', n],
  );
  // Fewer than there is room for and are Queued: some are older than `queuedSince`.
  if (picked.length < n) ({ rows: picked } = await tx.query<{ id: string }>(`SELECT id FROM runs WHERE phase = 'Queued' ORDER BY created_at, id LIMIT $1`, [n]));
  const rows = await queryJsonRows(
    tx,
    `${START_PICKED}
      WHERE id = ANY($2::text[]) AND phase = 'Queued'
     RETURNING *`,
    [claim.owner, picked.map((p) => p.id)],
  );
  return { rows, appRunsActive: null };
}

/** The embedded claim while runs that target an App may be Queued or Running: one statement with the App rules. */
async function claimWithApps(tx: SqlExecutor, claim: EmbeddedClaim): Promise<EmbeddedClaimResult> {
  await tx.exec('SET LOCAL plan_cache_mode = force_custom_plan');
  const rows = await queryJsonRows(
    tx,
    `WITH room AS (
       SELECT GREATEST(0, LEAST($2::int, $3::int - ${RUNNING_NOW}::int)) AS n
     ), ${APP_BLOCKED_CTES}, picked AS MATERIALIZED (
       SELECT id FROM runs WHERE phase = 'Queued' AND NOT (id = ANY(ARRAY(SELECT id FROM app_blocked)))
        ORDER BY created_at, id LIMIT (SELECT n FROM room)
     )
     ${START_PICKED}
      WHERE id = ANY(ARRAY(SELECT id FROM picked))
     RETURNING *`,
    [claim.owner, claim.max, claim.globalLimit],
  );
  const { rows: active } = await tx.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM runs WHERE phase IN ('Queued','Running') AND app_name IS NOT NULL) AS any`,
  );
  return { rows, appRunsActive: active[0]!.any };
}

/** The columns of a new run, as `createRuns` passes them (one JSON array, `ord` its position). */
export const NEW_RUN_ROWS = `jsonb_to_recordset($1::jsonb) AS x(ord int, id text, name text, origin text, k8s_ref jsonb, app_name text, app_read_only boolean,
                                        source jsonb, definition_id text, env jsonb, timeout_seconds int, labels jsonb)`;

/** Inserts runs Queued. */
export const INSERT_QUEUED_RUNS = `INSERT INTO runs (id, name, phase, origin, k8s_ref, app_name, app_read_only, source, definition_id, env, timeout_seconds, labels)
  SELECT id, name, 'Queued', origin, k8s_ref, app_name, app_read_only, source, definition_id, env, timeout_seconds, labels
    FROM ${NEW_RUN_ROWS}
  RETURNING *`;

/**
 * Inserts runs, the first of them Running owned by $2 when they can start at once
 * (claim at insert): at most $3, only runs without an App (the App rules are the
 * claim's), none while a run is Queued (it would pass older ones), and no more than
 * $4 Running in all. PostgreSQL: under the claimers' advisory lock (`insertStartingSharedWith`).
 */
export const INSERT_STARTING_RUNS = `WITH room AS (
    SELECT CASE WHEN ${QUEUED_NOW} > 0 THEN 0
                ELSE GREATEST(0, LEAST($3::int, $4::int - ${RUNNING_NOW}::int)) END AS n
  ), x AS (
    SELECT x.*, (x.app_name IS NULL AND count(*) FILTER (WHERE x.app_name IS NULL) OVER (ORDER BY x.ord) <= (SELECT n FROM room)) AS starts
      FROM ${NEW_RUN_ROWS}
  )
  INSERT INTO runs (id, name, phase, owner, started_at, origin, k8s_ref, app_name, app_read_only, source, definition_id, env, timeout_seconds, labels)
  SELECT id, name, CASE WHEN starts THEN 'Running' ELSE 'Queued' END, CASE WHEN starts THEN $2::text END, CASE WHEN starts THEN now() END,
         origin, k8s_ref, app_name, app_read_only, source, definition_id, env, timeout_seconds, labels
    FROM x ORDER BY ord
  RETURNING *`;

/** A claim on a shared PostgreSQL, as `claimSharedWith` takes it. */
export interface SharedClaim {
  owner: string;
  /** At most this many runs. */
  max: number;
  /** Never more than this many Running in all. */
  globalLimit: number;
}

/** New runs to insert, starting the first of them when there is room (`INSERT_STARTING_RUNS`), as `insertStartingSharedWith` takes them. */
export interface SharedStartingInsert extends SharedClaim {
  /** The runs' columns as one JSON array (`NEW_RUN_ROWS`). */
  json: string;
}

/**
 * The insert that starts runs on a shared PostgreSQL, a procedure (`procedures.ts`):
 * under the claimers' lock, so the Running count stays exact against claims and other
 * inserts.
 */
export async function insertStartingSharedWith(tx: SqlExecutor, insert: SharedStartingInsert): Promise<Record<string, unknown>[]> {
  await tx.query(CLAIM_LOCK_BY_INDEX, [CLAIM_LOCK]);
  return queryJsonRows(tx, INSERT_STARTING_RUNS, [insert.json, insert.owner, insert.max, insert.globalLimit]);
}

/**
 * The claim's statement on a shared PostgreSQL: starts up to $2 Queued runs, oldest
 * first and by the App rules, owned by $1. MATERIALIZED: the LIMITed, locked pick runs
 * exactly once (an IN-subquery may be planned as a join that does not honour the
 * limit); the picked ids then go by primary key (`CLAIM_LOCK_BY_INDEX`). The picked rows
 * are locked by us, so they are still Queued.
 */
export const CLAIM_SHARED = `WITH ${APP_BLOCKED_CTES}, picked AS MATERIALIZED (
       SELECT id FROM runs WHERE phase = 'Queued' AND NOT (id = ANY(ARRAY(SELECT id FROM app_blocked)))
        ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     ${START_PICKED}
      WHERE id = ANY(ARRAY(SELECT id FROM picked))
     RETURNING *`;

/**
 * The claim on a shared PostgreSQL, a procedure (`procedures.ts`) in one transaction: claimers are
 * serialised by an advisory lock (else two could both see room for N more), the picked
 * rows locked and skipped by others.
 */
export async function claimSharedWith(tx: SqlExecutor, { owner, max, globalLimit }: SharedClaim): Promise<Record<string, unknown>[]> {
  await tx.query(CLAIM_LOCK_BY_INDEX, [CLAIM_LOCK]);
  const { rows: counted } = await tx.query<{ n: number }>(`SELECT ${RUNNING_NOW}::int AS n`);
  const n = Math.min(max, globalLimit - Number(counted[0]!.n));
  if (n <= 0) return [];
  return queryJsonRows(tx, CLAIM_SHARED, [owner, n]);
}
