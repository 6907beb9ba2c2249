import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMPTY_SUMMARY, type Run, type RunCompletion } from '../core/run.js';
import { openSql } from '../store/open-store.js';
import { createPostgresStore } from '../store/postgres-store.js';
import type { Sql } from '../store/sql.js';
import type { Store } from '../store/store.js';
import { faultySql, type Faults } from '../store/testing/faulty-sql.js';
import { EventWriter } from './event-writer.js';
import { decideAfterFailure, type WriteFailure } from './store-retry.js';

/** Short retry timings: many failed attempts in little time. */
const FAST = { baseDelayMs: 1, maxDelayMs: 10, attempts: 3 };
const passed: RunCompletion = { phase: 'Passed', reason: null, message: null, summary: EMPTY_SUMMARY };

let raw: Sql;
beforeAll(async () => {
  raw = await openSql({ databaseUrl: null });
  await createPostgresStore(raw).migrate();
}, 120_000);
afterAll(async () => {
  await raw?.close();
});
let faults: Faults | undefined;
afterEach(async () => {
  faults?.heal();
  await raw.exec('TRUNCATE runs CASCADE');
});

/** `n` runs claimed by `owner`, a writer over the real store behind a fault injector. */
async function setup(n: number) {
  const view = createPostgresStore(raw);
  const wrapped = faultySql(raw);
  faults = wrapped.faults;
  const store: Store = createPostgresStore(wrapped.sql);
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) runs.push(await view.createRun({ name: `r${i}`, origin: 'api', source: { type: 'inline', script: 'x' }, timeoutSeconds: 60 }));
  await view.claimRuns('owner', n, n);
  const writer = new EventWriter(store, { retry: FAST });
  for (const run of runs) writer.begin(run.id);
  return { view, writer, runs, faults: wrapped.faults };
}

describe('EventWriter and the store', () => {
  it('retries a run end for as long as the store is down — longer than any fixed budget — then stores its real outcome', async () => {
    const { view, writer, runs, faults } = await setup(1);
    const run = runs[0]!;
    writer.add(run.id, { type: 'log', ts: Date.now(), level: 'info', message: 'last words', stepSeq: null, seq: 1 });
    faults.refuse();
    const end = writer.end(run.id, null, { id: run.id, owner: 'owner', completion: passed });
    // The old writer gave up after 21 attempts; wait for many more refusals.
    await vi.waitFor(() => expect(faults.injected).toBeGreaterThan(60), { timeout: 30_000, interval: 5 });
    expect((await view.getRun(run.id))!.phase).toBe('Running');
    faults.heal();
    expect(await end).toMatchObject({ phase: 'Passed', reason: null });
    expect((await view.getLogs(run.id)).map((l) => l.message)).toEqual(['last words']);
    await writer.close();
  });

  it('splits a batch the store refuses because of one run: the others land as they ended, that one ends Error StoreWriteFailed', async () => {
    const { view, writer, runs, faults } = await setup(5);
    const bad = runs[2]!;
    faults.refuse((text, params) => text.includes('UPDATE runs r SET phase = x.phase') && JSON.stringify(params).includes(bad.id) && JSON.stringify(params).includes('\\"phase\\":\\"Passed\\"'));
    for (const run of runs) writer.add(run.id, { type: 'log', ts: Date.now(), level: 'info', message: `hello from ${run.name}`, stepSeq: null, seq: 1 });
    // Ended in the same turn: one write for all five.
    const ends = await Promise.all(runs.map((run) => writer.end(run.id, null, { id: run.id, owner: 'owner', completion: passed })));
    for (const [i, end] of ends.entries()) {
      if (i === 2) expect(end).toMatchObject({ phase: 'Error', reason: 'StoreWriteFailed' });
      else expect(end).toMatchObject({ phase: 'Passed' });
      expect((await view.getLogs(runs[i]!.id)).map((l) => l.message)).toEqual([`hello from r${i}`]);
    }
    expect(ends[2]!.message).toMatch(/^the run ended Passed, but that could not be stored: injected fault/);
    await writer.close();
  });

  it('keeps trying an end the store refuses even as StoreWriteFailed, aside, without holding up other runs', async () => {
    const { writer, runs, faults } = await setup(2);
    const [stuck, other] = runs as [Run, Run];
    faults.refuse((text, params) => text.includes('UPDATE runs r SET phase = x.phase') && JSON.stringify(params).includes(stuck.id));
    const stuckEnd = writer.end(stuck.id, null, { id: stuck.id, owner: 'owner', completion: passed });
    await vi.waitFor(() => expect(faults.injected).toBeGreaterThan(10), { timeout: 30_000, interval: 5 });
    // Another run ends meanwhile: it is not queued behind the refused one.
    expect(await writer.end(other.id, null, { id: other.id, owner: 'owner', completion: passed })).toMatchObject({ phase: 'Passed' });
    faults.heal();
    expect(await stuckEnd).toMatchObject({ phase: 'Error', reason: 'StoreWriteFailed' });
    await writer.close();
  });

  it('rejects a run end the store has not taken when it is closed (the run is recovered as ExecutorLost later)', async () => {
    const { writer, runs, faults } = await setup(1);
    faults.refuse();
    const end = writer.end(runs[0]!.id, null, { id: runs[0]!.id, owner: 'owner', completion: passed });
    await faults.nextFault();
    await writer.close(50);
    await expect(end).rejects.toThrow(/stopped before the store took the write/);
  });
});

describe('decideAfterFailure: the one place that decides', () => {
  const base: WriteFailure = { attempt: 1, refusals: 1, storeAnswers: true, runs: 1, records: 1, standIn: false, isEnd: true };
  it.each<[string, Partial<WriteFailure>, string]>([
    ['store down, however many attempts: wait and retry', { storeAnswers: false, refusals: 0, attempt: 500, runs: 40, records: 900 }, 'retry'],
    ['several runs refused: split', { runs: 3, records: 7 }, 'split'],
    ['one run, several records: split', { records: 4, isEnd: false }, 'split'],
    ['one record, refused less than attempts: retry', { refusals: 2 }, 'retry'],
    ['one record refused attempts times: stand-in', { refusals: 3 }, 'stand-in'],
    ['an end whose stand-in is refused: park (retried aside, forever)', { refusals: 3, standIn: true }, 'park'],
    ['an event whose stand-in is refused: drop', { refusals: 3, standIn: true, isEnd: false }, 'drop'],
  ])('%s', (_name, failure, action) => {
    expect(decideAfterFailure({ ...base, ...failure }).action).toBe(action);
  });

  it('backs off exponentially up to the cap', () => {
    const delays = [1, 2, 3, 10, 50].map((attempt) => decideAfterFailure({ ...base, storeAnswers: false, attempt }));
    expect(delays.map((d) => (d.action === 'retry' ? d.delayMs : null))).toEqual([50, 100, 200, 2000, 2000]);
  });
});
