/**
 * The SQL behind trends, top lists and the previous run of a test. Trends and top
 * lists read finished runs by creation time through `runs_finished_idx`, which
 * carries every column they aggregate or filter on, so PostgreSQL answers them from
 * the index alone once the table is vacuumed — for runs whose labels fit an index
 * row; the few with bigger labels come from `runs_finished_wide_idx` and the table
 * (migration 7, `finishedRuns`).
 */
import type { Run } from '../core/run.js';
import {
  FAILING_PHASES,
  FINISHED_PHASES,
  bucketStarts,
  type FailingTest,
  type InsightsFilter,
  type SlowTest,
  type TopLists,
  type TopRequest,
  type TrendPoint,
  type TrendsRequest,
  BUCKET_MS,
} from '../core/insights.js';
import type { Sql, SqlExecutor } from './sql.js';
import { iso, toRun } from './row-mapping.js';

type Row = Record<string, unknown>;

const list = (phases: readonly string[]) => phases.map((p) => `'${p}'`).join(',');
/** The predicate of `runs_finished_idx`, spelled as in the index so the planner uses it. */
const FINISHED = `phase IN (${list(FINISHED_PHASES)})`;
const FAILING = `phase IN (${list(FAILING_PHASES)})`;
/** The predicates of `runs_finished_idx` (labels carried) and `runs_finished_wide_idx` (too big to carry), as in migration 7. */
const NARROW_LABELS = 'octet_length(labels::text) <= 768';
const WIDE_LABELS = 'octet_length(labels::text) > 768';

/**
 * Finished runs matching `where` and the filter, as a subquery of `columns`: one
 * branch per covering index, so each is read by its index (index-only for the
 * first). The few wide runs are matched on labels after their index range is read
 * (the OFFSET 0 fence), not by intersecting the labels GIN index once per bucket.
 */
function finishedRuns(columns: string, where: string, f: FilterSql): string {
  return `(SELECT ${columns} FROM runs WHERE ${FINISHED} AND ${NARROW_LABELS} AND ${where}${f.plain}${f.labels}
           UNION ALL
           SELECT ${columns} FROM (
             SELECT ${columns}, labels FROM runs WHERE ${FINISHED} AND ${WIDE_LABELS} AND ${where}${f.plain} OFFSET 0
           ) wide WHERE true${f.labels})`;
}

