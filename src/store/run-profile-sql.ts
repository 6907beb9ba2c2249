/**
 * The SQL behind resource profiles (`core/resource-profile.ts`): per test (a definition,
 * or a name without one), p50/p95 of the newest `last` finished, profiled runs created
 * in [from, to), and the same runs pooled for the parallelism recommendation. Reads
 * `runs_profile_idx` (migration 10), which carries every column used. Cancelled runs
 * are left out: they stopped early, so their figures understate a run.
 */
import type { Percentiles, ProfileRequest, RunProfiles, TestProfile } from '../core/resource-profile.js';
import type { Sql } from './sql.js';

type Row = Record<string, unknown>;

/** The phases `runs_profile_idx` holds, spelled as in the index so the planner uses it. */
const PROFILED = `cpu_ms IS NOT NULL AND phase IN ('Passed','Failed','Error','TimedOut')`;
const PCT = (column: string) => `percentile_disc(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY ${column})`;

export async function runProfiles(sql: Sql, request: ProfileRequest): Promise<RunProfiles> {
  const text = `
    WITH considered AS MATERIALIZED (
      SELECT * FROM (
        SELECT definition_id, CASE WHEN definition_id IS NULL THEN name END AS run_name, name, created_at,
               duration_ms, cpu_ms, peak_memory_bytes, cpu_ms / nullif(duration_ms, 0) AS share,
               row_number() OVER (PARTITION BY definition_id, CASE WHEN definition_id IS NULL THEN name END
                                  ORDER BY created_at DESC, id DESC) AS k
          FROM runs
         WHERE ${PROFILED} AND created_at >= $1::timestamptz AND created_at < $2::timestamptz
      ) r WHERE k <= $3
    ), per_test AS (
      SELECT * FROM (
        SELECT definition_id, run_name, max(name) FILTER (WHERE k = 1) AS last_name, count(*)::int AS runs,
               ${PCT('cpu_ms')} AS cpu, ${PCT('peak_memory_bytes')} AS mem, ${PCT('duration_ms')} AS dur, ${PCT('share')} AS share
          FROM considered GROUP BY definition_id, run_name
      ) g
       ORDER BY cpu[2] DESC, mem[2] DESC, definition_id, run_name
       LIMIT $4
    )
    SELECT 'test' AS kind, t.definition_id, coalesce(d.name, t.run_name, t.last_name) AS name, t.runs, t.cpu, t.mem, t.dur, t.share
      FROM per_test t LEFT JOIN test_definitions d ON d.id = t.definition_id
    UNION ALL
    SELECT 'all', NULL, NULL, count(*)::int, NULL, ${PCT('peak_memory_bytes')}, NULL, ${PCT('share')} FROM considered`;
  const rows = await sql.transaction(async (tx) => {
    if (sql.dialect === 'postgres') await tx.query('SET LOCAL jit = off');
    return (await tx.query<Row>(text, [request.from, request.to, request.last, request.limit])).rows;
  });
  const items: TestProfile[] = [];
  let basis: RunProfiles['basis'] = { runs: 0, cpuCoresP95: null, peakMemoryBytesP95: null };
  for (const r of rows) {
    if (r.kind === 'all') {
      const runs = Number(r.runs);
      basis = { runs, cpuCoresP95: runs ? pct(r.share)?.p95 ?? null : null, peakMemoryBytesP95: runs ? pct(r.mem)?.p95 ?? null : null };
      continue;
    }
    items.push({
      definitionId: (r.definition_id as string | null) ?? null,
      name: String(r.name),
      runs: Number(r.runs),
      cpuMs: pct(r.cpu)!,
      peakMemoryBytes: pct(r.mem)!,
      durationMs: pct(r.dur)!,
      cpuCores: pct(r.share),
    });
  }
  // UNION ALL keeps each branch's rows but not their order
  items.sort((a, b) => b.cpuMs.p95 - a.cpuMs.p95 || b.peakMemoryBytes.p95 - a.peakMemoryBytes.p95);
  return { items, basis };
}

/** `percentile_disc(ARRAY[...])` as {p50, p95}; PGlite returns an array, node-postgres a `{…}` string. Null when empty. */
function pct(value: unknown): Percentiles | null {
  if (value === null || value === undefined) return null;
  const items = Array.isArray(value) ? value : String(value).replace(/[{}]/g, '').split(',');
  const [p50, p95] = items.map((v) => (v === null || v === 'NULL' ? null : Number(v)));
  return p50 == null || p95 == null ? null : { p50, p95 };
}
