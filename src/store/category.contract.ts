import { describe, expect, it } from 'vitest';
import { DEFAULT_CATEGORY_RULES, type CategoryRules } from '../core/categories.js';
import { ValidationError } from '../core/errors.js';
import type { Run } from '../core/run.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

/** A finished Failed run with the given test cases, written as the run's end would write them (rows of migration 009). */
export async function insertFailedRun(
  store: Store,
  sql: Sql,
  options: {
    name?: string;
    createdAt: string;
    labels?: Record<string, string>;
    appName?: string;
    cases: { name: string; outcome: 'Passed' | 'Failed' | 'Error' | 'Skipped'; message?: string; category?: string; rule?: string | null }[];
    logs?: string[];
  },
): Promise<Run> {
  const run = await store.createRun({
    name: options.name ?? 'suite',
    origin: 'api',
    source: { type: 'inline', script: '', fileName: 'suite.lua' },
    timeoutSeconds: 60,
    labels: options.labels ?? {},
    ...(options.appName ? { appName: options.appName } : {}),
  });
  const failed = options.cases.filter((c) => c.outcome === 'Failed' || c.outcome === 'Error');
  const first = failed[0];
  await sql.query(
    `UPDATE runs SET phase = $2, created_at = $3::timestamptz, started_at = $3::timestamptz, finished_at = $3::timestamptz, duration_ms = 1,
                     category = $4, category_rule = $5 WHERE id = $1`,
    [run.id, first ? 'Failed' : 'Passed', options.createdAt, first ? (first.category ?? 'Regression') : null, first ? (first.rule ?? null) : null],
  );
  for (const [idx, c] of options.cases.entries()) {
    const isFailure = c.outcome === 'Failed' || c.outcome === 'Error';
    await sql.query(
      `INSERT INTO run_steps (run_id, seq, parent_seq, kind, name, status, started_at, finished_at, duration_ms, message)
       VALUES ($1, $2, NULL, 'test', $3, $4, $5::timestamptz, $5::timestamptz, 5, $6)`,
      [run.id, idx + 1, c.name, isFailure ? 'failed' : c.outcome === 'Skipped' ? 'skipped' : 'passed', options.createdAt, c.message ?? null],
    );
    await sql.query(
      `INSERT INTO test_results (run_id, idx, test_key, classname, name, outcome, duration_ms, message, detail, step_seq, category, category_rule,
                                 created_at, origin, app_name)
       VALUES ($1, $2, $3, 'suite.lua', $4, $5, 5, $6, $6, $7, $8, $9, $10::timestamptz, 'api', $11)`,
      [run.id, idx, `suite.lua::${c.name}`, c.name, c.outcome, c.message ?? null, idx + 1, isFailure ? (c.category ?? 'Regression') : null,
       isFailure ? (c.rule ?? null) : null, options.createdAt, options.appName ?? null],
    );
    await sql.query(
      `INSERT INTO tests (key, classname, name, first_seen_at, last_run_at, last_run_id, last_outcome, runs, last_failure_at, last_failure_run_id, last_failure_message, last_failure_category)
       VALUES ($1, 'suite.lua', $2, $3::timestamptz, $3::timestamptz, $4, $5, 1, $6::timestamptz, $7, $8, $9)
       ON CONFLICT (key) DO UPDATE SET last_run_at = excluded.last_run_at, last_run_id = excluded.last_run_id, last_outcome = excluded.last_outcome,
         runs = tests.runs + 1,
         last_failure_at = coalesce(excluded.last_failure_at, tests.last_failure_at),
         last_failure_run_id = coalesce(excluded.last_failure_run_id, tests.last_failure_run_id),
         last_failure_message = coalesce(excluded.last_failure_message, tests.last_failure_message),
         last_failure_category = coalesce(excluded.last_failure_category, tests.last_failure_category)`,
      [`suite.lua::${c.name}`, c.name, options.createdAt, run.id, c.outcome, isFailure ? options.createdAt : null, isFailure ? run.id : null,
       isFailure ? (c.message ?? null) : null, isFailure ? (c.category ?? 'Regression') : null],
    );
  }
  for (const [i, message] of (options.logs ?? []).entries()) {
    await sql.query(`INSERT INTO run_logs (run_id, seq, ts, level, message, step_seq) VALUES ($1, $2, $3::timestamptz, 'info', $4, 1)`, [
      run.id, i + 1, options.createdAt, message,
    ]);
  }
  return (await store.getRun(run.id))!;
}

