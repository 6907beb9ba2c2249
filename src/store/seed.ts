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
