/**
 * Store benchmark: seeds N runs, then times listRuns queries, writeEvents and
 * claimRuns. Usage: tsx bench/store-bench.ts [count] [databaseUrl]
 * (PGlite in memory without a URL).
 */
import { openSql } from '../src/store/open-store.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { seedRuns } from '../src/store/seed.js';
import { listRunsQuery } from '../src/store/list-runs-query.js';
import type { RunFilter } from '../src/core/run.js';
import type { LogLine } from '../src/core/run-events.js';

const count = Number(process.argv[2] ?? 1_000_000);
const url = process.argv[3] ?? null;
const sql = await openSql({ databaseUrl: url });
const store = createPostgresStore(sql);
await store.migrate();

let t = performance.now();
await seedRuns(sql, count);
console.log(`seed ${count}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
t = performance.now();
await sql.query('ANALYZE runs');
console.log(`analyze: ${((performance.now() - t) / 1000).toFixed(1)} s`);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const filters: [string, RunFilter][] = [
  ['none', {}],
  ['phase=Failed', { phase: ['Failed'] }],
  ['phase=Failed,Error', { phase: ['Failed', 'Error'] }],
  ['origin=crd', { origin: ['crd'] }],
  ['appName=billing', { appName: 'billing' }],
  ['labels team=data,env=prod', { labels: { team: 'data', env: 'prod' } }],
  ['labels priority=high', { labels: { priority: 'high' } }],
  ['text=checkout', { text: 'checkout' }],
  ['text=checkout-smoke-42', { text: 'checkout-smoke-42' }],
  ['text=nomatch', { text: 'zzzqqq' }],
  ['definitionId', { definitionId: 'seed-def-7' }],
  ['phase=Failed+app+labels', { phase: ['Failed'], appName: 'shop', labels: { env: 'prod' } }],
  ['createdAfter 7d', { createdAfter: new Date(Date.now() - 7 * 86400_000).toISOString() }],
];
for (const [label, filter] of filters) {
  const times: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 15; i++) {
    const s = performance.now();
    const page = await store.listRuns(filter, { limit: 50, cursor: i % 3 === 2 ? cursor : null });
    times.push(performance.now() - s);
    cursor = page.nextCursor;
  }
  const q = listRunsQuery(filter, 50, null);
  const plan = (await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.params)).rows.map((r) => r['QUERY PLAN']);
  console.log(`listRuns ${label}: p50 ${p50(times).toFixed(1)} ms  plan: ${plan[1]?.trim() ?? plan[0]}`);
}

// writeEvents: 100-line batches into one running run.
const run = await store.createRun({ name: 'bench', origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });
await store.claimRuns('bench', 1, 1_000_000);
const batches = 200;
t = performance.now();
let seq = 0;
for (let b = 0; b < batches; b++) {
  const logs: LogLine[] = [];
  for (let i = 0; i < 100; i++) {
    logs.push({ runId: run.id, seq: ++seq, ts: new Date().toISOString(), level: 'info', message: `line ${seq} some log text of a typical length`, stepSeq: null });
  }
  await store.writeEvents({ logs, steps: [], assertions: [] });
}
const secs = (performance.now() - t) / 1000;
console.log(`writeEvents: ${Math.round((batches * 100) / secs)} lines/s (batches of 100)`);

// claimRuns: queue 2000 runs, claim 10 at a time.
for (let i = 0; i < 2000; i++) {
  await store.createRun({ name: `q${i}`, origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });
}
t = performance.now();
let claimed = 0;
for (;;) {
  const got = await store.claimRuns('bench', 10, 1_000_000);
  if (got.length === 0) break;
  claimed += got.length;
}
const cs = (performance.now() - t) / 1000;
console.log(`claimRuns: ${claimed} runs in ${cs.toFixed(2)} s = ${Math.round(claimed / cs)} runs/s (batches of 10), ${Math.round(claimed / 10 / cs)} calls/s`);
await store.close();
