/**
 * Failure categories in the store: the rule document (`category_rules`, one row; no
 * row means the shipped defaults), who changed it (`audit_log`), the recent failures
 * a rule change is previewed on, re-judging past failures in short batches, and
 * failures per category over time.
 */
import {
  CategoryRulesSchema,
  DEFAULT_CATEGORY_RULES,
  categorizer,
  failureText,
  type CategoryRule,
  type CategoryRules,
  type Categorization,
  type FailureSubject,
} from '../core/categories.js';
import { parseOrThrow } from '../core/schemas/issues.js';
import { bucketStarts, BUCKET_MS, type TimeRange, type TrendBucket } from '../core/insights.js';
import type { Sql, SqlExecutor } from './sql.js';

/** The rules in force and where they come from. */
export interface StoredCategoryRules {
  rules: CategoryRule[];
  /** Goes up by one on every change; 0 while the defaults are in force. */
  version: number;
  updatedAt: string | null;
  /** Who changed them last (a token name), null for the defaults. */
  updatedBy: string | null;
  /** True when no rules were ever stored: the shipped defaults are in force. */
  defaults: boolean;
}

/** One failed test case as a rule sees it, with the category it carries now. */
export interface FailureSample {
  runId: string;
  idx: number;
  testKey: string;
  /** The `tests` id of the key (16 hex digits of its MD5). */
  testId: string;
  message: string | null;
  createdAt: string;
  subject: FailureSubject;
  current: Categorization;
}

/** How far a re-categorization got. */
export interface RecategorizeProgress {
  /** Failed test cases judged. */
  processed: number;
  /** Of those, the ones whose category or rule changed. */
  changed: number;
}

export interface RecategorizeOptions {
  /** Failed test cases of runs created at or after this ISO time (all when null). */
  since: string | null;
  /** Cases per batch (each batch is one short transaction). Default 500. */
  batchSize?: number;
  /** Called after each committed batch with the totals so far. */
  onProgress?: (progress: RecategorizeProgress) => void;
}

/** Failed test cases per category in one bucket of creation time. */
export interface CategoryTrendPoint {
  start: string;
  counts: Record<string, number>;
}

/** The most log lines of a test case a rule's `log` matchers see (the first ones). */
export const MAX_SUBJECT_LOG_LINES = 200;

const FAILED = `outcome IN ('Failed','Error')`;

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

/** The stored rules, or the defaults (version 0) when none were stored. */
export async function getCategoryRules(sql: SqlExecutor): Promise<StoredCategoryRules> {
  const { rows } = await sql.query<{ rules: unknown; version: number; updated_at: unknown; updated_by: string | null }>(
    'SELECT rules, version, updated_at, updated_by FROM category_rules WHERE id = 1',
  );
  const row = rows[0];
  if (!row) return { rules: DEFAULT_CATEGORY_RULES.rules, version: 0, updatedAt: null, updatedBy: null, defaults: true };
  const doc = typeof row.rules === 'string' ? JSON.parse(row.rules) : row.rules;
  return { rules: CategoryRulesSchema.parse(doc).rules, version: Number(row.version), updatedAt: iso(row.updated_at), updatedBy: row.updated_by, defaults: false };
}

/** Stores the rules (the `{ rules: [...] }` document), one version up, and records who did it. */
export async function putCategoryRules(sql: Sql, rules: CategoryRules, actor: string | null): Promise<StoredCategoryRules> {
  const doc = parseOrThrow(CategoryRulesSchema, rules);
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query<{ version: number; updated_at: unknown }>(
      `INSERT INTO category_rules AS c (id, rules, version, updated_at, updated_by) VALUES (1, $1::jsonb, 1, now(), $2)
       ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, version = c.version + 1, updated_at = now(), updated_by = excluded.updated_by
       RETURNING version, updated_at`,
      [JSON.stringify(doc), actor],
    );
    const version = Number(rows[0]!.version);
    await tx.query(`INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, 'categories.update', 'category_rules', $2::jsonb)`, [
      actor,
      JSON.stringify({ version, rules: doc.rules.map((r) => r.name) }),
    ]);
    return { rules: doc.rules, version, updatedAt: iso(rows[0]!.updated_at), updatedBy: actor, defaults: false };
  });
}

