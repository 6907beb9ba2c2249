import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';
import { describeStoreContract, truncateAll } from './store.contract.js';
import { describeRunStatsContract } from './run-stats.contract.js';
import { describeImportRunContract } from './import-run.contract.js';
import { openPglite } from './pglite-sql.js';
import { createPostgresStore } from './postgres-store.js';
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

describeImportRunContract('PGlite (in memory)', async () => {
  const { sql, store } = await openShared();
  await truncateAll(sql);
  return { sql, store, close: async () => {} };
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
