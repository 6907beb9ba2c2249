import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY } from '../core/run.js';
import { openStore } from './open-store.js';
import { describeStoreContract, truncateAll } from './store.contract.js';
import { describeRunStatsContract } from './run-stats.contract.js';
import { describeTestResultsContract } from './test-results.contract.js';
import { describeCategoryContract } from './category.contract.js';
import { describeRunProfileContract } from './run-profile.contract.js';
import { describeRetentionContract } from './retention.contract.js';
import { describeImportRunContract } from './import-run.contract.js';
import { openPglite } from './pglite-sql.js';
import { createPostgresStore, RUNS_VACUUM_AFTER } from './postgres-store.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

// Starting PGlite takes seconds, so the file shares one in-memory database and
// empties it before each test.
let shared: Promise<{ sql: Sql; store: Store }> | null = null;

async function openShared() {
  shared ??= (async () => {
    const sql = await openPglite(undefined);
    const store = createPostgresStore(sql);
    await store.migrate();
    return { sql, store };
  })();
  return shared;
}

afterAll(async () => {
  if (shared) await (await shared).store.close();
});

describeStoreContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeRunStatsContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeTestResultsContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeImportRunContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeCategoryContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeRunProfileContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describeRetentionContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
});

describe('PGlite: retention and maintenance', () => {
  it('the space of the log lines retention deleted is reused after maintenance: the history stops growing', async () => {
    const { sql, store } = await openShared();
    await truncateAll(sql);
    const fill = async (prefix: string, daysAgo: number) => {
      await sql.query(
        `INSERT INTO runs (id, name, phase, origin, source, timeout_seconds, created_at, started_at, finished_at)
         SELECT $1 || i, 'x', 'Passed', 'api', '{}', 60, now() - $2::int * interval '1 day', now() - $2::int * interval '1 day', now() - $2::int * interval '1 day'
           FROM generate_series(1, 100) i`,
        [prefix, daysAgo],
      );
      await sql.query(`INSERT INTO run_logs (run_id, seq, ts, level, message) SELECT r.id, s, now(), 'info', repeat('x', 200) FROM runs r, generate_series(1, 100) s WHERE r.id LIKE $1 || '%'`, [prefix]);
    };
    const logBytes = async () => Number((await sql.query<{ n: number }>(`SELECT pg_relation_size('run_logs')::bigint AS n`)).rows[0]!.n);
    await fill('old-', 40);
    const full = await logBytes();
    expect(await store.deleteRunsBefore({ before: new Date(Date.now() - 30 * 86_400_000).toISOString() })).toMatchObject({ runs: 100 });
    await store.maintain();
    await fill('new-', 0);
    expect(await logBytes()).toBeLessThanOrEqual(full);
  }, 60_000);
});

describe('PGlite: maintenance under load', () => {
  it(`vacuums runs once ${RUNS_VACUUM_AFTER} runs have finished since the last vacuum, not before`, async () => {
    const { sql } = await openShared();
    await truncateAll(sql);
    const store = createPostgresStore(sql); // its own count of finished runs
    const allVisible = async () => Number((await sql.query<{ n: number }>(`SELECT relallvisible::int AS n FROM pg_class WHERE relname = 'runs'`)).rows[0]!.n);
    const finish = async (n: number) => {
      for (let done = 0; done < n; ) {
        const batch = Math.min(1000, n - done);
        await store.createRuns(Array.from({ length: batch }, (_, i) => ({ name: `load-${done + i}`, origin: 'api' as const, source: { type: 'inline' as const, script: '' }, timeoutSeconds: 60 })));
        const claimed = await store.claimRuns('under-load', batch, 1_000_000);
        await store.finishRuns(claimed.map((run) => ({ id: run.id, owner: 'under-load', completion: { phase: 'Passed' as const, reason: null, message: null, summary: { ...EMPTY_SUMMARY } } })));
        done += claimed.length;
      }
    };
    await sql.exec('VACUUM runs'); // a clean start: then nothing is all-visible once runs change pages
    await finish(RUNS_VACUUM_AFTER - 1);
    const before = await allVisible();
    expect(await store.maintainUnderLoad()).toBe(false);
    expect(await allVisible()).toBe(before);
    await finish(1);
    expect(await store.maintainUnderLoad()).toBe(true);
    expect(await allVisible()).toBeGreaterThan(before);
    expect(await store.maintainUnderLoad()).toBe(false); // counted again from zero
  }, 120_000);
});

describe('PGlite on disk', () => {
  it('keeps data in <dataDir>/pgdata across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topas-store-'));
    try {
      const first = await openStore({ dataDir: dir });
      const run = await first.createRun({ name: 'kept', origin: 'cli', source: { type: 'inline', script: '' }, timeoutSeconds: 5 });
      await first.close();
      expect(existsSync(join(dir, 'pgdata', 'PG_VERSION'))).toBe(true);
      const second = await openStore({ dataDir: dir, databaseUrl: null });
      expect(await second.getRun(run.id)).toEqual(run);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