/** A statement's parameters, bound in order. */
class Params {
  readonly values: unknown[] = [];
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The filter as SQL conditions on `runs`, each part starting with AND: on columns, on labels, and both. */
interface FilterSql {
  plain: string;
  labels: string;
  all: string;
}

function filterSql(filter: InsightsFilter, p: Params): FilterSql {
  const where: string[] = [];
  if (filter.definitionId !== undefined) where.push(`definition_id = ${p.bind(filter.definitionId)}`);
  if (filter.appName !== undefined) where.push(`app_name = ${p.bind(filter.appName)}`);
  const plain = where.map((w) => ` AND ${w}`).join('');
  const labels = filter.labels && Object.keys(filter.labels).length > 0 ? ` AND labels @> ${p.bind(JSON.stringify(filter.labels))}::jsonb` : '';
  return { plain, labels, all: plain + labels };
}

/**
 * Runs a read-only aggregate. On PostgreSQL it runs without JIT (whose compile time
 * exceeds these queries' run time, and which the per-bucket plans' cost estimates
 * would otherwise switch on) and with room to sort in memory.
 */
async function aggregate(sql: Sql, text: string, params: unknown[]): Promise<Row[]> {
  return sql.transaction(async (tx) => {
    if (sql.dialect === 'postgres') await tx.query('SET LOCAL jit = off');
    await tx.query(`SET LOCAL work_mem = '64MB'`);
    return (await tx.query(text, params)).rows;
  });
}

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** One point per bucket: each bucket is read by its own index range, so no sort of the whole range is needed. */
export async function runTrends(sql: Sql, request: TrendsRequest): Promise<TrendPoint[]> {
  const starts = bucketStarts(request, request.bucket);
  const to = Date.parse(request.to);
  const stops = starts.map((s) => new Date(Math.min(Date.parse(s) + BUCKET_MS[request.bucket], to)).toISOString());
  const p = new Params();
  const startsParam = p.bind(starts);
  const stopsParam = p.bind(stops);
  const filters = filterSql(request, p);
  const rows = await aggregate(
    sql,
    `SELECT b.start, a.*
       FROM unnest(${startsParam}::timestamptz[], ${stopsParam}::timestamptz[]) AS b(start, stop)
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS total,
                ${FINISHED_PHASES.map((ph) => `count(*) FILTER (WHERE phase = '${ph}')::int AS "${ph}"`).join(',\n                ')},
                percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE phase <> 'Cancelled') AS pct
           FROM ${finishedRuns('phase, duration_ms', 'created_at >= b.start AND created_at < b.stop', filters)} AS r
       ) a
      ORDER BY b.start`,
    p.values,
  );
  return rows.map((r) => {
    const byPhase = Object.fromEntries(FINISHED_PHASES.map((ph) => [ph, Number(r[ph])])) as TrendPoint['byPhase'];
    const total = Number(r.total);
    const ran = total - byPhase.Cancelled;
    const pct = percentiles(r.pct);
    return {
      start: iso(r.start),
      total,
      byPhase,
      passRate: ran > 0 ? byPhase.Passed / ran : null,
      p50Ms: pct[0],
      p95Ms: pct[1],
    };
  });
}

/** `percentile_disc(ARRAY[...])` as numbers; PGlite returns an array, node-postgres an array of strings. */
function percentiles(value: unknown): (number | null)[] {
  if (value === null || value === undefined) return [null, null];
  const items = Array.isArray(value) ? value : String(value).replace(/[{}]/g, '').split(',');
  return items.map((v) => (v === null || v === 'NULL' ? null : Number(v)));
}

/**
 * Both top lists in one statement: finished runs in the range grouped by
 * definition (or by name when they have none), the `limit` worst groups of each
 * list, then one indexed look-up per listed group for its run to open.
 */
export async function topTests(sql: Sql, request: TopRequest): Promise<TopLists> {
  const p = new Params();
  const from = p.bind(request.from);
  const to = p.bind(request.to);
  const limit = p.bind(request.limit);
  const filters = filterSql(request, p);
  const sameTest = (g: string) =>
    `((${g}.definition_id IS NOT NULL AND definition_id = ${g}.definition_id) OR (${g}.definition_id IS NULL AND definition_id IS NULL AND name = ${g}.run_name))`;
  const rows = await aggregate(
    sql,
    `WITH g AS MATERIALIZED (
       SELECT definition_id, CASE WHEN definition_id IS NULL THEN name END AS run_name, max(name) AS any_name,
              count(*)::int AS runs,
              count(*) FILTER (WHERE ${FAILING})::int AS failed,
              count(*) FILTER (WHERE phase = 'Cancelled')::int AS cancelled,
              max(created_at) FILTER (WHERE ${FAILING}) AS last_failed,
              percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE phase <> 'Cancelled') AS pct,
              max(duration_ms) FILTER (WHERE phase <> 'Cancelled') AS max_ms
         FROM ${finishedRuns('definition_id, name, phase, created_at, duration_ms', `created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz`, filters)} AS r
        -- The hash first: the sort that groups the rows compares integers, not names.
        GROUP BY hashtextextended(coalesce(definition_id, name), 0), 1, 2
     ), failing AS (
       SELECT g.*, row_number() OVER (ORDER BY failed DESC, failed::float8 / nullif(runs - cancelled, 0) DESC NULLS LAST, definition_id, run_name) AS pos
         FROM g WHERE failed > 0
        ORDER BY pos LIMIT ${limit}
     ), slow AS (
       SELECT g.*, row_number() OVER (ORDER BY pct[2] DESC, pct[1] DESC, definition_id, run_name) AS pos
         FROM g WHERE max_ms IS NOT NULL
        ORDER BY pos LIMIT ${limit}
     )
     SELECT 'failing' AS list, f.pos, f.definition_id, coalesce(d.name, f.run_name, f.any_name) AS name, f.runs, f.failed, f.cancelled,
            NULL::bigint[] AS pct, NULL::bigint AS max_ms, r.id AS run_id, r.finished_at AS run_finished_at
       FROM failing f
       LEFT JOIN test_definitions d ON d.id = f.definition_id
       LEFT JOIN LATERAL (
         SELECT id, finished_at FROM runs
          WHERE created_at = f.last_failed AND ${FAILING} AND ${sameTest('f')}${filters.all}
          ORDER BY id DESC LIMIT 1
       ) r ON true
     UNION ALL
     SELECT 'slow', s.pos, s.definition_id, coalesce(d.name, s.run_name, s.any_name), s.runs, s.failed, s.cancelled,
            s.pct, s.max_ms, r.id, NULL
       FROM slow s
       LEFT JOIN test_definitions d ON d.id = s.definition_id
       LEFT JOIN LATERAL (
         SELECT id FROM runs
          WHERE created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz AND ${FINISHED} AND phase <> 'Cancelled'
            AND duration_ms = s.max_ms AND ${sameTest('s')}${filters.all}
          ORDER BY created_at DESC, id DESC LIMIT 1
       ) r ON true
     ORDER BY list, pos`,
    p.values,
  );
  const mostFailing: FailingTest[] = [];
  const slowest: SlowTest[] = [];
  for (const r of rows) {
    const base = { name: String(r.name), definitionId: (r.definition_id as string | null) ?? null, runs: Number(r.runs) };
    if (r.list === 'failing') {
      const ran = base.runs - Number(r.cancelled);
      mostFailing.push({
        ...base,
        failed: Number(r.failed),
        failRate: Number(r.failed) / ran,
        lastFailedRunId: String(r.run_id),
        lastFailedAt: iso(r.run_finished_at),
      });
    } else {
      const [p50Ms, p95Ms] = percentiles(r.pct);
      slowest.push({ ...base, p50Ms: p50Ms!, p95Ms: p95Ms!, maxMs: numOrNull(r.max_ms)!, slowestRunId: String(r.run_id) });
    }
  }
  return { mostFailing, slowest };
}

/**
 * The latest run created before `run` of the same test: the same definition, or
 * for a run without one, the same name among runs without one.
 */
export async function previousRun(sql: Sql, run: Run): Promise<Run | null> {
  const definitionId = run.source.type === 'definition' ? run.source.definitionId : null;
  const { rows } = await sql.query(
    definitionId !== null
      ? `SELECT * FROM runs WHERE definition_id = $1 AND (created_at, id) < ($2::timestamptz, $3)
          ORDER BY created_at DESC, id DESC LIMIT 1`
      : `SELECT * FROM runs WHERE name = $1 AND definition_id IS NULL AND (created_at, id) < ($2::timestamptz, $3)
          ORDER BY created_at DESC, id DESC LIMIT 1`,
    [definitionId ?? run.name, run.createdAt, run.id],
  );
  return rows[0] ? toRun(rows[0]) : null;
}

/** Runs per phase from the trigger-kept counts (migration 4): a sum over a few dozen rows. */
export async function countByPhaseQuery(sql: SqlExecutor): Promise<{ phase: string; n: number }[]> {
  const { rows } = await sql.query<{ phase: string; n: string | number }>('SELECT phase, sum(n)::bigint AS n FROM run_counts GROUP BY phase');
  return rows.map((r) => ({ phase: r.phase, n: Number(r.n) }));
}
