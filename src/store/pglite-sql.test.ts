/** The embedded database on its own thread: what only PGlite's does (one session, prepared statements, the server's thread kept free), then the contract every database thread keeps. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './pglite-sql.js';
import { describeThreadSqlContract, node } from './thread-sql.contract.js';
import type { Sql } from './sql.js';

const pgliteSql = fileURLToPath(new URL('../../dist/store/pglite-sql.js', import.meta.url));
/** Opens the database, answers one statement and never closes it. */
const openAndForget = `const m = await import(${JSON.stringify(pgliteSql)}); const sql = await m.openPglite(undefined); const { rows } = await sql.query('SELECT $1::int AS n', [7]); console.log(rows[0].n);`;

let sql: Sql;
beforeAll(async () => {
  sql = await openPglite(undefined);
  await sql.exec('CREATE TABLE thread_t (id int PRIMARY KEY, name text)');
  await sql.query('INSERT INTO thread_t VALUES ($1, $2)', [1, 'one']);
});
afterAll(async () => {
  await sql?.close();
});

describe('PGlite on its own thread', () => {
  it('keeps the server thread free while a long statement runs', async () => {
    const started = performance.now();
    const long = sql.query<{ n: number }>('SELECT count(*)::int AS n FROM generate_series(1, 3000000) g, LATERAL (SELECT g % 7) x');
    // Ticks of a 10 ms timer on this thread while the statement runs.
    const gaps: number[] = [];
    let last = performance.now();
    let running = true;
    void long.finally(() => (running = false));
    while (running) {
      await new Promise((r) => setTimeout(r, 10));
      gaps.push(performance.now() - last);
      last = performance.now();
    }
    expect((await long).rows[0]!.n).toBe(3000000);
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(200); // long enough for the gaps to mean something
    expect(gaps.length).toBeGreaterThan(5);
    // On the old single thread, one gap would have been the whole statement.
    expect(Math.max(...gaps)).toBeLessThan(Math.min(150, took / 2));
  });

  it('runs a transaction only once it holds the database: one session, nothing of another transaction in between', async () => {
    // Issued at once, before the second transaction holds the database, while the first one holds it.
    const holder = sql.transaction(async (tx) => {
      await tx.query('SELECT pg_sleep(0.05)');
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_t WHERE id >= 10')).rows[0]!.n;
    });
    const together = sql.transaction(async (tx) => {
      const [, seen] = await Promise.all([
        tx.query('INSERT INTO thread_t VALUES ($1, $2)', [10, 'ten']),
        tx.query<{ name: string }>('SELECT name FROM thread_t WHERE id = $1', [10]),
      ]);
      return seen.rows.map((r) => r.name);
    });
    expect(await holder).toBe(0); // nothing of the second ran while the first held the database
    expect(await together).toEqual(['ten']);
  });

  it('prepares a statement again when its table changes shape', async () => {
    const before = await sql.query('SELECT * FROM thread_t WHERE id = $1', [1]);
    expect(Object.keys(before.rows[0]!)).toEqual(['id', 'name']);
    await sql.exec('ALTER TABLE thread_t ADD COLUMN extra text');
    const after = await sql.query('SELECT * FROM thread_t WHERE id = $1', [1]);
    expect(Object.keys(after.rows[0]!)).toEqual(['id', 'name', 'extra']);
  });

  it('runs more distinct statements than it keeps prepared', async () => {
    for (let i = 0; i < 300; i++) {
      const { rows } = await sql.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1]);
      expect(rows[0]!.n).toBe(i + 1);
    }
    // The first ones were closed to make room: they still run.
    expect((await sql.query<{ n: number }>('SELECT $1::int + 0 AS n', [5])).rows[0]!.n).toBe(5);
  });

  it('does not keep a process alive once its statements are answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topas-pglite-exit-'));
    const script = join(dir, 'open-and-forget.mjs');
    await writeFile(script, openAndForget);
    // A V8 flag on the command line: the database thread inherits it without complaint.
    expect(await node(['--max-old-space-size=512', script])).toEqual({ out: '7', code: 0 });
    await rm(dir, { recursive: true, force: true });
  }, 60_000);
});

describeThreadSqlContract('PGlite', {
  open: () => openPglite(undefined),
  openAndForget: async () => openAndForget,
});
