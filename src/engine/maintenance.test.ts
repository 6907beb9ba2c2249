import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPglite } from '../store/pglite-sql.js';
import { createPostgresStore } from '../store/postgres-store.js';
import type { Sql } from '../store/sql.js';
import type { Store } from '../store/store.js';
import { startMaintenance } from './maintenance.js';

let sql: Sql;
let store: Store;

beforeAll(async () => {
  sql = await openPglite(undefined);
  store = createPostgresStore(sql);
  await store.migrate();
  const runs = Array.from({ length: 2000 }, (_, i) => ({ name: `r${i}`, origin: 'api' as const, source: { type: 'inline' as const, script: 'x' }, timeoutSeconds: 5 }));
  await store.createRuns(runs);
}, 60_000);

afterAll(async () => {
  await store?.close();
});

/** Pages of `runs` the visibility map marks all-visible: what index-only scans need. */
async function allVisiblePages(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(`SELECT relallvisible::int AS n FROM pg_class WHERE relname = 'runs'`);
  return Number(rows[0]!.n);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('store maintenance on the embedded database', () => {
  it('waits while runs are queued or running, then vacuums, and again every period', async () => {
    expect(await allVisiblePages()).toBe(0); // PGlite never vacuums by itself
    let busy = true;
    let passes = 0;
    const maintenance = startMaintenance({
      stats: async () => ({ queueDepth: busy ? 3 : 0, activeRunners: 0 }),
      maintain: async () => {
        passes++;
        await store.maintain();
      },
      firstAfterMs: 10,
      everyMs: 100,
    });
    try {
      await sleep(250);
      expect(passes).toBe(0);
      expect(await allVisiblePages()).toBe(0);
      busy = false;
      for (let waited = 0; passes === 0 && waited < 5000; waited += 50) await sleep(50);
      expect(passes).toBeGreaterThanOrEqual(1);
      expect(await allVisiblePages()).toBeGreaterThan(0);
    } finally {
      await maintenance.stop();
    }
    const after = passes;
    await sleep(250);
    expect(passes).toBe(after); // stopped means stopped
  });
});

describe('store maintenance while runs never stop', () => {
  it('asks the store for its under-load part every busy look, and never for the idle pass', async () => {
    let underLoad = 0;
    let idle = 0;
    const maintenance = startMaintenance({
      stats: async () => ({ queueDepth: 0, activeRunners: 5 }),
      maintain: async () => {
        idle++;
      },
      maintainUnderLoad: async () => ++underLoad % 2 === 0,
      firstAfterMs: 10,
      everyMs: 60_000,
      busyEveryMs: 20,
    });
    try {
      await vi.waitFor(() => expect(underLoad).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 10 });
      expect(idle).toBe(0);
    } finally {
      await maintenance.stop();
    }
  });
});
