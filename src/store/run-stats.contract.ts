/**
 * The store's run statistics, on every implementation: counts per phase kept by
 * triggers, trends and top lists computed in SQL, and the previous run of a test.
 * Runs next to the store contract (same `open`).
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, Run, RunCompletion } from '../core/run.js';
import { RUN_PHASES, type RunPhase } from '../core/run-phase.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

const summary = { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 };
const done = (phase: RunCompletion['phase']): RunCompletion => ({ phase, reason: null, message: null, summary });

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return { name: 'a run', origin: 'api', source: { type: 'inline', script: 'print(1)' }, timeoutSeconds: 60, ...overrides };
}

const zero = () => Object.fromEntries(RUN_PHASES.map((p) => [p, 0])) as Record<RunPhase, number>;

export function describeRunStatsContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Run statistics: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    /** Runs per phase counted the slow way, from the rows themselves. */
    async function counted(): Promise<Record<RunPhase, number>> {
      const counts = zero();
      const { rows } = await sql.query<{ phase: RunPhase; n: number }>('SELECT phase, count(*)::int AS n FROM runs GROUP BY phase');
      for (const r of rows) counts[r.phase] = Number(r.n);
      return counts;
    }

    describe('countByPhase', () => {
      it('stays exact through every transition, deletes, direct updates and truncation', async () => {
        const expectCounts = async (expected: Partial<Record<RunPhase, number>>) => {
          const counts = await store.countByPhase();
          expect(counts).toEqual({ ...zero(), ...expected });
          expect(counts).toEqual(await counted());
        };
        await expectCounts({});
        const runs = await store.createRuns(Array.from({ length: 8 }, (_, i) => newRun({ name: `r${i}` })));
        await store.createRun(newRun({ name: 'r8' }));
        await expectCounts({ Queued: 9 });

        const claimed = await store.claimRuns('exec-a', 6, 100);
        await expectCounts({ Queued: 3, Running: 6 });

        await store.finishRun(claimed[0]!.id, 'exec-a', done('Passed'));
        // a finish that does not apply (someone else's run) changes nothing
        expect(await store.finishRun(claimed[1]!.id, 'exec-b', done('Passed'))).toBeNull();
        await store.finishRuns([
          { id: claimed[1]!.id, owner: 'exec-a', completion: done('Failed') },
          { id: claimed[2]!.id, owner: 'exec-a', completion: done('TimedOut') },
        ]);
        await store.writeEvents({ logs: [], steps: [], assertions: [] }, [{ id: claimed[3]!.id, owner: 'exec-a', completion: done('Cancelled') }]);
        await expectCounts({ Queued: 3, Running: 2, Passed: 1, Failed: 1, TimedOut: 1, Cancelled: 1 });

        const queued = runs.find((r) => !claimed.some((c) => c.id === r.id))!;
        await store.cancelQueuedRun(queued.id, 'not needed');
        expect(await store.cancelQueuedRun(queued.id, 'again')).toBeNull();
        await store.failOrphanedRuns([], 'executor lost');
        await expectCounts({ Queued: 2, Passed: 1, Failed: 1, TimedOut: 1, Cancelled: 2, Error: 2 });

        // what retention or an operator would do
        await sql.query(`DELETE FROM runs WHERE phase IN ('Cancelled', 'Passed')`);
        await sql.query(`UPDATE runs SET phase = 'Passed' WHERE phase = 'Error'`);
        await expectCounts({ Queued: 2, Passed: 2, Failed: 1, TimedOut: 1 });

        await sql.exec('TRUNCATE runs CASCADE');
        await expectCounts({});
        await store.createRun(newRun());
        await expectCounts({ Queued: 1 });
      });

      it('stays exact under concurrent writers', async () => {
        const created = (await Promise.all(Array.from({ length: 40 }, (_, i) => store.createRun(newRun({ name: `c${i}` }))))).map((r) => r.id);
        const claims = (await Promise.all(['a', 'b', 'c', 'd'].map((o) => store.claimRuns(`exec-${o}`, 8, 100)))).flat();
        const phases: RunCompletion['phase'][] = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];
        await Promise.all([
          ...claims.map((r, i) => store.finishRun(r.id, r.executor!, done(phases[i % phases.length]!))),
          ...created.slice(0, 10).map((id) => store.cancelQueuedRun(id, 'x')),
          ...Array.from({ length: 10 }, () => store.createRun(newRun())),
        ]);
        const counts = await store.countByPhase();
        expect(counts).toEqual(await counted());
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(50);
      });

      it('lets a writer go on while another transaction that changed a count is still open (PostgreSQL)', async () => {
        if (sql.dialect !== 'postgres') return; // PGlite is one session: there is no concurrent writer
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let openXid!: number;
        let inserted!: () => void;
        const insertedOnce = new Promise<void>((resolve) => (inserted = resolve));
        const holder = sql.transaction(async (tx) => {
          await tx.query(`INSERT INTO runs (id, name, phase, origin, source, timeout_seconds) VALUES ('held', 'held', 'Queued', 'api', '{}', 60)`);
          openXid = Number((await tx.query<{ x: string }>('SELECT txid_current() AS x')).rows[0]!.x);
          inserted();
          await held;
        });
        await Promise.race([insertedOnce, holder]);
        try {
          // Counts are spread over 16 rows per phase by transaction id; a writer whose
          // transaction maps to another row than the open one's never waits for it.
          const write = async () => {
            for (let attempt = 0; attempt < 32; attempt++) {
              const wrote = await sql.transaction(async (tx) => {
                const xid = Number((await tx.query<{ x: string }>('SELECT txid_current() AS x')).rows[0]!.x);
                if (xid % 16 === openXid % 16) return false; // same row: try the next transaction id
                await tx.query(`INSERT INTO runs (id, name, phase, origin, source, timeout_seconds) VALUES ('free', 'free', 'Queued', 'api', '{}', 60)`);
                return true;
              });
              if (wrote) return 'written';
            }
            return 'no transaction id on another row';
          };
          const outcome = await Promise.race([write(), new Promise((r) => setTimeout(() => r('blocked by the open transaction'), 3000))]);
          expect(outcome).toBe('written');
        } finally {
          release();
          await holder;
        }
        expect(await store.countByPhase()).toEqual({ ...zero(), Queued: 2 });
      });
    });

    describe('trends and top lists', () => {
      const at = (iso: string) => new Date(iso).toISOString();

      /** Creates a run, then sets what the SQL reads as if it had happened at `createdAt`. */
      async function seeded(r: Partial<NewRun> & { phase: RunPhase; createdAt: string; durationMs?: number | null }): Promise<Run> {
        const { phase, createdAt, durationMs = null, ...rest } = r;
        const run = await store.createRun(newRun(rest));
        const finished = !['Queued', 'Running'].includes(phase);
        await sql.query(
          `UPDATE runs SET phase = $2, created_at = $3::timestamptz, duration_ms = $4::bigint,
                  finished_at = CASE WHEN $5::boolean THEN $3::timestamptz + coalesce($4::bigint, 0) * interval '1 millisecond' END
            WHERE id = $1`,
          [run.id, phase, createdAt, durationMs, finished],
        );
        return (await store.getRun(run.id))!;
      }

      it('trends: one point per bucket, empty ones included, finished runs only, boundaries and filters', async () => {
        await seeded({ name: 'a', phase: 'Passed', createdAt: '2025-03-01T00:00:00.000Z', durationMs: 100, labels: { team: 'core' }, appName: 'shop' });
        await seeded({ name: 'a', phase: 'Passed', createdAt: '2025-03-01T10:00:00.000Z', durationMs: 300 });
        await seeded({ name: 'a', phase: 'Failed', createdAt: '2025-03-01T23:59:59.999Z', durationMs: 200, labels: { team: 'core' } });
        await seeded({ name: 'a', phase: 'Cancelled', createdAt: '2025-03-01T12:00:00.000Z', durationMs: 99_999 });
        await seeded({ name: 'b', phase: 'TimedOut', createdAt: '2025-03-03T01:00:00.000Z', durationMs: 1000, source: { type: 'definition', definitionId: 'def-b', script: '' } });
        await seeded({ name: 'b', phase: 'Error', createdAt: '2025-03-03T02:00:00.000Z', durationMs: 50, source: { type: 'definition', definitionId: 'def-b', script: '' } });
        // not counted: not finished, before `from`, at `to`
        await seeded({ name: 'a', phase: 'Running', createdAt: '2025-03-03T03:00:00.000Z' });
        await seeded({ name: 'a', phase: 'Queued', createdAt: '2025-03-03T03:00:00.000Z' });
        await seeded({ name: 'a', phase: 'Passed', createdAt: '2025-02-28T23:59:59.999Z', durationMs: 1 });
        await seeded({ name: 'a', phase: 'Passed', createdAt: '2025-03-04T00:00:00.000Z', durationMs: 1 });

        const range = { from: at('2025-03-01T00:00:00Z'), to: at('2025-03-04T00:00:00Z') };
        const points = await store.runTrends({ ...range, bucket: 'day' });
        expect(points).toEqual([
          {
            start: '2025-03-01T00:00:00.000Z',
            total: 4,
            byPhase: { Passed: 2, Failed: 1, Error: 0, TimedOut: 0, Cancelled: 1 },
            passRate: 2 / 3,
            p50Ms: 200,
            p95Ms: 300,
          },
          { start: '2025-03-02T00:00:00.000Z', total: 0, byPhase: { Passed: 0, Failed: 0, Error: 0, TimedOut: 0, Cancelled: 0 }, passRate: null, p50Ms: null, p95Ms: null },
          { start: '2025-03-03T00:00:00.000Z', total: 2, byPhase: { Passed: 0, Failed: 0, Error: 1, TimedOut: 1, Cancelled: 0 }, passRate: 0, p50Ms: 50, p95Ms: 1000 },
        ]);

        const hours = await store.runTrends({ from: at('2025-03-03T00:00:00Z'), to: at('2025-03-03T02:30:00Z'), bucket: 'hour' });
        expect(hours.map((p) => [p.start, p.total])).toEqual([
          ['2025-03-03T00:00:00.000Z', 0],
          ['2025-03-03T01:00:00.000Z', 1],
          ['2025-03-03T02:00:00.000Z', 1],
        ]);

        const totals = async (filter: object) => (await store.runTrends({ ...range, bucket: 'day', ...filter })).map((p) => p.total);
        expect(await totals({ definitionId: 'def-b' })).toEqual([0, 0, 2]);
        expect(await totals({ appName: 'shop' })).toEqual([1, 0, 0]);
        expect(await totals({ labels: { team: 'core' } })).toEqual([2, 0, 0]);
        expect(await totals({ labels: { team: 'other' } })).toEqual([0, 0, 0]);
      });

      it('count runs whose labels are too big for the covering index like any other (migration 7)', async () => {
        const wide = { team: 'core', ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(60)])) };
        await seeded({ name: 'w', phase: 'Failed', createdAt: '2025-03-01T01:00:00.000Z', durationMs: 500, labels: wide });
        await seeded({ name: 'w', phase: 'Passed', createdAt: '2025-03-01T02:00:00.000Z', durationMs: 100, labels: { team: 'core' } });
        const range = { from: at('2025-03-01T00:00:00Z'), to: at('2025-03-02T00:00:00Z') };
        const [point] = await store.runTrends({ ...range, bucket: 'day' });
        expect(point).toMatchObject({ total: 2, byPhase: { Passed: 1, Failed: 1 }, p95Ms: 500 });
        expect((await store.runTrends({ ...range, bucket: 'day', labels: { k3: 'v'.repeat(60) } }))[0]!.total).toBe(1);
        expect((await store.runTrends({ ...range, bucket: 'day', labels: { team: 'core' } }))[0]!.total).toBe(2);
        const top = await store.topTests({ ...range, limit: 5, labels: { team: 'core' } });
        expect(top.mostFailing).toMatchObject([{ name: 'w', runs: 2, failed: 1 }]);
        expect(top.slowest).toMatchObject([{ name: 'w', runs: 2, maxMs: 500 }]);
      });

      it('top lists: grouped by definition or by name, ordered, limited, with the run to open', async () => {
        const def = await store.createDefinition({ name: 'checkout-flow', script: '' });
        const ofDef = { source: { type: 'definition', definitionId: def.id, script: '' } } as const;
        const day = (h: number) => new Date(Date.UTC(2025, 2, 1, h)).toISOString();
        await seeded({ name: 'checkout-flow', ...ofDef, phase: 'Failed', createdAt: day(1), durationMs: 400 });
        const lastDefFailure = await seeded({ name: 'custom name', ...ofDef, phase: 'Failed', createdAt: day(3), durationMs: 500 });
        await seeded({ name: 'checkout-flow', ...ofDef, phase: 'Passed', createdAt: day(2), durationMs: 600 });
        await seeded({ name: 'checkout-flow', ...ofDef, phase: 'Cancelled', createdAt: day(4), durationMs: 99_999 });
        const searchFailure = await seeded({ name: 'search', phase: 'Error', createdAt: day(5), durationMs: 100 });
        await seeded({ name: 'search', phase: 'Passed', createdAt: day(6), durationMs: 200 });
        const slowSearch = await seeded({ name: 'search', phase: 'Passed', createdAt: day(7), durationMs: 900 });
        await seeded({ name: 'login', phase: 'Passed', createdAt: day(8), durationMs: 50 });
        await seeded({ name: 'login', phase: 'Passed', createdAt: day(9), durationMs: 60 });
        // a run without a definition named like the definition is another test
        await seeded({ name: 'checkout-flow', phase: 'Failed', createdAt: day(10), durationMs: 10, appName: 'shop' });
        // outside the range, and not finished
        await seeded({ name: 'search', phase: 'Failed', createdAt: '2025-02-01T00:00:00.000Z', durationMs: 5_000_000 });
        await seeded({ name: 'search', phase: 'Running', createdAt: day(11) });

        const range = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-02T00:00:00.000Z' };
        const top = await store.topTests({ ...range, limit: 10 });
        expect(top.mostFailing).toEqual([
          {
            name: 'checkout-flow',
            definitionId: def.id,
            runs: 4,
            failed: 2,
            failRate: 2 / 3,
            lastFailedRunId: lastDefFailure.id,
            lastFailedAt: lastDefFailure.finishedAt,
          },
          { name: 'checkout-flow', definitionId: null, runs: 1, failed: 1, failRate: 1, lastFailedRunId: expect.any(String), lastFailedAt: expect.any(String) },
          { name: 'search', definitionId: null, runs: 3, failed: 1, failRate: 1 / 3, lastFailedRunId: searchFailure.id, lastFailedAt: searchFailure.finishedAt },
        ]);
        expect(top.slowest.map((t) => [t.name, t.definitionId, t.runs, t.p50Ms, t.p95Ms, t.maxMs])).toEqual([
          ['search', null, 3, 200, 900, 900],
          ['checkout-flow', def.id, 4, 500, 600, 600],
          ['login', null, 2, 50, 60, 60],
          ['checkout-flow', null, 1, 10, 10, 10],
        ]);
        expect(top.slowest[0]!.slowestRunId).toBe(slowSearch.id);

        const two = await store.topTests({ ...range, limit: 2 });
        expect(two.mostFailing.map((t) => t.name)).toEqual(['checkout-flow', 'checkout-flow']);
        expect(two.slowest.map((t) => t.name)).toEqual(['search', 'checkout-flow']);
        const shop = await store.topTests({ ...range, limit: 10, appName: 'shop' });
        expect(shop.mostFailing.map((t) => [t.name, t.definitionId])).toEqual([['checkout-flow', null]]);
        expect(await store.topTests({ from: '2024-01-01T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z', limit: 10 })).toEqual({ mostFailing: [], slowest: [] });
      });
    });

    describe('previousRun', () => {
      it('is the latest earlier run of the same definition, or of the same name without one', async () => {
        const make = async (name: string, minute: number, definitionId?: string, id?: string) => {
          const run = await store.createRun(
            newRun({ name, ...(id ? { id } : {}), ...(definitionId ? { source: { type: 'definition', definitionId, script: '' } } : {}) }),
          );
          await sql.query('UPDATE runs SET created_at = $2 WHERE id = $1', [run.id, new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString()]);
          return (await store.getRun(run.id))!;
        };
        const d1 = await make('smoke', 1, 'def-1');
        const d2 = await make('renamed', 2, 'def-1');
        const other = await make('smoke', 3, 'def-2');
        const d3 = await make('smoke', 4, 'def-1');
        const i1 = await make('adhoc', 1);
        const i2a = await make('adhoc', 2, undefined, 'b-second');
        const i2b = await make('adhoc', 2, undefined, 'a-first'); // same time: the id decides
        await make('adhoc', 3, 'def-3'); // has a definition: another test
        const i3 = await make('adhoc', 5);

        expect((await store.previousRun(d3))?.id).toBe(d2.id);
        expect((await store.previousRun(d2))?.id).toBe(d1.id);
        expect(await store.previousRun(d1)).toBeNull();
        expect(await store.previousRun(other)).toBeNull();
        expect((await store.previousRun(i3))?.id).toBe(i2a.id);
        expect((await store.previousRun(i2a))?.id).toBe(i2b.id);
        expect((await store.previousRun(i2b))?.id).toBe(i1.id);
        expect(await store.previousRun(i1)).toBeNull();
      });
    });
  });
}
