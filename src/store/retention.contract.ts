/**
 * Retention on every Store implementation (`deleteRunsBefore`, `expireLogsBefore`):
 * what goes, what stays, in batches. Runs next to the store contract (same `open`).
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, Run, RunCompletion } from '../core/run.js';
import { RUN_PHASES, type RunPhase } from '../core/run-phase.js';
import { ValidationError } from '../core/errors.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { Sql } from './sql.js';
import type { Store } from './store.js';

const summary = { stepsPassed: 1, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 0 };
const DAY = 86_400_000;
const daysAgo = (d: number) => new Date(Date.now() - d * DAY).toISOString();

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return { name: 'a run', origin: 'api', source: { type: 'inline', script: 'print(1)' }, timeoutSeconds: 60, ...overrides };
}

export function describeRetentionContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Retention: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    /**
     * A run that ran, logged `lines` lines, recorded a step, an assertion, a test result
     * and a run token, and ended in `phase` `finishedDaysAgo` days ago.
     */
    async function finishedRun(finishedDaysAgo: number, o: { phase?: RunCompletion['phase']; labels?: Record<string, string>; lines?: number; testKey?: string } = {}): Promise<Run> {
      const run = await store.createRun(newRun({ labels: o.labels ?? {} }));
      await store.claimRuns('e', 1, 1000);
      const ts = new Date().toISOString();
      await store.writeEvents({
        logs: Array.from({ length: o.lines ?? 3 }, (_, i) => ({ runId: run.id, seq: i + 1, ts, level: 'info' as const, message: `line ${i + 1}`, stepSeq: 1 })),
        steps: [{ runId: run.id, seq: 1, parentSeq: null, kind: 'test', name: 'checkout', status: 'passed', startedAt: ts, finishedAt: ts, durationMs: 3, message: null, file: 'a.lua', line: 1 }],
        assertions: [{ runId: run.id, seq: 1, stepSeq: 1, passed: true, message: 'ok', expected: null, actual: null, file: 'a.lua', line: 2, ts }],
      });
      await store.putRunTokens([{ runId: run.id, secretHash: `hash-${run.id}`, expiresAt: new Date(Date.now() + DAY).toISOString() }]);
      const [ended] = await store.finishRuns([{ id: run.id, owner: 'e', completion: { phase: o.phase ?? 'Passed', reason: null, message: null, summary } }]);
      expect(ended).not.toBeNull();
      const at = daysAgo(finishedDaysAgo);
      await sql.query(`UPDATE runs SET created_at = $2::timestamptz - interval '1 minute', started_at = $2::timestamptz - interval '1 minute', finished_at = $2 WHERE id = $1`, [run.id, at]);
      const key = o.testKey ?? 'shop::checkout';
      // The run's end recorded its test case under its script's key, now; this fixture
      // records it under `key`, when the run ended (as if it had ended then).
      await sql.query(`DELETE FROM test_results WHERE run_id = $1`, [run.id]);
      await sql.query(`DELETE FROM tests WHERE last_run_id = $1`, [run.id]);
      await sql.query(
        `INSERT INTO test_results (run_id, idx, test_key, classname, name, outcome, created_at, origin) VALUES ($1, 0, $2, 'shop', 'checkout', 'Passed', $3, 'api')`,
        [run.id, key, at],
      );
      await sql.query(
        `INSERT INTO tests AS t (key, classname, name, first_seen_at, last_run_at, last_run_id, last_outcome, runs) VALUES ($1, 'shop', 'checkout', $2, $2, $3, 'Passed', 1)
         ON CONFLICT (key) DO UPDATE SET last_run_at = greatest(t.last_run_at, excluded.last_run_at), runs = t.runs + 1`,
        [key, at, run.id],
      );
      return (await store.getRun(run.id))!;
    }

    /** Rows of each table that belong to the run. */
    async function rowsOf(runId: string): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const table of ['runs', 'run_logs', 'run_steps', 'run_assertions', 'test_results', 'run_tokens']) {
        const column = table === 'runs' ? 'id' : 'run_id';
        const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [runId]);
        out[table] = Number(rows[0]!.n);
      }
      return out;
    }

    /** Runs per phase counted from the rows, to hold the trigger-kept counts against. */
    async function counted(): Promise<Record<RunPhase, number>> {
      const counts = Object.fromEntries(RUN_PHASES.map((p) => [p, 0])) as Record<RunPhase, number>;
      const { rows } = await sql.query<{ phase: RunPhase; n: number }>('SELECT phase, count(*)::int AS n FROM runs GROUP BY phase');
      for (const r of rows) counts[r.phase] = Number(r.n);
      return counts;
    }

    it('deletes finished runs older than the cut-off with everything they recorded; newer, Queued and Running runs stay', async () => {
      const old = await finishedRun(40, { phase: 'Failed' });
      const cancelled = await finishedRun(35, { phase: 'Cancelled' });
      const recent = await finishedRun(5);
      const running = await store.createRun(newRun({ name: 'still running' }));
      await store.claimRuns('e', 1, 1000);
      const queued = await store.createRun(newRun({ name: 'still queued' }));
      // however old they are, Queued and Running runs are not finished: never candidates
      await sql.query(`UPDATE runs SET created_at = now() - interval '400 days' WHERE id = ANY($1)`, [[queued.id, running.id]]);
      const before = await rowsOf(old.id);
      expect(before).toEqual({ runs: 1, run_logs: 3, run_steps: 1, run_assertions: 1, test_results: 1, run_tokens: 1 });

      const result = await store.deleteRunsBefore({ before: daysAgo(30) });
      expect(result).toEqual({ runs: 2, tests: 0, next: null });
      for (const id of [old.id, cancelled.id]) {
        expect(await store.getRun(id)).toBeNull();
        expect(await rowsOf(id)).toEqual({ runs: 0, run_logs: 0, run_steps: 0, run_assertions: 0, test_results: 0, run_tokens: 0 });
      }
      expect(await store.getRun(recent.id)).not.toBeNull();
      expect((await store.getRun(queued.id))?.phase).toBe('Queued');
      expect((await store.getRun(running.id))?.phase).toBe('Running');
      expect(await store.countByPhase()).toEqual(await counted());
      // The test keeps its row: it still has the recent run's result.
      const { rows } = await sql.query<{ key: string }>('SELECT key FROM tests');
      expect(rows.map((r) => r.key)).toEqual(['shop::checkout']);
      // Nothing left to delete: a second sweep is a no-op.
      expect(await store.deleteRunsBefore({ before: daysAgo(30) })).toEqual({ runs: 0, tests: 0, next: null });
    });

    it('keeps runs an override keeps: until its own cut-off, or forever', async () => {
      const prod50 = await finishedRun(50, { labels: { env: 'prod' } });
      const prod100 = await finishedRun(100, { labels: { env: 'prod' } });
      const staging50 = await finishedRun(50, { labels: { env: 'staging' } });
      const release = await finishedRun(500, { labels: { release: 'true', env: 'prod' } });
      const plain = await finishedRun(31);
      const result = await store.deleteRunsBefore({
        before: daysAgo(30),
        overrides: [
          { label: 'env', value: 'prod', before: daysAgo(90) },
          { label: 'release', value: 'true', before: null },
        ],
      });
      expect(result.runs).toBe(3);
      expect(await store.getRun(prod50.id)).not.toBeNull(); // 50 < 90 days
      expect(await store.getRun(release.id)).not.toBeNull(); // forever wins over env=prod's 90
      for (const gone of [prod100, staging50, plain]) expect(await store.getRun(gone.id)).toBeNull();
    });

    it('works in batches of batchSize, oldest first, walking past runs an override keeps', async () => {
      // 7 deletable runs interleaved with 4 kept ones
      const made: { run: Run; kept: boolean }[] = [];
      for (let i = 0; i < 11; i++) {
        const kept = i % 3 === 0;
        made.push({ run: await finishedRun(60 - i, kept ? { labels: { keep: 'yes' } } : {}), kept });
      }
      const batches: number[] = [];
      let after: string | null = null;
      do {
        const r = await store.deleteRunsBefore({ before: daysAgo(30), overrides: [{ label: 'keep', value: 'yes', before: null }], batchSize: 3, after });
        batches.push(r.runs);
        after = r.next;
      } while (after !== null);
      expect(batches).toEqual([3, 3, 1]);
      for (const { run, kept } of made) expect((await store.getRun(run.id)) !== null).toBe(kept);
      expect(await store.countByPhase()).toEqual(await counted());
    });

    it('deletes a test whose every result is gone and whose last run is past the cut-off, unless quarantined', async () => {
      await finishedRun(40, { testKey: 'shop::gone' });
      await finishedRun(40, { testKey: 'shop::quarantined' });
      await sql.query(`UPDATE tests SET quarantined_at = now(), quarantine_reason = 'flaky' WHERE key = 'shop::quarantined'`);
      await finishedRun(40, { testKey: 'shop::kept' });
      await finishedRun(45, { testKey: 'shop::kept', labels: { env: 'prod' } });
      const result = await store.deleteRunsBefore({ before: daysAgo(30), overrides: [{ label: 'env', value: 'prod', before: daysAgo(90) }] });
      expect(result).toEqual({ runs: 3, tests: 1, next: null });
      const { rows } = await sql.query<{ key: string }>('SELECT key FROM tests ORDER BY key');
      expect(rows.map((r) => r.key)).toEqual(['shop::kept', 'shop::quarantined']);
    });

    it('expires the log lines of old finished runs, keeping the run, its steps, assertions and summary', async () => {
      const old = await finishedRun(10, { lines: 20 });
      const older = await finishedRun(12, { lines: 5 });
      const recent = await finishedRun(2, { lines: 4 });
      const running = await store.createRun(newRun());
      await store.claimRuns('e', 1, 1000);
      await store.writeEvents({ logs: [{ runId: running.id, seq: 1, ts: new Date().toISOString(), level: 'info', message: 'working', stepSeq: null }], steps: [], assertions: [] });
      await sql.query(`UPDATE runs SET created_at = now() - interval '400 days', started_at = now() - interval '400 days' WHERE id = $1`, [running.id]);

      const first = await store.expireLogsBefore({ before: daysAgo(7), batchSize: 1 });
      expect(first).toEqual({ runs: 1, lines: 5, more: true }); // the oldest first
      const second = await store.expireLogsBefore({ before: daysAgo(7), batchSize: 1 });
      expect(second).toEqual({ runs: 1, lines: 20, more: true });
      expect(await store.expireLogsBefore({ before: daysAgo(7), batchSize: 1 })).toEqual({ runs: 0, lines: 0, more: false });

      for (const id of [old.id, older.id]) {
        const run = (await store.getRun(id))!;
        expect(run.logsExpiredAt).not.toBeNull();
        expect(run.phase).toBe('Passed');
        expect(run.summary).toEqual(summary);
        expect(await rowsOf(id)).toMatchObject({ runs: 1, run_logs: 0, run_steps: 1, run_assertions: 1, test_results: 1 });
        expect(await store.getLogs(id)).toEqual([]);
      }
      expect((await store.getRun(recent.id))!.logsExpiredAt).toBeNull();
      expect(await store.getLogs(recent.id)).toHaveLength(4);
      expect(await store.getLogs(running.id)).toHaveLength(1);
      expect((await store.getRun(running.id))!.logsExpiredAt).toBeNull();
      expect(await store.countByPhase()).toEqual(await counted());
    });

    it('works off a backlog of 5,000 old runs in batches, leaving the rest alone', async () => {
      await sql.query(
        `INSERT INTO runs (id, name, phase, origin, source, timeout_seconds, created_at, started_at, finished_at, duration_ms)
         SELECT 'backlog-' || lpad(i::text, 5, '0'), 'old', 'Passed', 'api', '{"type":"inline","script":""}', 60,
                now() - interval '60 days' - i * interval '1 second', now() - interval '60 days' - i * interval '1 second',
                now() - interval '60 days' - i * interval '1 second' + interval '10 ms', 10
           FROM generate_series(1, 5000) AS i`,
      );
      const keep = await finishedRun(1);
      const batches: number[] = [];
      let after: string | null = null;
      do {
        const r = await store.deleteRunsBefore({ before: daysAgo(30), batchSize: 500, after });
        batches.push(r.runs);
        after = r.next;
      } while (after !== null);
      // 10 full batches; the last full one cannot know it was the last, so one empty batch confirms it
      expect(batches).toEqual([...Array(10).fill(500), 0]);
      const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
      expect(Number(rows[0]!.n)).toBe(1);
      expect(await store.getRun(keep.id)).not.toBeNull();
      expect(await store.countByPhase()).toEqual(await counted());
    }, 60_000);

    it('keeps a batch short when its runs logged a lot: fewer runs, each with all its lines', async () => {
      for (let i = 0; i < 3; i++) await finishedRun(40 - i, { lines: 30 });
      const first = await store.deleteRunsBefore({ before: daysAgo(30), maxLogLines: 70 });
      expect(first).toMatchObject({ runs: 2 });
      expect(first.next).not.toBeNull();
      expect(await store.deleteRunsBefore({ before: daysAgo(30), maxLogLines: 70, after: first.next })).toMatchObject({ runs: 1, next: null });

      for (let i = 0; i < 3; i++) await finishedRun(10 - i, { lines: 30 });
      expect(await store.expireLogsBefore({ before: daysAgo(7), maxLogLines: 10 })).toEqual({ runs: 1, lines: 30, more: true }); // one run at least
      expect(await store.expireLogsBefore({ before: daysAgo(7), maxLogLines: 70 })).toEqual({ runs: 2, lines: 60, more: false });
    });

    it('refuses a bad batch size or cut-off, naming the field', async () => {
      await expect(store.deleteRunsBefore({ before: daysAgo(1), batchSize: 0 })).rejects.toThrow(ValidationError);
      await expect(store.deleteRunsBefore({ before: 'last tuesday' })).rejects.toThrow(/before: must be an ISO-8601 instant/);
      await expect(store.expireLogsBefore({ before: daysAgo(1), batchSize: 20_000 })).rejects.toThrow(/batchSize: must be an integer from 1 to 10000/);
    });
  });
}
