/** The embedded database on its own thread: what callers of `Sql` see (errors, transactions, prepared statements) and what the server's thread gains. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './pglite-sql.js';
import { callProcedure } from './procedures.js';
import type { Sql } from './sql.js';

let sql: Sql;
beforeAll(async () => {
  sql = await openPglite(undefined);
  await sql.exec('CREATE TABLE thread_t (id int PRIMARY KEY, name text)');
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

  it("gives PostgreSQL's error fields to the caller (code, constraint, detail)", async () => {
    await sql.query('INSERT INTO thread_t VALUES ($1, $2)', [1, 'one']);
    const error = await sql.query('INSERT INTO thread_t VALUES ($1, $2)', [1, 'again']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: '23505', constraint: 'thread_t_pkey' });
    expect((error as Error).message).toMatch(/duplicate key/);
    expect((error as { detail?: string }).detail).toMatch(/\(id\)=\(1\)/);
  });

  it('rolls a transaction back when its function throws, and commits it when it returns', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO thread_t VALUES ($1, $2)', [2, 'two']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const committed = await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO thread_t VALUES ($1, $2)', [3, 'three']);
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_t')).rows[0]!.n;
    });
    expect(committed).toBe(2);
    const { rows } = await sql.query<{ id: number }>('SELECT id FROM thread_t ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
  });

  it('runs statements sent together in one transaction in the order they were issued; a failed one rolls all of it back', async () => {
    // Issued at once, before the transaction holds the database, while another one holds it.
    const holder = sql.transaction(async (tx) => {
      await tx.query('SELECT pg_sleep(0.05)');
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_t WHERE id >= 10')).rows[0]!.n;
    });
    const together = sql.transaction(async (tx) => {
      const [, , seen] = await Promise.all([
        tx.query('INSERT INTO thread_t VALUES ($1, $2)', [10, 'ten']),
        tx.query('UPDATE thread_t SET name = $2 WHERE id = $1', [10, 'TEN']),
        tx.query<{ name: string }>('SELECT name FROM thread_t WHERE id = $1', [10]),
      ]);
      return seen.rows.map((r) => r.name);
    });
    expect(await holder).toBe(0); // nothing of the second ran while the first held the database
    expect(await together).toEqual(['TEN']);

    const failed = sql.transaction((tx) =>
      Promise.all([
        tx.query('INSERT INTO thread_t VALUES ($1, $2)', [11, 'eleven']),
        tx.query('INSERT INTO thread_t VALUES ($1, $2)', [10, 'ten again']), // duplicate key
        tx.query('INSERT INTO thread_t VALUES ($1, $2)', [12, 'twelve']),
      ]),
    );
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    const { rows } = await sql.query<{ id: number }>('SELECT id FROM thread_t WHERE id >= 10 ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([10]);
  });

  it('runs a store procedure whole on its thread; one it does not know is refused and leaves the database usable', async () => {
    await expect(sql.call!('dropEverything', [])).rejects.toThrow('no procedure "dropEverything"');
    // Nothing of it holds the database: a transaction and a statement still run.
    expect(await sql.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n)).toBe(1);
    // A known one that fails gives PostgreSQL's error (code and all) and ends its transaction.
    const batch = { logs: [{ runId: 'r', seq: 1, ts: new Date(0).toISOString(), level: 'info' as const, message: 'x', stepSeq: null }], steps: [], assertions: [] };
    await expect(callProcedure(sql, 'writeEvents', batch, [])).rejects.toMatchObject({ code: '42P01' }); // no run_logs table here
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_t')).rows[0]!.n).toBeGreaterThan(0);
  });

  it('returns the types PGlite parses (timestamps as Dates, json as objects, arrays, numbers) and binds them back', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const { rows } = await sql.query<{ at: Date; j: { a: number[] }; ids: string[]; n: number; b: boolean; none: null }>(
      'SELECT $1::timestamptz AS at, $2::jsonb AS j, $3::text[] AS ids, $4::int AS n, $5::boolean AS b, $6::text AS none',
      [at, JSON.stringify({ a: [1, 2] }), ['x', 'y,z', 'q"uote'], 42, true, null],
    );
    expect(rows[0]).toEqual({ at, j: { a: [1, 2] }, ids: ['x', 'y,z', 'q"uote'], n: 42, b: true, none: null });
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

  /** Runs `args` with node; resolves with its stdout and exit code. */
  async function node(args: string[]): Promise<{ out: string; code: number | null }> {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { out: out.trim(), code };
  }
  const pgliteSql = fileURLToPath(new URL('../../dist/store/pglite-sql.js', import.meta.url));
  // Opens the database, answers one statement and never closes it.
  const openAndForget = `const m = await import(${JSON.stringify(pgliteSql)}); const sql = await m.openPglite(undefined); const { rows } = await sql.query('SELECT $1::int AS n', [7]); console.log(rows[0].n);`;

  it('does not keep a process alive once its statements are answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topas-pglite-exit-'));
    const script = join(dir, 'open-and-forget.mjs');
    await writeFile(script, openAndForget);
    // A V8 flag on the command line: the database thread inherits it without complaint.
    expect(await node(['--max-old-space-size=512', script])).toEqual({ out: '7', code: 0 });
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts under node -e --input-type=module, a flag worker threads refuse, even beside a V8 flag', async () => {
    expect(await node(['--input-type=module', '-e', openAndForget])).toEqual({ out: '7', code: 0 });
    expect(await node(['--max-old-space-size=512', '--input-type=module', '-e', openAndForget])).toEqual({ out: '7', code: 0 });
  }, 60_000);
});
