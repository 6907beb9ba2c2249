import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './pglite-sql.js';
import { createPostgresStore } from './postgres-store.js';
import { seedRuns } from './seed.js';
import { listRunsQuery } from './list-runs-query.js';
import { LAST_RUNS_OF_DEFINITIONS_SQL } from './definition-last-run-sql.js';
import { LOGS_TO_EXPIRE, RUNS_TO_DELETE } from './retention-sql.js';
import { previousRun, runTrends, topTests } from './insights-queries.js';
import { defaultRange } from '../core/insights.js';
import type { RunFilter } from '../core/run.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

/**
 * The list queries stay index-driven on a large history. Seeding 1,000,000 runs on
 * PGlite takes over a minute (see bench/store-bench.ts), so this seeds 200,000 —
 * enough for the planner to prefer indexes exactly as it does at 1M.
 */
const SEEDED = 200_000;

describe(`listRuns plans over ${SEEDED} seeded runs (PGlite)`, () => {
  let sql: Sql;
  let store: Store;

  beforeAll(async () => {
    sql = await openPglite(undefined);
    store = createPostgresStore(sql);
    await store.migrate();
    const started = performance.now();
    expect(await seedRuns(sql, SEEDED)).toBe(SEEDED);
    console.log(`seeded ${SEEDED} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await sql.query('ANALYZE runs');
  }, 180_000);

  afterAll(async () => {
    await store?.close();
  });

  async function plan(filter: RunFilter): Promise<string> {
    const q = listRunsQuery(filter, 50, null);
    const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it('phase=Failed limit 50 walks the phase index in order', async () => {
    const text = await plan({ phase: ['Failed'] });
    console.log(text);
    expect(text).not.toMatch(/Seq Scan on runs/);
    expect(text).toMatch(/Index Scan using runs_phase_idx/);
    expect(text).not.toMatch(/Sort/);
    const page = await store.listRuns({ phase: ['Failed'] }, { limit: 50 });
    expect(page.items.length).toBe(50);
    expect(page.items.every((r) => r.phase === 'Failed')).toBe(true);
  });

  it.each<[string, RunFilter]>([
    ['no filter', {}],
    ['several phases', { phase: ['Failed', 'Error'] }],
    ['origin', { origin: ['crd'] }],
    ['app', { appName: 'billing' }],
    ['definition', { definitionId: 'seed-def-7' }],
    ['labels', { labels: { team: 'data', env: 'prod' } }],
    ['rare text', { text: 'checkout-smoke-42' }],
    ['common text', { text: 'login' }],
    ['created range', { createdAfter: new Date(Date.now() - 86_400_000).toISOString() }],
    ['combination', { phase: ['Failed'], appName: 'shop', labels: { env: 'prod' } }],
  ])('%s uses an index', async (_label, filter) => {
    const text = await plan(filter);
    expect(text, text).not.toMatch(/Seq Scan on runs/);
  });

  it("the Definitions list's last results walk runs_definition_idx, one short walk per definition", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `seed-def-${i}`);
    const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${LAST_RUNS_OF_DEFINITIONS_SQL}`, [ids]);
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text, text).not.toMatch(/Seq Scan on runs/);
    expect(text, text).toMatch(/runs_definition_idx/);
    expect(text, text).not.toMatch(/Sort/);
    const last = await store.lastRunsOfDefinitions(['seed-def-7']);
    expect(last.get('seed-def-7')?.phase).toMatch(/^(Passed|Failed|Error|TimedOut|Cancelled)$/);
  });

  it('category=… walks the category index in order (one category or several)', async () => {
    // Failed runs carry a category, as the run end writes it: mostly Regression, some Config Gap.
    await sql.query(
      `UPDATE runs SET category = CASE WHEN right(id, 1) IN ('0', '1') THEN 'Config Gap' ELSE 'Regression' END WHERE phase IN ('Failed', 'Error')`,
    );
    await sql.query('ANALYZE runs');
    const one = await plan({ category: ['Config Gap'] });
    expect(one, one).toMatch(/runs_category_idx/);
    expect(one, one).not.toMatch(/Seq Scan on runs|Sort/);
    const several = await plan({ category: ['Config Gap', 'Platform Issue'] });
    expect(several, several).not.toMatch(/Seq Scan on runs/);
    const page = await store.listRuns({ category: ['Config Gap'] }, { limit: 50 });
    expect(page.items.length).toBe(50);
    expect(page.items.every((r) => r.category === 'Config Gap')).toBe(true);
  });

  it('claiming and queue stats read only the small active index', async () => {
    const { rows } = await sql.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT count(*) FILTER (WHERE phase = 'Queued'), count(*) FILTER (WHERE phase = 'Running') FROM runs WHERE phase IN ('Queued', 'Running')`,
    );
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(text, text).toMatch(/runs_active_idx/);
  });

  /** The plan of the statement an insights query sends (captured, then explained on the seeded database). */
  async function insightsPlan(send: (spy: Sql) => Promise<unknown>): Promise<string> {
    let last: { text: string; params: unknown[] } | null = null;
    const capture = { query: async (text: string, params: unknown[] = []) => ((last = { text, params }), { rows: [], affectedRows: 0 }) };
    const spy = { ...capture, dialect: 'pglite', exec: async () => {}, close: async () => {}, transaction: (fn: (tx: typeof capture) => unknown) => fn(capture) };
    await send(spy as unknown as Sql);
    const { text, params } = last!;
    const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it('trends, top lists and the previous run read indexes; trends and top only the covering index once vacuumed', async () => {
    // A few runs with labels too big for the covering index (migration 7), as users may write.
    await sql.query(
      `UPDATE runs SET labels = labels || (SELECT jsonb_object_agg('k' || i, repeat('v', 60)) FROM generate_series(1, 20) i)
        WHERE id IN (SELECT id FROM runs ORDER BY created_at DESC LIMIT 50)`,
    );
    await sql.exec('VACUUM ANALYZE runs');
    const range = defaultRange();
    const plans = {
      trends: await insightsPlan((spy) => runTrends(spy, { ...range, bucket: 'day' })),
      trendsByLabel: await insightsPlan((spy) => runTrends(spy, { ...range, bucket: 'hour', labels: { team: 'data' } })),
      top: await insightsPlan((spy) => topTests(spy, { ...range, limit: 10 })),
    };
    for (const [name, text] of Object.entries(plans)) {
      expect(text, `${name}\n${text}`).not.toMatch(/Seq Scan on runs/);
      // Runs whose labels fit an index row (all seeded ones) are read from the covering index alone...
      expect(text, `${name}\n${text}`).toMatch(/Index Only Scan using runs_finished_idx/);
      // ...and the rare ones with bigger labels through their own index, never by a scan of the table.
      expect(text, `${name}\n${text}`).toMatch(/runs_finished_wide_idx/);
    }
    const [inline] = (await store.listRuns({ definitionId: undefined, text: 'checkout' }, { limit: 1 })).items;
    const byName = await insightsPlan((spy) => previousRun(spy, { ...inline!, source: { type: 'inline', script: '' } }));
    expect(byName, byName).toMatch(/runs_name_idx/);
    const byDefinition = await insightsPlan((spy) => previousRun(spy, { ...inline!, source: { type: 'definition', definitionId: 'seed-def-7', script: '' } }));
    expect(byDefinition, byDefinition).toMatch(/runs_definition_idx/);
  });
  it('retention reads its next batch from the finished-runs indexes in order, not the table', async () => {
    const before = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const explain = async (text: string, params: unknown[]) =>
      (await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const overrides = JSON.stringify([{ label: 'env', value: 'prod', before: null }]);
    for (const [name, text] of [
      ['runs, first batch', await explain(RUNS_TO_DELETE, [before, null, null, overrides, 500])],
      ['runs, next batch', await explain(RUNS_TO_DELETE, [before, before, 'x', overrides, 500])],
    ]) {
      expect(text, `${name}\n${text}`).toMatch(/Index Scan using runs_retention_idx/);
      expect(text, `${name}\n${text}`).not.toMatch(/Seq Scan on runs|Sort/);
    }
    const logs = await explain(LOGS_TO_EXPIRE, [before, 500]);
    expect(logs, logs).toMatch(/Index Scan using runs_logs_expiry_idx/);
    expect(logs, logs).not.toMatch(/Seq Scan on runs|Sort/);
  });
});
