import { loadConfig } from '../src/config/config.js';
import { startTopas } from '../src/server/start.js';
import { seededData } from './seeded-runs.js';
import { adminAuth, timeGets } from './http-load.js';
import { median, round, summarize } from './stats.js';

/** Listing runs over HTTP with 1,000,000 stored runs (BENCH_RUNS to change). */
export async function benchListRuns() {
  const count = Number(process.env.BENCH_RUNS ?? 1_000_000);
  const { dir: data, seedSeconds } = await seededData(count);
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
  try {
    const base = `${topas.url}/api/runs`;
    const auth = adminAuth(topas);
    const page1 = (await (await fetch(`${base}?phase=Failed&limit=50`, { headers: auth })).json()) as { items: unknown[]; nextCursor: string };
    const queries: Record<string, string> = {
      'phase=Failed&limit=50': `${base}?phase=Failed&limit=50`,
      'phase=Failed&limit=50 (page 2)': `${base}?phase=Failed&limit=50&cursor=${encodeURIComponent(page1.nextCursor)}`,
      'limit=50 (no filter)': `${base}?limit=50`,
      'origin=crd&limit=50': `${base}?origin=crd&limit=50`,
      'label=priority=high&limit=50': `${base}?label=priority%3Dhigh&limit=50`,
      'q=checkout&limit=50': `${base}?q=checkout&limit=50`,
    };
    const figures: Record<string, unknown> = {};
    for (const [name, url] of Object.entries(queries)) {
      await timeGets(url, 10, auth); // warm
      figures[name] = summarize(await timeGets(url, 200, auth));
    }
    const health = await timeGets(`${topas.url}/healthz`, 200);
    const failed = figures['phase=Failed&limit=50'] as { p50: number };
    return {
      storedRuns: count,
      seedSeconds: round(seedSeconds, 1),
      firstPageItems: page1.items.length,
      latencyMs: figures,
      reference: { what: 'GET /healthz round trip on the same server', p50Ms: round(median(health), 3) },
      ratioToReference: round(failed.p50 / median(health), 2),
    };
  } finally {
    await topas.close(0);
  }
}
