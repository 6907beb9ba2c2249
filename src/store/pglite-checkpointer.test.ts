/**
 * The embedded database checkpoints by itself: without it PGlite (single-user
 * PostgreSQL) keeps every byte of write-ahead log in `pgdata/pg_wal` until it closes.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkpointDue } from './pglite-checkpointer.js';
import { openPglite } from './pglite-sql.js';
import type { Sql } from './sql.js';

const MiB = 1024 * 1024;

describe('checkpointDue', () => {
  const policy = { walBytes: 64 * MiB, seconds: 300 };
  it('is due once enough log was written, however recent the last checkpoint', () => {
    expect(checkpointDue({ walBytes: 64 * MiB, sinceRecord: 64 * MiB, ageSeconds: 1 }, policy)).toBe(true);
    expect(checkpointDue({ walBytes: 64 * MiB - 1, sinceRecord: 64 * MiB, ageSeconds: 1 }, policy)).toBe(false);
  });
  it('is due when the last checkpoint is old and anything was written since, not when nothing was', () => {
    expect(checkpointDue({ walBytes: 20_000, sinceRecord: 19_900, ageSeconds: 300 }, policy)).toBe(true);
    expect(checkpointDue({ walBytes: 20_000, sinceRecord: 19_900, ageSeconds: 299 }, policy)).toBe(false);
    // Right after a checkpoint: only its own record since its redo point.
    expect(checkpointDue({ walBytes: 208, sinceRecord: 120, ageSeconds: 3_600 }, policy)).toBe(false);
  });
});

describe('the embedded database thread', () => {
  let dir = '';
  let sql: Sql | null = null;
  afterEach(async () => {
    await sql?.close();
    sql = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Bytes of log segment files in pg_wal. */
  async function walOnDisk(): Promise<number> {
    const wal = join(dir, 'pgdata', 'pg_wal');
    let bytes = 0;
    for (const name of await readdir(wal)) if (/^[0-9A-F]{24}$/.test(name)) bytes += (await stat(join(wal, name))).size;
    return bytes;
  }
  const checkpointLsn = async () => (await sql!.query<{ lsn: string }>('SELECT checkpoint_lsn::text AS lsn FROM pg_control_checkpoint()')).rows[0]!.lsn;

  /** Writes ~`mib` MiB of log (rows of 1 KB inserted, then deleted), in statements of ~8 MiB. */
  async function writeLog(mib: number): Promise<void> {
    await sql!.exec('CREATE TABLE IF NOT EXISTS filler (v text)');
    for (let written = 0; written < mib; written += 8) {
      await sql!.exec("INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 7000); DELETE FROM filler");
    }
  }

  it('checkpoints once enough log was written, so pg_wal stays bounded while it runs', { timeout: 60_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'topas-checkpoint-'));
    sql = await openPglite(dir, { walBytes: 4 * MiB, everyMs: 20 });
    const first = await checkpointLsn();
    for (let round = 0; round < 12; round++) {
      const before = await checkpointLsn();
      // Each round writes more than the policy's 4 MiB: a checkpoint follows it.
      await writeLog(8);
      await vi.waitFor(async () => expect(await checkpointLsn()).not.toBe(before), { timeout: 10_000, interval: 20 });
    }
    expect(await checkpointLsn()).not.toBe(first);
    // ~100 MiB of log written; at most three 16 MiB segments kept, not all of it.
    expect(await walOnDisk()).toBeLessThanOrEqual(48 * MiB);
  });

  it('without checkpoints (the limits out of reach) PGlite keeps every byte of log', { timeout: 60_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'topas-checkpoint-'));
    sql = await openPglite(dir, { walBytes: Number.MAX_SAFE_INTEGER, seconds: Number.MAX_SAFE_INTEGER, everyMs: 20 });
    const first = await checkpointLsn();
    await writeLog(96);
    expect(await checkpointLsn()).toBe(first);
    expect(await walOnDisk()).toBeGreaterThan(80 * MiB);
  });
});
