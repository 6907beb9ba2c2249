import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { callProcedure } from './procedures.js';
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

  describe("PostgreSQL's thread: what callers of Sql see", () => {
    let db: Sql;
    beforeAll(async () => {
      db = await openPostgres(await freshDatabase());
      await db.exec('CREATE TABLE thread_t (id int PRIMARY KEY, name text, at timestamptz, j jsonb)');
    });
    afterAll(async () => {
      await db?.close();
    });

    it("gives PostgreSQL's error fields and its types (Dates, json objects, arrays) across the thread", async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      await db.query('INSERT INTO thread_t VALUES ($1, $2, $3, $4)', [1, 'one', at, JSON.stringify({ a: [1, 2] })]);
      const { rows } = await db.query<{ at: Date; j: unknown; ids: number[] }>('SELECT at, j, ARRAY[id, id + 1] AS ids FROM thread_t WHERE id = $1', [1]);
      expect(rows[0]!.at).toBeInstanceOf(Date);
      expect(rows[0]!.at.toISOString()).toBe(at.toISOString());
      expect(rows[0]).toMatchObject({ j: { a: [1, 2] }, ids: [1, 2] });
      const error = await db.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [1, 'again']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: '23505', constraint: 'thread_t_pkey' });
      expect((error as { detail?: string }).detail).toMatch(/\(id\)=\(1\)/);
    });

    it('rolls a transaction back when its function throws; statements sent together run in order, and a failed one rolls all of it back', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [2, 'two']);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      const together = await db.transaction(async (tx) => {
        const [, , seen] = await Promise.all([
          tx.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [10, 'ten']),
          tx.query('UPDATE thread_t SET name = $2 WHERE id = $1', [10, 'TEN']),
          tx.query<{ name: string }>('SELECT name FROM thread_t WHERE id = $1', [10]),
        ]);
        return seen.rows.map((r) => r.name);
      });
      expect(together).toEqual(['TEN']);
      const failed = db.transaction((tx) =>
        Promise.all([
          tx.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [11, 'eleven']),
          tx.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [10, 'ten again']), // duplicate key
          tx.query('INSERT INTO thread_t (id, name) VALUES ($1, $2)', [12, 'twelve']),
        ]),
      );
      await expect(failed).rejects.toMatchObject({ code: '23505' });
      const { rows } = await db.query<{ id: number }>('SELECT id FROM thread_t ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([1, 10]);
    });

    it('refuses a procedure it does not know and stays usable; a failing one gives its error and ends its transaction', async () => {
      await expect(db.call!('dropEverything', [])).rejects.toThrow('no procedure "dropEverything"');
      const batch = { logs: [{ runId: 'r', seq: 1, ts: new Date(0).toISOString(), level: 'info' as const, message: 'x', stepSeq: null }], steps: [], assertions: [] };
      await expect(callProcedure(db, 'writeEvents', batch, [])).rejects.toMatchObject({ code: '42P01' }); // no run_logs table here
      // Every connection it used went back to its pool whole: more transactions than the pool has connections still run.
      const counts = await Promise.all(Array.from({ length: 25 }, () => db.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_t')).rows[0]!.n)));
      expect(new Set(counts)).toEqual(new Set([2]));
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
