/** The PGlite wrapper's lanes, on a real (in-memory) PGlite: the engine's statements go before queued API reads. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './pglite-sql.js';
import { readLaneOf, type Sql } from './sql.js';

let sql: Sql;
beforeAll(async () => {
  sql = await openPglite(undefined);
});
afterAll(async () => {
  await sql?.close();
});

describe('PGlite priority lanes', () => {
  it('runs an engine statement before the API reads queued ahead of it', async () => {
    const reads = readLaneOf(sql);
    const order: string[] = [];
    const queued = Array.from({ length: 10 }, (_, i) => reads.query<{ n: number }>('SELECT $1::int AS n', [i]).then((r) => order.push(`read${r.rows[0]!.n}`)));
    const engine = sql.query<{ n: number }>('SELECT 42 AS n').then((r) => order.push(`engine${r.rows[0]!.n}`));
    await Promise.all([...queued, engine]);
    // At most the read already under way went first; then the engine's statement, then the other reads in order.
    const first = order.indexOf('engine42');
    expect(first).toBeLessThanOrEqual(1);
    expect(order.filter((x) => x !== 'engine42')).toEqual(Array.from({ length: 10 }, (_, i) => `read${i}`));
  });

  it('runs an engine transaction before queued reads, and no read sees it half done', async () => {
    await sql.exec('CREATE TABLE lane_t (n int)');
    const reads = readLaneOf(sql);
    const seen: number[] = [];
    const queued = Array.from({ length: 5 }, () => reads.query<{ c: number }>('SELECT count(*)::int AS c FROM lane_t').then((r) => seen.push(r.rows[0]!.c)));
    const tx = sql.transaction(async (t) => {
      await t.query('INSERT INTO lane_t VALUES (1)');
      await t.query('INSERT INTO lane_t VALUES (2)');
      seen.push(-1); // the transaction's end, among the reads' answers
    });
    await Promise.all([...queued, tx]);
    // At most the read already under way went first; every later read sees both rows, never one.
    const end = seen.indexOf(-1);
    expect(end).toBeLessThanOrEqual(1);
    expect(seen.slice(0, end).every((c) => c === 0)).toBe(true);
    expect(seen.slice(end + 1)).toEqual(Array(5 - end).fill(2));
  });

  it('gives the event loop a turn between queued statements (connections are accepted meanwhile)', async () => {
    const reads = readLaneOf(sql);
    let done = 0;
    const queued = Array.from({ length: 200 }, () => reads.query('SELECT 1').then(() => done++));
    // A timer due now fires while most of the 200 reads still wait.
    const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(done), 0));
    await Promise.all(queued);
    expect(atTimer).toBeLessThan(200);
    expect(done).toBe(200);
  });

  it('gives waiting reads their share of the time while engine statements keep coming: reads slow down, never starve', async () => {
    const reads = readLaneOf(sql);
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // An engine transaction holds the database while the rest queue up behind it.
    const holder = sql.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await held;
    });
    // Engine statements of 10 ms each, and cheap reads, all waiting at once.
    const engine = Array.from({ length: 20 }, (_, i) => sql.query('SELECT pg_sleep(0.01)').then(() => order.push(`engine${i}`)));
    const read = Array.from({ length: 5 }, (_, i) => reads.query('SELECT 1').then(() => order.push(`read${i}`)));
    release();
    await Promise.all([holder, ...read, ...engine]);
    // The reads, a small share of the time, are all answered long before the engine's
    // queue is empty (counting statements, a read waited for 8 engine statements).
    expect(order.indexOf('read4')).toBeLessThan(order.indexOf('engine5'));
    expect(order.filter((x) => x.startsWith('engine'))).toEqual(Array.from({ length: 20 }, (_, i) => `engine${i}`));
  });

  it('closing the read lane leaves the database open', async () => {
    await readLaneOf(sql).close();
    expect((await sql.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
  });
});
