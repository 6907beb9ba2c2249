/**
 * What callers of `Sql` see of a database reached through its thread (`database-thread.ts`),
 * PGlite and PostgreSQL alike: PostgreSQL's error fields and types across the thread,
 * transactions whose statements may be sent together, procedures run whole, and a
 * process that ends once its statements are answered. Each database's own test file
 * runs it (`pglite-sql.test.ts`, `store.postgres.test.ts`) beside what only it does.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callProcedure } from './procedures.js';
import type { Sql } from './sql.js';

export interface ThreadSqlFixture {
  /** Opens an empty database through its thread. */
  open(): Promise<Sql>;
  /**
   * An ES module's source (for `node --input-type=module -e`) that opens such a database
   * from the build in `dist/`, prints the answer to `SELECT 7`, and never closes it.
   */
  openAndForget(): Promise<string>;
}

export function describeThreadSqlContract(name: string, fixture: ThreadSqlFixture): void {
  describe(`${name} through its thread: what callers of Sql see`, () => {
    let sql: Sql;
    beforeAll(async () => {
      sql = await fixture.open();
      await sql.exec('CREATE TABLE contract_t (id int PRIMARY KEY, name text)');
    });
    afterAll(async () => {
      await sql?.close();
    });

    it("gives PostgreSQL's error fields (code, constraint, detail) and its types (Dates, json objects, arrays) across the thread", async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      const { rows } = await sql.query<{ at: Date; j: unknown; ids: string[]; n: number; b: boolean; none: null }>(
        'SELECT $1::timestamptz AS at, $2::jsonb AS j, $3::text[] AS ids, $4::int AS n, $5::boolean AS b, $6::text AS none',
        [at, JSON.stringify({ a: [1, 2] }), ['x', 'y,z', 'q"uote'], 42, true, null],
      );
      expect(rows[0]).toEqual({ at, j: { a: [1, 2] }, ids: ['x', 'y,z', 'q"uote'], n: 42, b: true, none: null });
      await sql.query('INSERT INTO contract_t VALUES ($1, $2)', [1, 'one']);
      const error = await sql.query('INSERT INTO contract_t VALUES ($1, $2)', [1, 'again']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: '23505', constraint: 'contract_t_pkey' });
      expect((error as Error).message).toMatch(/duplicate key/);
      expect((error as { detail?: string }).detail).toMatch(/\(id\)=\(1\)/);
    });

    it('rolls a transaction back when its function throws, and commits it when it returns', async () => {
      await expect(
        sql.transaction(async (tx) => {
          await tx.query('INSERT INTO contract_t VALUES ($1, $2)', [2, 'two']);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      const committed = await sql.transaction(async (tx) => {
        await tx.query('INSERT INTO contract_t VALUES ($1, $2)', [3, 'three']);
        return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM contract_t')).rows[0]!.n;
      });
      expect(committed).toBe(2);
      const { rows } = await sql.query<{ id: number }>('SELECT id FROM contract_t ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([1, 3]);
    });

    it('runs statements sent together in one transaction in the order they were issued; a failed one rolls all of it back', async () => {
      const together = await sql.transaction(async (tx) => {
        const [, , seen] = await Promise.all([
          tx.query('INSERT INTO contract_t VALUES ($1, $2)', [10, 'ten']),
          tx.query('UPDATE contract_t SET name = $2 WHERE id = $1', [10, 'TEN']),
          tx.query<{ name: string }>('SELECT name FROM contract_t WHERE id = $1', [10]),
        ]);
        return seen.rows.map((r) => r.name);
      });
      expect(together).toEqual(['TEN']);
      const failed = sql.transaction((tx) =>
        Promise.all([
          tx.query('INSERT INTO contract_t VALUES ($1, $2)', [11, 'eleven']),
          tx.query('INSERT INTO contract_t VALUES ($1, $2)', [10, 'ten again']), // duplicate key
          tx.query('INSERT INTO contract_t VALUES ($1, $2)', [12, 'twelve']),
        ]),
      );
      await expect(failed).rejects.toMatchObject({ code: '23505' });
      const { rows } = await sql.query<{ id: number }>('SELECT id FROM contract_t WHERE id >= 10 ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([10]);
    });

    it('refuses a procedure it does not know; a failing one gives its error and ends its transaction, leaving the database usable', async () => {
      await expect(sql.call!('dropEverything', [])).rejects.toThrow('no procedure "dropEverything"');
      const batch = { logs: [{ runId: 'r', seq: 1, ts: new Date(0).toISOString(), level: 'info' as const, message: 'x', stepSeq: null }], steps: [], assertions: [] };
      await expect(callProcedure(sql, 'writeEvents', batch, [])).rejects.toMatchObject({ code: '42P01' }); // no run_logs table here
      // Nothing of either holds the database or a connection: more transactions than a pool has connections still run.
      const counts = await Promise.all(Array.from({ length: 25 }, () => sql.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM contract_t')).rows[0]!.n)));
      expect(new Set(counts)).toEqual(new Set([3]));
    });

    it('does not keep a process alive once its statements are answered, and starts under node -e --input-type=module (a flag worker threads refuse) beside a V8 flag', async () => {
      const source = await fixture.openAndForget();
      expect(await node(['--max-old-space-size=512', '--input-type=module', '-e', source])).toEqual({ out: '7', code: 0 });
    }, 60_000);
  });
}

/** Runs `args` with node; resolves with its stdout and exit code. */
export async function node(args: string[]): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { out: out.trim(), code };
}
