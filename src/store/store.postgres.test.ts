import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeStoreContract, truncateAll } from './store.contract.js';
import { describeRunStatsContract } from './run-stats.contract.js';
import { describeTestResultsContract } from './test-results.contract.js';
import { describeCategoryContract } from './category.contract.js';
import { describeRunProfileContract } from './run-profile.contract.js';
import { describeRetentionContract } from './retention.contract.js';
import { describeImportRunContract } from './import-run.contract.js';
import { openPostgres } from './pg-sql.js';
import { describeThreadSqlContract } from './thread-sql.contract.js';
import { createPostgresStore } from './postgres-store.js';
import { migrate } from './migrate.js';
import { CLAIM_LOCK, CLAIM_LOCK_BY_INDEX, CLAIM_SHARED, INSERT_STARTING_RUNS } from './run-queue-sql.js';
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

  let shared: { sql: Sql; store: Store; url: string } | null = null;

  beforeAll(async () => {
    const url = await freshDatabase();
    const sql = await openPostgres(url);
    const store = createPostgresStore(sql);
    await store.migrate();
    shared = { sql, store, url };
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

  describeCategoryContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeRunStatsContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeTestResultsContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeRunProfileContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeRetentionContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describeImportRunContract('PostgreSQL', async () => {
    await truncateAll(shared!.sql);
    return { sql: shared!.sql, store: shared!.store, close: async () => {} };
  });

  describe("PostgreSQL's thread", () => {
    it("runs the engine's transactions whole while the server's thread is busy, and gives their errors PostgreSQL's fields", async () => {
      const { sql, store, url } = shared!;
      await truncateAll(sql);
      const queued = await store.createRun({ name: 'waits', origin: 'api', source: { type: 'inline', script: 'x = 1' }, timeoutSeconds: 60 });
      const claimed = store.claimRuns('exec-busy', 1, 10);
      // The claim is five statements (BEGIN, lock, count, claim, COMMIT). With this thread
      // blocked, only a claim on another thread can reach PostgreSQL, which another
      // process (psql) reads meanwhile.
      const deadline = Date.now() + 10_000;
      let phase = '';
      while (Date.now() < deadline) {
        phase = execFileSync('psql', [url, '-Atc', `SELECT phase FROM runs WHERE id = '${queued.id}'`], { encoding: 'utf8' }).trim();
        if (phase === 'Running') break;
      }
      expect(phase).toBe('Running');
      expect((await claimed).map((r) => [r.id, r.phase])).toEqual([[queued.id, 'Running']]);
      // A procedure's error crosses the thread with PostgreSQL's code: the store names the id.
      await expect(store.createRuns([{ name: 'again', id: queued.id, origin: 'api', source: { type: 'inline', script: 'x = 1' }, timeoutSeconds: 60 }], { owner: 'exec-busy', max: 1, globalLimit: 10 })).rejects.toThrow(
        `a run with id "${queued.id}" already exists`,
      );
    });
  });

  describeThreadSqlContract('PostgreSQL', {
    open: async () => openPostgres(await freshDatabase()),
    openAndForget: async () => {
      const pgSql = fileURLToPath(new URL('../../dist/store/pg-sql.js', import.meta.url));
      const url = await freshDatabase();
      return `const m = await import(${JSON.stringify(pgSql)}); const sql = await m.openPostgres(${JSON.stringify(url)}); const { rows } = await sql.query('SELECT $1::int AS n', [7]); console.log(rows[0].n);`;
    },
  });

  describe('PostgreSQL queue statements', () => {
    it('a claim and an insert that starts runs go by index, even with the plan a fresh database gives them', async () => {
      // A fresh database says `runs` is empty until autovacuum first analyzes it, and each
      // connection keeps the generic plan it makes then: these statements must not scan
      // the table then, or every claim reads the whole history under the claimers' lock.
      const url = await freshDatabase();
      const sql = await openPostgres(url);
      await migrate(sql);
      await sql.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const planOf = async (statement: string, types: string, args: unknown[]): Promise<string> => {
          await client.query('BEGIN');
          try {
            await client.query(CLAIM_LOCK_BY_INDEX, [CLAIM_LOCK]);
            await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
            await client.query(`PREPARE planned(${types}) AS WITH result_rows AS (${statement}) SELECT count(*) FROM result_rows`);
            const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE planned(${args.map((a) => client.escapeLiteral(String(a))).join(', ')})`);
            return rows.map((r) => r['QUERY PLAN']).join('\n');
          } finally {
            await client.query('ROLLBACK');
            await client.query('DEALLOCATE ALL');
          }
        };
        const claim = await planOf(CLAIM_SHARED, 'text, int', ['exec-a', 8]);
        expect(claim, claim).toMatch(/Index Scan using runs_active_idx/);
        expect(claim, claim).toMatch(/runs_pkey/);
        expect(claim, claim).not.toMatch(/Seq Scan on runs/);
        const insert = await planOf(INSERT_STARTING_RUNS, 'jsonb, text, int, int', ['[]', 'exec-a', 8, 10]);
        expect(insert, insert).not.toMatch(/Seq Scan on (runs|run_counts)/);
      } finally {
        await client.end();
      }
    });
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
