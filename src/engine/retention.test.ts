/**
 * The retention sweeper over a real store (PGlite): only the leader sweeps, a stop
 * ends a sweep between batches, each sweep logs one line with its counts and the
 * counters reach the metrics registry; the first sweep comes by itself after start.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { openPglite } from '../store/pglite-sql.js';
import { createPostgresStore } from '../store/postgres-store.js';
import type { Sql } from '../store/sql.js';
import type { Store } from '../store/store.js';
import type { RetentionPolicy } from '../core/retention.js';
import { startRetention, type RetentionBatch } from './retention.js';

let sql: Sql;
let store: Store;

beforeAll(async () => {
  sql = await openPglite(undefined);
  store = createPostgresStore(sql);
  await store.migrate();
}, 60_000);
afterAll(async () => {
  await store?.close();
});

/** `n` runs that finished `days` days ago, each with `lines` log lines. */
async function oldRuns(n: number, days: number, lines = 0): Promise<void> {
  await sql.query(
    `INSERT INTO runs (id, name, phase, origin, source, timeout_seconds, created_at, started_at, finished_at, duration_ms)
     SELECT 'old-' || $2::int::text || '-' || lpad(i::text, 5, '0'), 'old', 'Passed', 'api', '{"type":"inline","script":""}', 60,
            now() - $2::int * interval '1 day', now() - $2::int * interval '1 day', now() - $2::int * interval '1 day' + i * interval '1 ms', 10
       FROM generate_series(1, $1::int) AS i`,
    [n, days],
  );
  if (lines > 0) {
    await sql.query(
      `INSERT INTO run_logs (run_id, seq, ts, level, message) SELECT r.id, s, now(), 'info', 'line' FROM runs r, generate_series(1, $1::int) s WHERE r.id LIKE 'old-' || $2::int::text || '-%'`,
      [lines, days],
    );
  }
}

async function runCount(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
  return Number(rows[0]!.n);
}

const policy: RetentionPolicy = { days: 30, logDays: 7, overrides: [] };
const never = 3_600_000;

beforeEach(async () => {
  await sql.exec('TRUNCATE runs, run_logs, tests CASCADE');
});

describe('the retention sweeper', () => {
  it('does nothing on an instance that is not the leader, and sweeps once it leads', async () => {
    await oldRuns(10, 40);
    let leading = false;
    const sweeper = startRetention({ policy, store, mayRun: () => leading, firstAfterMs: never });
    try {
      expect(await sweeper.sweep()).toBeNull();
      expect(await runCount()).toBe(10);
      leading = true;
      expect(await sweeper.sweep()).toMatchObject({ deletedRuns: 10, complete: true });
      expect(await runCount()).toBe(0);
    } finally {
      await sweeper.stop();
    }
  });

  it('stops between batches when the instance stops leading; the next sweep goes on', async () => {
    await oldRuns(50, 40);
    let leading = true;
    const batches: RetentionBatch[] = [];
    const sweeper = startRetention({
      policy,
      store,
      mayRun: () => leading,
      firstAfterMs: never,
      batchSize: 10,
      pauseMs: 0,
      onBatch: (b) => {
        batches.push(b);
        if (batches.length === 2) leading = false;
      },
    });
    try {
      expect(await sweeper.sweep()).toMatchObject({ deletedRuns: 20, batches: 2, complete: false });
      expect(await runCount()).toBe(30);
      leading = true;
      expect(await sweeper.sweep()).toMatchObject({ deletedRuns: 30, complete: true });
    } finally {
      await sweeper.stop();
    }
  });

  it('logs one line per sweep with its counts and counts in topas_retention_* metrics', async () => {
    await oldRuns(12, 40);
    await oldRuns(3, 10, 4); // kept, but their logs expire
    const registry = new Registry();
    const logged: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const sweeper = startRetention({ policy, store, firstAfterMs: never, batchSize: 5, pauseMs: 0, metrics: registry, log: (level, msg, fields) => logged.push({ level, msg, fields }) });
    try {
      await sweeper.sweep();
    } finally {
      await sweeper.stop();
    }
    expect(logged).toEqual([
      {
        level: 'info',
        msg: 'retention sweep done',
        fields: expect.objectContaining({ deletedRuns: 12, deletedTests: 0, expiredLogRuns: 3, expiredLogLines: 12, batches: 4, complete: true }),
      },
    ]);
    const text = await registry.metrics();
    expect(text).toMatch(/^topas_retention_deleted_runs_total 12$/m);
    expect(text).toMatch(/^topas_retention_expired_log_lines_total 12$/m);
    const runs = await store.listRuns({}, { limit: 10 });
    expect(runs.items).toHaveLength(3);
    expect(runs.items.every((r) => r.logsExpiredAt !== null)).toBe(true);
  });

  it('sweeps by itself shortly after start, and not at all when retention is off', async () => {
    await oldRuns(5, 40);
    const off = startRetention({ policy: { days: null, logDays: null, overrides: [] }, store, firstAfterMs: 1 });
    expect(await off.sweep()).toBeNull();
    await off.stop();
    expect(await runCount()).toBe(5);

    let done: (n: number) => void = () => {};
    const swept = new Promise<number>((resolve) => (done = resolve));
    const sweeper = startRetention({ policy, store, firstAfterMs: 1, log: (_level, msg, fields) => msg === 'retention sweep done' && done(Number(fields?.deletedRuns)) });
    try {
      expect(await swept).toBe(5);
      expect(await runCount()).toBe(0);
    } finally {
      await sweeper.stop();
    }
  });
});
