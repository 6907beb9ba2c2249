import type { Sql, SqlExecutor } from './sql.js';

export interface SeedOptions {
  /** Newest possible created_at. Default now. */
  now?: Date;
  /** created_at is spread uniformly over this many days before `now`. Default 90. */
  days?: number;
  /** Rows per INSERT statement (bounds memory). Default 100,000. */
  chunkSize?: number;
  /**
   * Drop the secondary indexes of `runs` before inserting and rebuild them after
   * (inside the same transaction, so a failure leaves the schema intact). Building
   * an index once is much faster than maintaining it row by row. Default: when
   * count >= 10,000.
   */
  rebuildIndexes?: boolean;
}

/**
 * Inserts `count` synthetic finished runs with set-based SQL (generate_series), for
 * benchmarks and index tests. The mix: ~82% Passed, 10% Failed, 4% Error, 2%
 * TimedOut, 2% Cancelled; origins api/cli/ui/crd/schedule; 8 apps (and no app);
 * labels team/env (10% also priority=high); names like `checkout-smoke-42`; 20%
 * started from one of 50 definitions (`seed-def-N`). One transaction. Returns the
 * rows inserted.
 */
export async function seedRuns(sql: Sql, count: number, options: SeedOptions = {}): Promise<number> {
  const rebuild = options.rebuildIndexes ?? count >= 10_000;
  return sql.transaction(async (tx) => {
    if (!rebuild) return insertRuns(tx, count, options);
    const { rows } = await tx.query<{ name: string; def: string }>(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = 'runs'::regclass AND NOT x.indisprimary AND NOT x.indisunique`,
    );
    for (const index of rows) await tx.exec(`DROP INDEX ${quoteIdent(index.name)}`);
    const inserted = await insertRuns(tx, count, options);
    for (const index of rows) await tx.exec(index.def);
    return inserted;
  });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function insertRuns(sql: SqlExecutor, count: number, options: SeedOptions): Promise<number> {
  const now = (options.now ?? new Date()).toISOString();
  const days = options.days ?? 90;
  const chunk = options.chunkSize ?? 100_000;
  let inserted = 0;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    const { affectedRows } = await sql.query(SEED_SQL, [now, days, from, to]);
    inserted += affectedRows;
  }
  return inserted;
}

const SEED_SQL = /* sql */ `
WITH g AS (
  SELECT i,
         date_trunc('milliseconds', $1::timestamptz - random() * $2::double precision * interval '1 day') AS created_at,
         random() AS rp,
         random() AS ro,
         (random() * 2000000000)::int AS rn,
         (random() * 600000)::int AS dur
    FROM generate_series($3::int, $4::int) AS i
), r AS (
  SELECT g.*,
         lpad(to_hex((extract(epoch FROM created_at) * 1000)::bigint), 12, '0') || md5(i::text || ':' || rn::text) AS hex,
         CASE WHEN rp < 0.10 THEN 'Failed' WHEN rp < 0.14 THEN 'Error' WHEN rp < 0.16 THEN 'TimedOut'
              WHEN rp < 0.18 THEN 'Cancelled' ELSE 'Passed' END AS phase
    FROM g
)
INSERT INTO runs (id, name, phase, origin, app_name, source, definition_id, env, timeout_seconds, labels,
                  created_at, started_at, finished_at, duration_ms,
                  steps_passed, steps_failed, steps_skipped, assertions_passed, assertions_failed,
                  reason, message, owner)
SELECT substr(hex, 1, 8) || '-' || substr(hex, 9, 4) || '-7' || substr(hex, 14, 3) || '-8' || substr(hex, 18, 3) || '-' || substr(hex, 21, 12),
       (ARRAY['checkout','login','search','payment','signup','cart','profile','inventory','shipping','notifications','reports','admin'])[1 + rn % 12]
         || '-' || (ARRAY['smoke','regression','e2e','load','contract'])[1 + (rn / 12) % 5] || '-' || ((rn / 60) % 100)::text,
       phase,
       CASE WHEN ro < 0.4 THEN 'api' WHEN ro < 0.6 THEN 'cli' WHEN ro < 0.75 THEN 'ui' WHEN ro < 0.9 THEN 'crd' ELSE 'schedule' END,
       (ARRAY['shop','billing','search','auth','catalog','orders','payments','ledger',NULL]::text[])[1 + (rn / 7) % 9],
       CASE WHEN rn % 5 = 0
            THEN jsonb_build_object('type', 'definition', 'definitionId', 'seed-def-' || (rn / 5) % 50, 'script', '-- seeded')
            ELSE jsonb_build_object('type', 'inline', 'script', '-- seeded', 'fileName', 'seed.lua') END,
       CASE WHEN rn % 5 = 0 THEN 'seed-def-' || (rn / 5) % 50 END,
       '{}'::jsonb,
       600,
       jsonb_build_object('team', (ARRAY['core','growth','platform','data','mobile'])[1 + (rn / 11) % 5],
                          'env', (ARRAY['dev','staging','prod'])[1 + (rn / 13) % 3])
         || CASE WHEN rn % 10 = 3 THEN '{"priority":"high"}'::jsonb ELSE '{}'::jsonb END,
       created_at,
       created_at + interval '1 second',
       created_at + interval '1 second' + dur * interval '1 millisecond',
       dur,
       rn % 20,
       (phase = 'Failed')::int,
       rn % 3,
       rn % 50,
       (phase = 'Failed')::int,
       CASE phase WHEN 'Failed' THEN 'AssertionFailed' WHEN 'Error' THEN 'ScriptError' WHEN 'TimedOut' THEN 'Timeout'
                  WHEN 'Cancelled' THEN 'Cancelled' END,
       CASE WHEN phase <> 'Passed' THEN 'seeded ' || lower(phase) END,
       'seed'
  FROM r
`;

export interface SeedTestResultsOptions {
  /** Test cases per run. Default 10. */
  testsPerRun?: number;
  /** Distinct test keys, about: runs are spread over `keys / testsPerRun` suites. Default 2,000. */
  keys?: number;
  /** Runs per INSERT statement (bounds memory). Default 20,000. */
  chunkRuns?: number;
  /** Drop the secondary indexes of `test_results` while inserting and rebuild them after. Default: when there are >= 10,000 runs. */
  rebuildIndexes?: boolean;
  /** Called after each chunk with the test results inserted so far. */
  progress?: (inserted: number) => void;
}

/**
 * Gives every finished run `testsPerRun` test cases in `test_results` and builds
 * `tests` from them, with set-based SQL, for benchmarks at scale (migration 009's
 * tables; a store with no test results yet). Each run belongs to one suite (a hash
 * of its definition, else its name; `keys / testsPerRun` suites), so a key is
 * `area/suite-N.lua::area / test name`. Outcomes follow the run's phase: a Passed
 * run's cases pass (2% Skipped); a Failed run has one Failed case: in 95% of failed
 * runs its suite's fragile test (those flip and read as flaky); an Error, TimedOut or
 * Cancelled run has one Error case (the fragile test in 80% of them), the cases
 * before it Passed and after it Skipped. Failure messages rotate by day among ones the default category rules
 * sort into Regression, Missing Component, Config Gap and Platform Issue. `tests`
 * gets counts, first/last seen, the last ≤100 outcomes and durations newest first
 * and the last failure, as `recordTestResults` keeps them. Foreign keys are not
 * checked while inserting (`session_replication_role = replica`: the rows reference
 * existing runs by construction; on PostgreSQL this needs a superuser). One
 * transaction. Returns the test results inserted.
 */
export async function seedTestResults(sql: Sql, options: SeedTestResultsOptions = {}): Promise<number> {
  const perRun = options.testsPerRun ?? 10;
  const suites = Math.max(1, Math.round((options.keys ?? 2000) / perRun));
  const chunk = options.chunkRuns ?? 20_000;
  return sql.transaction(async (tx) => {
    const { rows: counted } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE phase NOT IN ('Queued', 'Running')`);
    const rebuild = options.rebuildIndexes ?? counted[0]!.n >= 10_000;
    const { rows: indexes } = rebuild
      ? await tx.query<{ name: string; def: string }>(
          `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'test_results'::regclass AND NOT x.indisprimary AND NOT x.indisunique`,
        )
      : { rows: [] };
    for (const index of indexes) await tx.exec(`DROP INDEX ${quoteIdent(index.name)}`);
    await tx.exec(`SET LOCAL session_replication_role = replica`);
    let inserted = 0;
    for (let after = ''; ; ) {
      const { rows } = await tx.query<{ last: string | null }>(
        `SELECT max(id) AS last FROM (SELECT id FROM runs WHERE id > $1 AND phase NOT IN ('Queued', 'Running') ORDER BY id LIMIT $2) x`,
        [after, chunk],
      );
      const last = rows[0]?.last;
      if (!last) break;
      const { affectedRows } = await tx.query(SEED_TEST_RESULTS_SQL, [after, last, perRun, suites]);
      inserted += affectedRows;
      options.progress?.(inserted);
      after = last;
    }
    await tx.exec(`SET LOCAL session_replication_role = origin`);
    for (const index of indexes) await tx.exec(index.def);
    await tx.exec(SEED_TESTS_SQL);
    return inserted;
  });
}

