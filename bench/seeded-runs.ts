import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../src/store/pglite-sql.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { seedRuns } from '../src/store/seed.js';

/** An embedded data folder holding `count` seeded finished runs (see `seedRuns`), analyzed. */
export interface SeededData {
  dir: string;
  count: number;
  seedSeconds: number;
}

const seeded = new Map<number, Promise<SeededData>>();

/**
 * The data folder with `count` seeded runs, seeded once per process and shared by
 * the sections that read a large history (seeding 1,000,000 runs into PGlite takes
 * ~100 s). Removed when the process exits.
 */
export function seededData(count: number): Promise<SeededData> {
  let data = seeded.get(count);
  if (!data) {
    data = seed(count);
    seeded.set(count, data);
  }
  return data;
}

async function seed(count: number): Promise<SeededData> {
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-runs-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const sql = await openPglite(dir);
  const store = createPostgresStore(sql);
  try {
    await store.migrate();
    const s0 = performance.now();
    await seedRuns(sql, count);
    await sql.exec('ANALYZE');
    return { dir, count, seedSeconds: (performance.now() - s0) / 1000 };
  } finally {
    await store.close();
  }
}
