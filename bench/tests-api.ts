import { loadConfig } from '../src/config/config.js';
import { startTopas } from '../src/server/start.js';
import { openPglite } from '../src/store/pglite-sql.js';
import { adminAuth, timeGets } from './http-load.js';
import { seededTestsData, seededTestsDatabase, tempDir, type SeededTests } from './seeded-tests.js';
import { median, round, summarize } from './stats.js';

/**
 * The Tests API (issue 12) over 1,000,000 stored runs (BENCH_RUNS) with 10 test
 * cases each (10,000,000 test results, ~2,000 tests; `seedTestResults`): the first
 * page of `GET /api/tests`, its second page and filters, one test's summary and its
 * history (first page and a page 100 results deep), p50/p95 over HTTP. Target: p50
 * and p95 under 100 ms. On the embedded PGlite as seeded (ANALYZE, no VACUUM, as a
 * store that just recorded them) and after `VACUUM ANALYZE` of the test tables
 * (BENCH_TESTS_VACUUM=false: not), and
 * on PostgreSQL (vacuumed) when BENCH_DATABASE_URL (default the local server) answers. Reference: `GET /api/runs?phase=Failed&limit=50` on the
 * same server, as for insights.
 */
export async function benchTestsApi() {
  const count = Number(process.env.BENCH_RUNS ?? 1_000_000);
  const samples = Number(process.env.BENCH_TESTS_SAMPLES ?? 50);
  // Both stores are seeded before anything is measured (a kept seed survives a failed measurement).
  const { dir, seeded } = await seededTestsData(count);
  const db = process.env.BENCH_TESTS_POSTGRES === 'false' ? { unavailable: 'BENCH_TESTS_POSTGRES=false' } : await seededTestsDatabase(count);
  try {
    const asSeeded = await measure(loadConfig({ port: 0, data: dir, examples: false }, {}), samples);
    let pglite: Record<string, unknown> = { seeded: seededFigures(seeded), asSeeded };
    if (process.env.BENCH_TESTS_VACUUM !== 'false') {
      const vacuumSeconds = await vacuumTests(dir);
      pglite = { ...pglite, vacuumSeconds: round(vacuumSeconds, 1), afterVacuum: await measure(loadConfig({ port: 0, data: dir, examples: false }, {}), samples) };
    }
    let postgres: unknown;
    if ('unavailable' in db) postgres = { skipped: db.unavailable };
    else {
      const data = await tempDir('topas-bench-pg-');
      postgres = { seeded: seededFigures(db.seeded), ...(await measure(loadConfig({ port: 0, data, examples: false }, { DATABASE_URL: db.url }), samples)) };
    }
    return { storedRuns: count, target: 'p50 and p95 < 100 ms', pglite, postgres };
  } finally {
    if (!('unavailable' in db)) await db.drop();
  }
}

function seededFigures(s: SeededTests) {
  return {
    runs: s.runs,
    testResults: s.testResults,
    tests: s.tests,
    flakyLooking: s.flakyLooking,
    runsSeedSeconds: s.runsSeedSeconds === null ? null : round(s.runsSeedSeconds, 1),
    testsSeedSeconds: s.testsSeedSeconds === null ? null : round(s.testsSeedSeconds, 1),
    reused: s.reused,
  };
}

interface TestsPage {
  items: { id: string; key: string; runs: number; flaky: boolean }[];
  nextCursor: string | null;
}

async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}: ${body.slice(0, 500)}`);
  return JSON.parse(body) as T;
}

/** Times the Tests API queries and the reference on a topas started with `config`. */
async function measure(config: ReturnType<typeof loadConfig>, samples: number) {
  const topas = await startTopas(config);
  try {
    const api = `${topas.url}/api`;
    const auth = adminAuth(topas);
    const first = await getJson<TestsPage>(`${api}/tests?limit=50`, auth);
    if (first.items.length === 0) throw new Error('GET /api/tests returned no tests');
    // The test with the longest history among the first page: its history is the deepest range.
    const busiest = [...first.items].sort((a, b) => b.runs - a.runs)[0]!;
    const history = `${api}/tests/${busiest.id}/history`;
    let deep = await getJson<{ nextCursor: string | null }>(`${history}?limit=50`, auth);
    deep = await getJson<{ nextCursor: string | null }>(`${history}?limit=50&cursor=${encodeURIComponent(deep.nextCursor ?? '')}`, auth);
    const queries: Record<string, string> = {
      'tests limit=50 (first page)': `${api}/tests?limit=50`,
      'tests limit=50 (page 2)': `${api}/tests?limit=50&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
      'tests text=checkout': `${api}/tests?limit=50&text=checkout`,
      'tests flaky=true': `${api}/tests?limit=50&flaky=true`,
      'tests outcome=Failed': `${api}/tests?limit=50&outcome=Failed`,
      'tests category=Config Gap': `${api}/tests?limit=50&category=${encodeURIComponent('Config Gap')}`,
      'test summary (GET /api/tests/{id})': `${api}/tests/${busiest.id}`,
      'test history limit=50 (first page)': `${history}?limit=50`,
      'test history limit=50 (page 3)': `${history}?limit=50&cursor=${encodeURIComponent(deep.nextCursor ?? '')}`,
    };
    const referenceUrl = `${api}/runs?phase=Failed&limit=50`;
    // Interleaved rounds (every query once per round, the reference too), so a busy
    // moment of this shared machine or of the server's first seconds hits all alike.
    const urls: [string, string][] = [...Object.entries(queries), ['reference', referenceUrl]];
    const times = new Map<string, number[]>(urls.map(([name]) => [name, []]));
    for (let round = -3; round < samples; round++) {
      for (const [name, url] of urls) {
        const [ms] = await timeGets(url, 1, auth);
        if (round >= 0) times.get(name)!.push(ms!);
      }
    }
    const latencyMs: Record<string, unknown> = {};
    for (const [name] of Object.entries(queries)) latencyMs[name] = summarize(times.get(name)!);
    const reference = median(times.get('reference')!);
    const referenceP95 = summarize(times.get('reference')!).p95;
    const ratio = (name: string) => round((latencyMs[name] as { p50: number }).p50 / reference, 2);
    const slowest = Object.entries(latencyMs).map(([name, s]) => ({ name, ...(s as { p50: number; p95: number }) }));
    return {
      busiestTest: { id: busiest.id, key: busiest.key, results: busiest.runs },
      firstPageItems: first.items.length,
      flakyOnFirstPage: first.items.filter((t) => t.flaky).length,
      latencyMs,
      reference: { what: 'GET /api/runs?phase=Failed&limit=50 on the same server', p50Ms: round(reference, 3), p95Ms: referenceP95 },
      ratioToReference: { 'tests first page': ratio('tests limit=50 (first page)'), 'test history first page': ratio('test history limit=50 (first page)') },
      overTarget: slowest.filter((s) => s.p50 >= 100 || s.p95 >= 100).map((s) => s.name),
    };
  } finally {
    await topas.close(0);
  }
}

/** Reopens an embedded data folder to run `VACUUM ANALYZE` on the test tables (for an after-vacuum comparison). */
export async function vacuumTests(dir: string): Promise<number> {
  const t0 = performance.now();
  const sql = await openPglite(dir);
  try {
    await sql.exec('VACUUM ANALYZE test_results');
    await sql.exec('VACUUM ANALYZE tests');
  } finally {
    await sql.close();
  }
  return (performance.now() - t0) / 1000;
}
