import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeStoreContract, truncateAll } from './store.contract.js';
import { describeRunStatsContract } from './run-stats.contract.js';
import { describeRunProfileContract } from './run-profile.contract.js';
import { openPostgres } from './pg-sql.js';
import { createPostgresStore } from './postgres-store.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

/**
 * Runs the store contract against a real PostgreSQL when TEST_DATABASE_URL is set
 * (e.g. postgres://postgres@127.0.0.1:5432/test). Each test file gets its own fresh
 * database, dropped afterwards, so a shared server is safe.
 */
const adminUrl = process.env.TEST_DATABASE_URL;

if (!adminUrl) {
  describe.skip('Store contract: PostgreSQL (skipped: set TEST_DATABASE_URL=postgres://user@host:5432/db to run it)', () => {
    it('needs TEST_DATABASE_URL', () => {});
  });
} else {
  const created: string[] = [];

  /** Creates an empty database and returns its URL. */
  async function freshDatabase(): Promise<string> {
    const name = `topas_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    created.push(name);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    return url.toString();
  }

  let shared: { sql: Sql; store: Store } | null = null;

  beforeAll(async () => {
    const sql = await openPostgres(await freshDatabase());
    const store = createPostgresStore(sql);
    await store.migrate();
    shared = { sql, store };
  });

  afterAll(async () => {
    await shared?.store.close();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  describeStoreContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeRunStatsContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeRunProfileContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describe('PostgreSQL migrations', () => {
    it('apply once when several processes migrate at the same time', async () => {
      const url = await freshDatabase();
      const conns = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url)));
      try {
        const applied = await Promise.all(conns.map((sql) => migrate(sql)));
        const all = MIGRATIONS.map((m) => m.version);
        expect(applied.flat().sort((a, b) => a - b)).toEqual(all);
        const { rows } = await conns[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(all);
      } finally {
        await Promise.all(conns.map((sql) => sql.close()));
      }
    });
  });
}