const timeoutRule: CategoryRules = { rules: [{ name: 'slow-upstream', category: 'Platform Issue', match: { message: ['timed out'] } }] };

/** Rules, previews and re-categorization against a real store (PGlite and PostgreSQL). */
export function describeCategoryContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract (failure categories): ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    it('reads the shipped defaults, version 0, until rules are stored', async () => {
      expect(await store.getCategoryRules()).toEqual({ rules: DEFAULT_CATEGORY_RULES.rules, version: 0, updatedAt: null, updatedBy: null, defaults: true });
    });

    it('stores rules one version up each time and writes who did it to the audit log', async () => {
      const first = await store.putCategoryRules(timeoutRule, 'alice');
      expect(first).toMatchObject({ rules: timeoutRule.rules, version: 1, updatedBy: 'alice', defaults: false });
      const second = await store.putCategoryRules({ rules: [] }, 'bob');
      expect(second.version).toBe(2);
      expect(await store.getCategoryRules()).toEqual(second);
      // the row holds the document exactly as CategoryRulesSchema parses it (what the run end reads)
      const { rows } = await sql.query<{ rules: unknown }>('SELECT rules FROM category_rules WHERE id = 1');
      expect(typeof rows[0]!.rules === 'string' ? JSON.parse(rows[0]!.rules) : rows[0]!.rules).toEqual({ rules: [] });
      const { rows: audit } = await sql.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_log ORDER BY id');
      expect(audit).toEqual([
        { actor: 'alice', action: 'categories.update' },
        { actor: 'bob', action: 'categories.update' },
      ]);
    });

    it('refuses invalid rules with a ValidationError naming the field, storing nothing', async () => {
      const bad = { rules: [{ name: 'x', category: 'X', match: { message: [{ regex: '(' }] } }] };
      await expect(store.putCategoryRules(bad, 'alice')).rejects.toThrow(ValidationError);
      await expect(store.putCategoryRules(bad, 'alice')).rejects.toThrow('rules[0].match.message[0].regex: is not a valid regular expression');
      expect((await store.getCategoryRules()).defaults).toBe(true);
    });

    it('lists the last failed test cases newest first with what rules look at', async () => {
      await insertFailedRun(store, sql, { createdAt: '2026-01-01T00:00:00.000Z', cases: [{ name: 'old', outcome: 'Failed', message: 'boom' }] });
      const run = await insertFailedRun(store, sql, {
        createdAt: '2026-01-02T00:00:00.000Z',
        labels: { env: 'staging' },
        appName: 'shop',
        cases: [
          { name: 'ok', outcome: 'Passed' },
          { name: 'pays', outcome: 'Failed', message: 'request timed out', category: 'Regression' },
        ],
        logs: ['calling /pay'],
      });
      const recent = await store.recentFailures(10);
      expect(recent.map((f) => f.testKey)).toEqual(['suite.lua::pays', 'suite.lua::old']);
      expect(recent[0]).toMatchObject({
        runId: run.id,
        message: 'request timed out',
        current: { category: 'Regression', rule: null },
        subject: { testKey: 'suite.lua::pays', testName: 'pays', message: 'request timed out', definition: 'suite.lua', app: 'shop', labels: { env: 'staging' } },
      });
      expect(recent[0]!.testId).toMatch(/^[0-9a-f]{16}$/);
      expect(await store.recentFailures(1)).toHaveLength(1);
    });

    it('re-categorizes past failures in batches: cases, their runs and their tests', async () => {
      const old = await insertFailedRun(store, sql, { createdAt: '2026-01-01T00:00:00.000Z', cases: [{ name: 'a', outcome: 'Failed', message: 'timed out' }] });
      const runs: Run[] = [];
      for (let i = 0; i < 3; i++) {
        runs.push(
          await insertFailedRun(store, sql, {
            createdAt: `2026-02-0${i + 1}T00:00:00.000Z`,
            cases: [
              { name: 'a', outcome: 'Failed', message: 'expected 1, got 2' },
              { name: 'b', outcome: 'Error', message: 'call timed out' },
              { name: 'c', outcome: 'Passed' },
            ],
          }),
        );
      }
      await store.putCategoryRules(timeoutRule, 'alice');
      const seen: number[] = [];
      const result = await store.recategorize({ since: '2026-02-01T00:00:00.000Z', batchSize: 2, onProgress: (p) => seen.push(p.processed) });
      expect(result).toEqual({ processed: 6, changed: 3 });
      expect(seen).toEqual([2, 4, 6]);
      const { rows } = await sql.query<{ run_id: string; name: string; category: string | null; category_rule: string | null }>(
        'SELECT run_id, name, category, category_rule FROM test_results ORDER BY created_at, idx',
      );
      expect(rows.filter((r) => r.run_id === runs[0]!.id).map((r) => [r.name, r.category, r.category_rule])).toEqual([
        ['a', 'Regression', null],
        ['b', 'Platform Issue', 'slow-upstream'],
        ['c', null, null],
      ]);
      // before `since`: untouched
      expect(rows.find((r) => r.run_id === old.id)).toMatchObject({ category: 'Regression', category_rule: null });
      // a run takes its first failed case's category: still Regression
      expect((await store.getRun(runs[0]!.id))!.category).toBe('Regression');
      const { rows: tests } = await sql.query<{ name: string; last_failure_category: string }>('SELECT name, last_failure_category FROM tests ORDER BY name');
      expect(tests).toEqual([
        { name: 'a', last_failure_category: 'Regression' },
        { name: 'b', last_failure_category: 'Platform Issue' },
        { name: 'c', last_failure_category: null },
      ]);
      // run again: nothing left to change
      expect(await store.recategorize({ since: null, batchSize: 100 })).toEqual({ processed: 7, changed: 1 });
      expect((await store.getRun(old.id))).toMatchObject({ category: 'Platform Issue', categoryRule: 'slow-upstream' });
      expect(await store.recategorize({ since: null })).toEqual({ processed: 7, changed: 0 });
    });

    it('counts failed test cases per category per bucket', async () => {
      await insertFailedRun(store, sql, {
        createdAt: '2026-03-01T10:00:00.000Z',
        cases: [
          { name: 'a', outcome: 'Failed', category: 'Config Gap', rule: 'config-gap' },
          { name: 'b', outcome: 'Failed' },
          { name: 'c', outcome: 'Passed' },
        ],
      });
      await insertFailedRun(store, sql, { createdAt: '2026-03-03T10:00:00.000Z', cases: [{ name: 'a', outcome: 'Error' }] });
      const points = await store.categoryTrends({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-04T00:00:00.000Z', bucket: 'day' });
      expect(points).toEqual([
        { start: '2026-03-01T00:00:00.000Z', counts: { 'Config Gap': 1, Regression: 1 } },
        { start: '2026-03-02T00:00:00.000Z', counts: {} },
        { start: '2026-03-03T00:00:00.000Z', counts: { Regression: 1 } },
      ]);
    });

    it('filters runs by category', async () => {
      const gap = await insertFailedRun(store, sql, { createdAt: '2026-03-01T10:00:00.000Z', cases: [{ name: 'a', outcome: 'Failed', category: 'Config Gap' }] });
      const reg = await insertFailedRun(store, sql, { createdAt: '2026-03-02T10:00:00.000Z', cases: [{ name: 'a', outcome: 'Failed' }] });
      await insertFailedRun(store, sql, { createdAt: '2026-03-03T10:00:00.000Z', cases: [{ name: 'a', outcome: 'Passed' }] });
      expect((await store.listRuns({ category: ['Config Gap'] }, {})).items.map((r) => r.id)).toEqual([gap.id]);
      expect((await store.listRuns({ category: ['Config Gap', 'Regression'] }, {})).items.map((r) => r.id)).toEqual([reg.id, gap.id]);
      expect((await store.listRuns({ category: [] }, {})).items).toEqual([]);
    });

    it("reads a run's recorded test cases in order", async () => {
      const run = await insertFailedRun(store, sql, {
        createdAt: '2026-03-01T10:00:00.000Z',
        cases: [
          { name: 'z', outcome: 'Passed' },
          { name: 'a', outcome: 'Failed', message: 'nope', category: 'Config Gap', rule: 'config-gap' },
        ],
      });
      expect(await store.runTestResults(run.id)).toEqual([
        { key: 'suite.lua::z', classname: 'suite.lua', name: 'z', outcome: 'Passed', durationMs: 5, message: null, category: null, categoryRule: null, quarantined: false },
        { key: 'suite.lua::a', classname: 'suite.lua', name: 'a', outcome: 'Failed', durationMs: 5, message: 'nope', category: 'Config Gap', categoryRule: 'config-gap', quarantined: false },
      ]);
      expect(await store.runTestResults('00000000-0000-7000-8000-000000000000')).toEqual([]);
    });
  });
}