const SEED_TEST_RESULTS_SQL = /* sql */ `
WITH r AS (
  SELECT id, name, phase, origin, app_name, definition_id, created_at, reason, message,
         (abs(hashtext(coalesce(definition_id, name))::bigint) % $4::int)::int AS suite,
         random() AS rf, random() AS rb
    FROM runs
   WHERE id > $1 AND id <= $2 AND phase NOT IN ('Queued', 'Running')
), b AS (
  SELECT r.*,
         CASE WHEN phase = 'Failed' THEN CASE WHEN rf < 0.95 THEN suite % $3::int ELSE floor(rb * $3::int)::int END
              WHEN phase <> 'Passed' THEN CASE WHEN rf < 0.8 THEN suite % $3::int ELSE floor(rb * $3::int)::int END END AS bad
    FROM r
), c AS (
  SELECT b.*, i,
         (ARRAY['checkout','login','search','payment','signup','cart','profile','inventory','shipping','notifications','reports','admin'])[1 + suite % 12] AS area,
         CASE WHEN bad IS NULL THEN CASE WHEN random() < 0.02 THEN 'Skipped' ELSE 'Passed' END
              WHEN i = bad THEN CASE WHEN phase = 'Failed' THEN 'Failed' ELSE 'Error' END
              WHEN i < bad OR phase = 'Failed' THEN 'Passed'
              ELSE 'Skipped' END AS outcome,
         abs(hashtext(suite::text || ':' || i::text)::bigint) AS kh
    FROM b CROSS JOIN generate_series(0, $3::int - 1) AS i
), k AS (
  SELECT c.*,
         area || '/suite-' || suite || '.lua' AS cls,
         area || ' / ' || (ARRAY['loads the page','rejects a wrong password','adds an item','pays with a card','lists the orders',
                                 'returns 404 for an unknown id','keeps the session','sorts by price','paginates','logs out'])[1 + i % 10]
              || CASE WHEN i >= 10 THEN ' ' || (i / 10 + 1) ELSE '' END AS tname,
         ((kh % 1000 + (extract(epoch FROM created_at) / 86400)::int) % 6)::int AS fm
    FROM c
)
INSERT INTO test_results (run_id, idx, test_key, classname, name, outcome, duration_ms, message, failure_type, detail,
                          file, line, step_seq, flaky, quarantined, category, category_rule, created_at, origin,
                          definition_id, app_name, revision)
SELECT id, i, cls || '::' || tname, cls, tname, outcome,
       CASE WHEN outcome <> 'Skipped' THEN ((20 + kh % 3000) * (0.5 + random()))::bigint END,
       CASE outcome
         WHEN 'Failed' THEN (ARRAY['expected status 200, got 500','expected 3 items, got 2','getaddrinfo ENOTFOUND payments.shop.svc',
                                   'request failed: 401 Unauthorized','container OOMKilled','timed out waiting for #checkout-button'])[1 + fm]
         WHEN 'Error' THEN coalesce(message, 'the run ended ' || phase)
         WHEN 'Skipped' THEN CASE WHEN bad IS NULL THEN 'not on this platform' ELSE 'not reached: the run ended ' || phase END
       END,
       CASE outcome WHEN 'Failed' THEN 'AssertionFailed' WHEN 'Error' THEN coalesce(reason, 'ScriptError') END,
       CASE outcome
         WHEN 'Failed' THEN (ARRAY['expected status 200, got 500','expected 3 items, got 2','getaddrinfo ENOTFOUND payments.shop.svc',
                                   'request failed: 401 Unauthorized','container OOMKilled','timed out waiting for #checkout-button'])[1 + fm]
                            || E'\\nat ' || cls || ':' || (5 + i * 12) || E'\\nexpected: true\\nactual: false'
         WHEN 'Error' THEN coalesce(message, 'the run ended ' || phase)
       END,
       cls, 5 + i * 12, 1 + i * 4, false, false,
       CASE WHEN outcome = 'Error' THEN 'Regression'
            WHEN outcome = 'Failed' THEN (ARRAY['Regression','Regression','Missing Component','Config Gap','Platform Issue','Regression'])[1 + fm] END,
       CASE WHEN outcome = 'Failed' THEN (ARRAY[NULL,NULL,'missing-component','config-gap','platform-issue',NULL]::text[])[1 + fm] END,
       created_at, origin, definition_id, app_name, NULL
  FROM k
`;

