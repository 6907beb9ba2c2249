/**
 * `engine-store`: the engine and the embedded store alone, without HTTP and without Lua.
 * A stub executor ends each run at once with what `assert(1+1==2)` stores (one passed
 * assertion, Passed), so every figure is the engine's and the database's: 32 submitters
 * in this process, `ENGINE_RUNS` runs (default 4,000) after 1,000 warm ones, on PGlite in
 * a data folder as `topas up` opens it. Figures: runs/s, the database thread's CPU per
 * run (`/proc/self/task`), and the write-ahead log a run writes (bytes, from
 * `pg_current_wal_lsn()`: steady across machines, unlike CPU). Reference, same database:
 * the least a run could cost the database — three single-row statements on a table with
 * only a primary key (insert, then two updates: the three row versions a run writes),
 * each its own statement as the engine's are.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_SUMMARY, type RunCompletion } from '../src/core/run.js';
import { RunEngine } from '../src/engine/run-engine.js';
import type { Executor } from '../src/executors/executor.js';
import { openSql } from '../src/store/open-store.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { isTerminal } from '../src/core/run-phase.js';
import { round } from './stats.js';

const SUBMITTERS = 32;

/** CPU clock ticks (1/100 s) of each thread of this process, by thread id. */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(tid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended
    }
  }
  return ticks;
}

/** The busiest thread other than main over a window, and its CPU ms per item. */
function busiestOther(before: Map<string, number>, after: Map<string, number>, items: number): number {
  let most = 0;
  for (const [tid, t] of after) if (Number(tid) !== process.pid) most = Math.max(most, t - (before.get(tid) ?? 0));
  return round((most * 10) / items, 3);
}

export async function benchEngineStore() {
  const total = Number(process.env.ENGINE_RUNS ?? 4000);
  const dir = await mkdtemp(join(tmpdir(), 'topas-bench-engine-'));
  const sql = await openSql({ databaseUrl: null, dataDir: join(dir, 'db') });
  const store = createPostgresStore(sql);
  const passed: RunCompletion = { phase: 'Passed', reason: null, message: null, summary: { ...EMPTY_SUMMARY, assertionsPassed: 1 } };
  const executor: Executor = {
    name: 'stub',
    capacity: 1000,
    detached: false,
    async execute(_job, sink) {
      await new Promise((resolve) => setImmediate(resolve));
      sink.event({ type: 'assertion', seq: 1, ts: Date.now(), stepSeq: null, passed: true, message: 'assertion passed', location: { file: 'script.lua', line: 1 } });
      return passed;
    },
    async attach() {
      return null;
    },
    async close() {},
  };
  const engine = new RunEngine({ store, executor, instanceId: 'bench-engine', concurrency: 50, exclusive: true });
  const walBytes = async () => Number((await sql.query<{ b: string }>(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS b`)).rows[0]!.b);
  try {
    await store.migrate();
    await engine.start();
    let ended = 0;
    let want = 0;
    let reached: (() => void) | null = null;
    engine.subscribeAll((n) => {
      if (n.type !== 'phase' || !isTerminal(n.run.phase)) return;
      if (++ended >= want && reached) reached();
    });
    const submit = async (n: number, tag: string) => {
      want = ended + n;
      const all = new Promise<void>((resolve) => (reached = resolve));
      let next = 0;
      await Promise.all(
        Array.from({ length: SUBMITTERS }, async () => {
          while (next < n) {
            const i = next++;
            await engine.submit({ origin: 'api', name: `${tag}-${i}`, script: 'assert(1+1==2)' });
          }
        }),
      );
      await all;
      reached = null;
    };
    await submit(1000, 'warm');
    const wal0 = await walBytes();
    const before = threadTicks();
    const t0 = performance.now();
    await submit(total, 'trivial');
    const seconds = (performance.now() - t0) / 1000;
    const after = threadTicks();
    const engineFigure = { runsPerSecond: round(total / seconds, 0), databaseThreadMsPerRun: busiestOther(before, after, total), walBytesPerRun: Math.round(((await walBytes()) - wal0) / total) };

    // The floor: three single-row statements per run on a table with only its primary key.
    await sql.exec('CREATE TABLE bench_floor (id bigint PRIMARY KEY, phase text NOT NULL, n int NOT NULL DEFAULT 0)');
    const floorRuns = total;
    const fWal0 = await walBytes();
    const fBefore = threadTicks();
    const f0 = performance.now();
    let id = 0;
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (id < floorRuns) {
          const i = id++;
          await sql.query('INSERT INTO bench_floor (id, phase) VALUES ($1, $2)', [i, 'Queued']);
          await sql.query('UPDATE bench_floor SET phase = $2, n = n + 1 WHERE id = $1', [i, 'Running']);
          await sql.query('UPDATE bench_floor SET phase = $2, n = n + 1 WHERE id = $1', [i, 'Passed']);
        }
      }),
    );
    const floorSeconds = (performance.now() - f0) / 1000;
    const floor = {
      runsPerSecond: round(floorRuns / floorSeconds, 0),
      databaseThreadMsPerRun: busiestOther(fBefore, threadTicks(), floorRuns),
      walBytesPerRun: Math.round(((await walBytes()) - fWal0) / floorRuns),
    };
    return {
      runs: total,
      engine: engineFigure,
      floor,
      ratio: {
        databaseThreadMs: round(engineFigure.databaseThreadMsPerRun / Math.max(floor.databaseThreadMsPerRun, 0.001), 2),
        walBytes: round(engineFigure.walBytesPerRun / Math.max(floor.walBytesPerRun, 1), 2),
      },
    };
  } finally {
    await engine.stop(1000).catch(() => {});
    await store.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