/**
 * The failed test cases selected by `where` (on `test_results` as `tr`), newest or
 * oldest first, with what a rule looks at: the run's labels and the case's own log
 * lines (those logged while its step or a step inside it ran; the whole run's for a
 * case that is the run itself), at most MAX_SUBJECT_LOG_LINES.
 */
async function failures(tx: SqlExecutor, where: string, params: unknown[], order: 'ASC' | 'DESC', limit: number): Promise<FailureSample[]> {
  params.push(limit);
  const { rows } = await tx.query<Record<string, unknown>>(
    `WITH RECURSIVE f AS MATERIALIZED (
       SELECT tr.run_id, tr.idx, tr.test_key, tr.classname, tr.name, tr.message, tr.detail, tr.step_seq, tr.app_name,
              tr.category, tr.category_rule, tr.created_at
         FROM test_results tr
        WHERE tr.${FAILED} AND ${where}
        ORDER BY tr.created_at ${order}, tr.run_id ${order}, tr.idx ${order}
        LIMIT $${params.length}
     ), sub(run_id, idx, seq) AS (
       SELECT run_id, idx, step_seq FROM f WHERE step_seq IS NOT NULL
       UNION ALL
       SELECT sub.run_id, sub.idx, s.seq FROM sub JOIN run_steps s ON s.run_id = sub.run_id AND s.parent_seq = sub.seq
     )
     SELECT f.*, left(md5(f.test_key), 16) AS test_id, r.labels,
            (SELECT string_agg(l.message, E'\\n' ORDER BY l.seq) FROM (
               SELECT l.message, l.seq FROM run_logs l
                WHERE l.run_id = f.run_id
                  AND (f.step_seq IS NULL OR l.step_seq IN (SELECT seq FROM sub WHERE sub.run_id = f.run_id AND sub.idx = f.idx))
                ORDER BY l.seq LIMIT ${MAX_SUBJECT_LOG_LINES}) l) AS log
       FROM f JOIN runs r ON r.id = f.run_id
      ORDER BY f.created_at ${order}, f.run_id ${order}, f.idx ${order}`,
    params,
  );
  return rows.map((r) => {
    const labels = (typeof r.labels === 'string' ? JSON.parse(r.labels) : r.labels) as Record<string, string>;
    const message = (r.message as string | null) ?? null;
    return {
      runId: String(r.run_id),
      idx: Number(r.idx),
      testKey: String(r.test_key),
      testId: String(r.test_id),
      message,
      createdAt: iso(r.created_at),
      subject: {
        testKey: String(r.test_key),
        testName: String(r.name),
        message: failureText(message, (r.detail as string | null) ?? null),
        log: (r.log as string | null) ?? '',
        definition: String(r.classname),
        app: (r.app_name as string | null) ?? null,
        labels: labels ?? {},
      },
      current: { category: (r.category as string | null) ?? '', rule: (r.category_rule as string | null) ?? null },
    };
  });
}

/** The last `limit` failed test cases, newest first (what a rule change is previewed on). */
export function recentFailures(sql: SqlExecutor, limit: number): Promise<FailureSample[]> {
  return failures(sql, 'true', [], 'DESC', limit);
}

/**
 * Judges again, with the stored rules, the failed test cases of runs created since
 * `since`, oldest first, `batchSize` at a time. Each batch is its own transaction
 * (read, judge, write), so runs that end meanwhile are never held up for long. A
 * batch writes the cases' category and rule, the category of their runs (that of the
 * run's first failed case) and of their tests whose last failure is among them.
 */