const SEED_TESTS_SQL = /* sql */ `
INSERT INTO tests (key, classname, name, definition_id, app_name, first_seen_at, last_run_at, last_run_id, last_outcome,
                   recent, recent_ms, runs, last_failure_at, last_failure_run_id, last_failure_message, last_failure_category)
SELECT k.test_key, l.classname, l.name, l.definition_id, l.app_name, k.first_seen_at, l.created_at, l.run_id, l.outcome,
       w.recent, w.recent_ms, k.runs, f.created_at, f.run_id, f.message, f.category
  FROM (SELECT test_key, count(*) AS runs, min(created_at) AS first_seen_at FROM test_results GROUP BY test_key) k
 CROSS JOIN LATERAL (SELECT classname, name, definition_id, app_name, created_at, run_id, outcome
                       FROM test_results t WHERE t.test_key = k.test_key
                      ORDER BY created_at DESC, run_id DESC LIMIT 1) l
 CROSS JOIN LATERAL (SELECT string_agg(left(outcome, 1), '' ORDER BY created_at DESC, run_id DESC) AS recent,
                            array_agg(duration_ms::integer ORDER BY created_at DESC, run_id DESC) AS recent_ms
                       FROM (SELECT outcome, duration_ms, created_at, run_id FROM test_results t WHERE t.test_key = k.test_key
                              ORDER BY created_at DESC, run_id DESC LIMIT 100) x) w
  LEFT JOIN (SELECT DISTINCT ON (test_key) test_key, created_at, run_id, message, category
               FROM test_results WHERE outcome IN ('Failed', 'Error')
              ORDER BY test_key, created_at DESC, run_id DESC) f ON f.test_key = k.test_key
`;
