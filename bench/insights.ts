import { loadConfig } from '../src/config/config.js';
import { startTopas } from '../src/server/start.js';
import { openPglite } from '../src/store/pglite-sql.js';
import { adminAuth, timeGets } from './http-load.js';
import { seededData } from './seeded-runs.js';
import { median, round, summarize } from './stats.js';

/**
 * Trends, top lists and stats over HTTP with 1,000,000 stored runs (BENCH_RUNS),
 * on the embedded database. PGlite has no autovacuum, so the figures are taken
 * twice: as seeded (trends and top read the heap for every row) and after
 * `VACUUM` (they read only the covering index). The reference is the run list's
 * `phase=Failed&limit=50` on the same server.
 */
export async function benchInsights() {
  const count = Number(process.env.BENCH_RUNS ?? 1_000_000);
  const { dir: data, seedSeconds } = await seededData(count);
  const asSeeded = await measure(data, 2, ['trends (14 days by day)', 'top (14 days, limit 10)', 'stats (runs per phase)']);
  const v0 = performance.now();
  const sql = await openPglite(data);
  await sql.exec('VACUUM ANALYZE runs');
  await sql.close();
  const vacuumSeconds = (performance.now() - v0) / 1000;
  const vacuumed = await measure(data, 15);
  const trends = vacuumed.latencyMs['trends (14 days by day)'] as { p50: number };
  return {
    storedRuns: count,
    seedSeconds: round(seedSeconds, 1),
    asSeeded: asSeeded.latencyMs,
    vacuumSeconds: round(vacuumSeconds, 1),
    afterVacuum: vacuumed.latencyMs,
    reference: { what: 'GET /api/runs?phase=Failed&limit=50 on the same server', p50Ms: vacuumed.referenceP50 },
    ratioToReference: round(trends.p50 / vacuumed.referenceP50, 2),
  };
}

/** Times each query (`only` those named) `samples` times over HTTP, and the reference. */
async function measure(data: string, samples: number, only?: string[]) {
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
  try {
    const api = `${topas.url}/api`;
    const auth = adminAuth(topas);
    const queries: Record<string, [string, number]> = {
      'trends (14 days by day)': [`${api}/insights/trends`, samples],
      'trends (14 days by hour)': [`${api}/insights/trends?bucket=hour`, samples],
      'trends label=team=data': [`${api}/insights/trends?labels=team%3Ddata`, samples],
      'trends definitionId': [`${api}/insights/trends?definitionId=seed-def-7`, samples],
      'top (14 days, limit 10)': [`${api}/insights/top`, samples],
      'stats (runs per phase)': [`${api}/stats`, 100],
    };
    const latencyMs: Record<string, unknown> = {};
    for (const [name, [url, n]] of Object.entries(queries)) {
      if (only && !only.includes(name)) continue;
      await timeGets(url, 1, auth); // warm
      latencyMs[name] = summarize(await timeGets(url, n, auth));
    }
    await timeGets(`${api}/runs?phase=Failed&limit=50`, 5, auth);
    const reference = await timeGets(`${api}/runs?phase=Failed&limit=50`, 50, auth);
    return { latencyMs, referenceP50: round(median(reference), 3) };
  } finally {
    await topas.close(0);
  }
}