export async function recategorize(sql: Sql, options: RecategorizeOptions): Promise<RecategorizeProgress> {
  const batchSize = options.batchSize ?? 500;
  const judge = categorizer({ rules: (await getCategoryRules(sql)).rules });
  const progress: RecategorizeProgress = { processed: 0, changed: 0 };
  let after: { createdAt: string; runId: string; idx: number } | null = null;
  for (;;) {
    const start = after;
    const batch = await sql.transaction(async (tx) => {
      const params: unknown[] = [];
      const where: string[] = [];
      if (options.since !== null) {
        params.push(options.since);
        where.push(`tr.created_at >= $${params.length}::timestamptz`);
      }
      if (start) {
        params.push(start.createdAt, start.runId, start.idx);
        const [at, run, idx] = [params.length - 2, params.length - 1, params.length].map((n) => `$${n}`);
        // The two-column bound is what the index (created_at, run_id) can start from; the three-column one is exact.
        where.push(`(tr.created_at, tr.run_id) >= (${at}::timestamptz, ${run}) AND (tr.created_at, tr.run_id, tr.idx) > (${at}::timestamptz, ${run}, ${idx}::int)`);
      }
      const found = await failures(tx, where.length ? where.join(' AND ') : 'true', params, 'ASC', batchSize);
      const changed = found
        .map((f) => ({ f, next: judge(f.subject) }))
        .filter(({ f, next }) => next.category !== f.current.category || next.rule !== f.current.rule);
      if (changed.length) {
        const rows = JSON.stringify(changed.map(({ f, next }) => ({ run_id: f.runId, idx: f.idx, category: next.category, rule: next.rule })));
        await tx.query(
          `UPDATE test_results tr SET category = x.category, category_rule = x.rule
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, idx int, category text, rule text)
            WHERE tr.run_id = x.run_id AND tr.idx = x.idx`,
          [rows],
        );
        const runIds = [...new Set(changed.map(({ f }) => f.runId))];
        await tx.query(
          `UPDATE runs r SET category = t.category, category_rule = t.category_rule
             FROM (SELECT DISTINCT ON (run_id) run_id, category, category_rule FROM test_results
                    WHERE run_id = ANY($1::text[]) AND ${FAILED} ORDER BY run_id, idx) t
            WHERE r.id = t.run_id AND r.category IS NOT NULL
              AND (r.category IS DISTINCT FROM t.category OR r.category_rule IS DISTINCT FROM t.category_rule)`,
          [runIds],
        );
        await tx.query(
          `UPDATE tests t SET last_failure_category = x.category
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, idx int, category text, rule text)
             JOIN test_results tr ON tr.run_id = x.run_id AND tr.idx = x.idx
            WHERE t.key = tr.test_key AND t.last_failure_run_id = tr.run_id`,
          [rows],
        );
      }
      return { found, changed: changed.length };
    });
    progress.processed += batch.found.length;
    progress.changed += batch.changed;
    if (batch.found.length) options.onProgress?.({ ...progress });
    const last = batch.found[batch.found.length - 1];
    if (!last || batch.found.length < batchSize) return progress;
    after = { createdAt: last.createdAt, runId: last.runId, idx: last.idx };
  }
}

/** Failed test cases per category in each bucket of their run's creation time from `from` to `to`, empty buckets included. */
export async function categoryTrends(sql: SqlExecutor, request: TimeRange & { bucket: TrendBucket }): Promise<CategoryTrendPoint[]> {
  const starts = bucketStarts(request, request.bucket);
  const to = Date.parse(request.to);
  const stops = starts.map((s) => new Date(Math.min(Date.parse(s) + BUCKET_MS[request.bucket], to)).toISOString());
  const { rows } = await sql.query<{ start: unknown; category: string | null; n: number }>(
    `SELECT b.start, tr.category, count(tr.run_id)::int AS n
       FROM unnest($1::timestamptz[], $2::timestamptz[]) AS b(start, stop)
       LEFT JOIN test_results tr ON tr.${FAILED} AND tr.created_at >= b.start AND tr.created_at < b.stop
      GROUP BY b.start, tr.category
      ORDER BY b.start`,
    [starts, stops],
  );
  const points = new Map<string, Record<string, number>>(starts.map((s) => [s, {}]));
  for (const r of rows) {
    if (Number(r.n) === 0) continue;
    points.get(iso(r.start))![r.category ?? 'Regression'] = Number(r.n);
  }
  return [...points].map(([start, counts]) => ({ start, counts }));
}
