import { describe, expect, it } from 'vitest';
import type { LogLine } from '../../core/run-events.js';
import { RecordSpool } from './record-spool.js';

const line = (i: number): LogLine => ({ runId: 'r', seq: i, ts: new Date(0).toISOString(), level: 'info', message: `${i} ${'x'.repeat(50_000)}`, stepSeq: null });

describe('RecordSpool', () => {
  it('gives back what it spooled, in order, in batches', async () => {
    const spool = await RecordSpool.create();
    for (let i = 0; i < 30; i++) {
      spool.log(line(i));
      if (spool.full) await spool.flush();
    }
    const texts: string[] = [];
    for await (const batch of spool.batches()) texts.push(...batch.logs.map((l) => l.message.split(' ')[0]));
    await spool.dispose();
    expect(texts).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
  });

  it('is disposed of while a write is in flight (a bad upload) without an error escaping', async () => {
    // A write in flight when the import gives up: before the fix its failure was an
    // uncaught exception, which ends a server.
    const escaped: unknown[] = [];
    const collect = (e: unknown) => escaped.push(e);
    process.on('uncaughtException', collect);
    try {
      for (let round = 0; round < 10; round++) {
        const spool = await RecordSpool.create();
        for (let i = 0; i < 6; i++) spool.log(line(i));
        await spool.flush(); // the file is open
        spool.log({ ...line(6), message: 'short' });
        await spool.flush(); // a short write: in flight, nobody waits for it
        await spool.dispose();
      }
    } finally {
      process.off('uncaughtException', collect);
    }
    expect(escaped).toEqual([]);
  });
});
