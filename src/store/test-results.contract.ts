import { describe, expect, it } from 'vitest';
import type { Store } from './store.js';
import type { Sql } from './sql.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { Run, RunCompletion } from '../core/run.js';
import type { AssertionRecord, LogLine, StepRecord } from '../core/run-events.js';
import { ValidationError } from '../core/errors.js';
import { categorizer, DEFAULT_CATEGORY_RULES, failureText } from '../core/categories.js';
import { testCasesOfRun } from '../core/test-case.js';
import { LARGE_RUN_TESTS, RESULT_CHUNK } from './test-results-sql.js';

/** A test of a scripted run: its name, how it ended, and the failed assertion's message. */
interface Case {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  message?: string;
  log?: string;
  ms?: number;
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * The Tests contract (issue 12): what a user sees of test cases across runs when
 * runs end — results, history, flakiness, categories, quarantine. Runs on PGlite and
 * PostgreSQL.
 */
export function describeTestResultsContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Tests contract: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    /** Creates, claims and finishes one run whose tests end as `cases`. */
    async function runWith(cases: Case[], options: { labels?: Record<string, string>; definitionId?: string; name?: string; phase?: RunCompletion['phase'] } = {}): Promise<Run> {
      const run = await store.createRun({
        name: options.name ?? 'checkout',
        origin: 'api',
        source: options.definitionId ? { type: 'definition', definitionId: options.definitionId, script: '' } : { type: 'inline', script: '', fileName: 'checkout.lua' },
        timeoutSeconds: 60,
        labels: options.labels ?? {},
      });
      const [claimed] = await store.claimRuns('exec-t', 1, 100);
      expect(claimed?.id).toBe(run.id);
      const at = new Date(T0).toISOString();
      const steps: StepRecord[] = cases.map((c, i) => ({
        runId: run.id, seq: i + 1, parentSeq: null, kind: 'test', name: c.name, status: c.status,
        startedAt: at, finishedAt: at, durationMs: c.ms ?? 10 * (i + 1), message: c.status === 'skipped' ? 'not today' : null, file: 'checkout.lua', line: i + 1,
      }));
      const assertions: AssertionRecord[] = cases.flatMap((c, i) =>
        c.status === 'failed' ? [{ runId: run.id, seq: i + 1, stepSeq: i + 1, passed: false, message: c.message ?? 'expected 200, got 500', expected: '200', actual: '500', file: 'checkout.lua', line: 10 + i, ts: at }] : [],
      );
      const logs: LogLine[] = cases.flatMap((c, i) => (c.log ? [{ runId: run.id, seq: i + 1, ts: at, level: 'info' as const, message: c.log, stepSeq: i + 1 }] : []));
      const failed = cases.some((c) => c.status === 'failed');
      const phase = options.phase ?? (failed ? 'Failed' : 'Passed');
      const summary = {
        stepsPassed: cases.filter((c) => c.status === 'passed').length,
        stepsFailed: cases.filter((c) => c.status === 'failed').length,
        stepsSkipped: cases.filter((c) => c.status === 'skipped').length,
        assertionsPassed: 0,
        assertionsFailed: assertions.length,
      };
      const [finished] = await store.writeEvents({ logs, steps, assertions }, [
        { id: run.id, owner: 'exec-t', completion: { phase, reason: phase === 'Failed' ? 'AssertionFailed' : null, message: failed ? (cases.find((c) => c.status === 'failed')!.message ?? 'expected 200, got 500') : null, summary } },
      ]);
      return finished!;
    }

    async function testByKey(key: string) {
      const page = await store.listTests({ text: key }, { limit: 10 });
      const found = page.items.find((t) => t.key === key);
      expect(found, key).toBeDefined();
      return found!;
    }

    it('records the passing, failing and skipped test cases of a run, with the failure and its category', async () => {
      const run = await runWith([
        { name: 'lists products', status: 'passed', ms: 12 },
        { name: 'pays', status: 'failed', message: 'expected 200, got 500' },
        { name: 'refunds', status: 'skipped' },
      ]);
      expect(run).toMatchObject({ phase: 'Failed', category: 'Regression', categoryRule: null });
      expect((await store.getRun(run.id))?.category).toBe('Regression');

      const { items } = await store.listTests({}, {});
      expect(items.map((t) => [t.key, t.lastOutcome, t.recent]).sort()).toEqual([
        ['checkout.lua::lists products', 'Passed', ['Passed']],
        ['checkout.lua::pays', 'Failed', ['Failed']],
        ['checkout.lua::refunds', 'Skipped', ['Skipped']],
      ]);
      const pays = items.find((t) => t.name === 'pays')!;
      expect(pays).toMatchObject({
        classname: 'checkout.lua', lastRunId: run.id, runs: 1, passRate: 0, flaky: false,
        lastFailure: { runId: run.id, message: 'expected 200, got 500', category: 'Regression' }, quarantine: null,
      });
      expect(pays.id).toMatch(/^[0-9a-f]{16}$/);
      expect(items.find((t) => t.name === 'lists products')).toMatchObject({ passRate: 1, medianMs: 12, p95Ms: 12, lastFailure: null });

      const history = await store.testHistory(pays.id, {});
      expect(history?.items).toEqual([
        expect.objectContaining({
          runId: run.id, runName: 'checkout', runPhase: 'Failed', outcome: 'Failed', message: 'expected 200, got 500',
          failureType: 'AssertionFailed', category: 'Regression', categoryRule: null, quarantined: false, file: 'checkout.lua', line: 11,
        }),
      ]);
      expect(history!.items[0]!.detail).toContain('expected: 200');
      // filters
      expect((await store.listTests({ outcome: 'Failed' }, {})).items.map((t) => t.name)).toEqual(['pays']);
      expect((await store.listTests({ category: 'Regression' }, {})).items.map((t) => t.name)).toEqual(['pays']);
      expect((await store.listTests({ origin: 'api' }, {})).items).toHaveLength(3);
      expect((await store.listTests({ origin: 'crd' }, {})).items).toHaveLength(0);
    });

    it('names cases after the definition and categorizes with the stored rules (message and log matchers)', async () => {
      const def = await store.createDefinition({ name: 'shop-smoke', script: 'print(1)' });
      await sql.query(`INSERT INTO category_rules (id, rules, version) VALUES (1, $1::jsonb, 7)`, [
        JSON.stringify({ rules: [
          { name: 'dns', category: 'Missing Component', match: { log: ['lookup shop.svc: no such host'] } },
          { name: 'slow', category: 'Platform Issue', match: { message: [{ regex: 'timed? ?out' }] } },
        ] }),
      ]);
      const run = await runWith(
        [
          { name: 'home', status: 'failed', message: 'request timed out' },
          { name: 'cart', status: 'failed', message: 'connection refused', log: 'lookup shop.svc: no such host' },
        ],
        { definitionId: def.id },
      );
      expect(run).toMatchObject({ phase: 'Failed', category: 'Platform Issue', categoryRule: 'slow' });
      const cart = await testByKey('shop-smoke::cart');
      expect(cart.lastFailure?.category).toBe('Missing Component');
      expect(cart.definitionId).toBe(def.id);
      expect((await store.testHistory(cart.id, {}))!.items[0]).toMatchObject({ category: 'Missing Component', categoryRule: 'dns' });
    });

    it('flags a test that alternates pass and fail over 6 runs as flaky, with the runs that flipped', async () => {
      const runs: Run[] = [];
      for (let i = 0; i < 6; i++) {
        runs.push(await runWith([{ name: 'pays', status: i % 2 === 0 ? 'passed' : 'failed' }, { name: 'stable', status: 'passed' }]));
      }
      const pays = await testByKey('checkout.lua::pays');
      expect(pays).toMatchObject({ flaky: true, flakiness: 1, passRate: 0.5, runs: 6, recent: ['Failed', 'Passed', 'Failed', 'Passed', 'Failed', 'Passed'] });
      expect((await testByKey('checkout.lua::stable')).flaky).toBe(false);
      const flaky = await store.listTests({ flaky: true }, {});
      expect(flaky.items.map((t) => t.key)).toEqual(['checkout.lua::pays']);

      const detail = await store.getTest(pays.id);
      expect(detail).toMatchObject({ window: 30, flakyEvidence: { flips: 5, revision: null } });
      expect(detail!.flakyEvidence.runIds).toEqual(runs.slice(1).reverse().map((r) => r.id));
    });

    it('flags a test that passed and failed on the same revision label as flaky', async () => {
      const passed = await runWith([{ name: 'pays', status: 'passed' }], { labels: { revision: 'abc123' } });
      const failed = await runWith([{ name: 'pays', status: 'failed' }], { labels: { revision: 'abc123' } });
      await runWith([{ name: 'pays', status: 'failed' }], { labels: { revision: 'def456' } });
      const pays = await testByKey('checkout.lua::pays');
      expect(pays.flaky).toBe(true);
      expect((await store.getTest(pays.id))!.flakyEvidence).toMatchObject({
        flips: 1,
        revision: { revision: 'abc123', passedRunId: passed.id, failedRunId: failed.id },
      });
      expect((await store.testHistory(pays.id, {}))!.items.map((i) => i.revision)).toEqual(['def456', 'abc123', 'abc123']);
    });

    it('a quarantined test failing leaves the run Passed with its quarantined failures; released, it fails runs again; both audited', async () => {
      await runWith([{ name: 'pays', status: 'failed' }, { name: 'lists', status: 'passed' }]);
      const pays = await testByKey('checkout.lua::pays');
      const quarantined = await store.quarantineTest(pays.id, 'alice', 'flaky payment sandbox');
      expect(quarantined?.quarantine).toMatchObject({ by: 'alice', reason: 'flaky payment sandbox' });
      expect((await store.listTests({ quarantined: true }, {})).items.map((t) => t.key)).toEqual([pays.key]);

      const before = await store.countByPhase();
      const run = await runWith([{ name: 'pays', status: 'failed', message: 'sandbox 502' }, { name: 'lists', status: 'passed' }]);
      expect(run).toMatchObject({ phase: 'Passed', reason: null, category: null, message: '1 quarantined failure: sandbox 502' });
      expect(run.summary.quarantinedFailures).toBe(1);
      expect(await store.getRun(run.id)).toEqual(run);
      expect(await store.getSummary(run.id)).toMatchObject({ quarantinedFailures: 1 });
      const after = await store.countByPhase();
      expect(after.Passed - before.Passed).toBe(1);
      expect(after.Failed - before.Failed).toBe(0);
      expect((await store.testHistory(pays.id, { limit: 1 }))!.items[0]).toMatchObject({ runId: run.id, outcome: 'Failed', quarantined: true, runPhase: 'Passed' });

      // A run where another, not quarantined, test fails still fails.
      const mixed = await runWith([{ name: 'pays', status: 'failed' }, { name: 'lists', status: 'failed', message: 'empty list' }]);
      expect(mixed).toMatchObject({ phase: 'Failed', category: 'Regression' });
      expect(mixed.summary.quarantinedFailures).toBe(1);

      const released = await store.releaseTest(pays.id, 'bob');
      expect(released?.quarantine).toBeNull();
      const again = await runWith([{ name: 'pays', status: 'failed' }]);
      expect(again.phase).toBe('Failed');
      expect(again.summary.quarantinedFailures).toBeUndefined();

      const { rows } = await sql.query<{ actor: string; action: string; target: string }>(`SELECT actor, action, target FROM audit_log ORDER BY id`);
      expect(rows).toEqual([
        { actor: 'alice', action: 'test.quarantine', target: pays.key },
        { actor: 'bob', action: 'test.release', target: pays.key },
      ]);
    });

    it('pages through a test history and the tests list, newest first, and rejects a bad cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await runWith([{ name: 'pays', status: 'passed' }, { name: `only-${i}`, status: 'passed' }])).id);
      const pays = await testByKey('checkout.lua::pays');
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<Store['testHistory']>> = await store.testHistory(pays.id, { limit: 2, cursor });
        seen.push(...page!.items.map((i) => i.runId));
        cursor = page!.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());

      const keys: string[] = [];
      cursor = null;
      do {
        const page: Awaited<ReturnType<Store['listTests']>> = await store.listTests({}, { limit: 2, cursor });
        keys.push(...page.items.map((t) => t.key));
        cursor = page.nextCursor;
      } while (cursor);
      expect(new Set(keys).size).toBe(6);
      expect(keys).toHaveLength(6);

      await expect(store.testHistory(pays.id, { cursor: 'nope' })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.listTests({}, { cursor: 'nope' })).rejects.toBeInstanceOf(ValidationError);
      expect(await store.getTest('0000000000000000')).toBeNull();
      expect(await store.testHistory('0000000000000000', {})).toBeNull();
      expect(await store.quarantineTest('0000000000000000', 'a', 'b')).toBeNull();
    });

    it('keeps exact per-test counts when many runs with the same tests end at once (no deadlock on PostgreSQL)', async () => {
      const n = 16;
      const created = await store.createRuns(Array.from({ length: n }, () => ({ name: 'race', origin: 'api' as const, source: { type: 'inline' as const, script: '' }, timeoutSeconds: 60 })));
      expect(await store.claimRuns('exec-r', n, 100)).toHaveLength(n);
      const at = new Date(T0).toISOString();
      const names = ['alpha', 'beta', 'gamma', 'delta'];
      await Promise.all(
        created.map((run, i) => {
          // Each run lists its tests in another order: the upsert must still lock keys in one order.
          const order = i % 2 ? [...names].reverse() : names;
          const steps: StepRecord[] = order.map((name, j) => ({
            runId: run.id, seq: j + 1, parentSeq: null, kind: 'test', name, status: (i + j) % 3 ? 'passed' : 'failed',
            startedAt: at, finishedAt: at, durationMs: 5, message: null, file: null, line: null,
          }));
          const phase = steps.some((s) => s.status === 'failed') ? 'Failed' : 'Passed';
          const summary = { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 };
          return store.writeEvents({ logs: [], steps, assertions: [] }, [{ id: run.id, owner: 'exec-r', completion: { phase, reason: phase === 'Failed' ? 'ScriptError' : null, message: 'x', summary } }]);
        }),
      );
      const { items } = await store.listTests({ text: 'race.lua::' }, {});
      expect(items.map((t) => [t.name, t.runs, t.recent.length]).sort()).toEqual(names.map((name) => [name, n, n]).sort());
      const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_results`);
      expect(rows[0]!.n).toBe(n * names.length);
    });

    it('records a run with more tests than one chunk as the one-shot path would: names, suffixes, outcomes, quarantine, category', async () => {
      const TESTS = LARGE_RUN_TESTS + 100;
      expect(TESTS).toBeGreaterThan(2 * RESULT_CHUNK);
      const at = '2024-03-01T10:00:00.000Z';
      /**
       * Imports a report of TESTS tests: two classnames plus the run's own (Lua-like nested
       * tests: an outer test, a plain step, an inner test); every 7th named 'same' (suffixes
       * across chunks); every 10th failing through an assertion on a plain step under it;
       * every 13th skipped. `outside`: all pass but the run Failed by an assertion outside tests.
       */
      const importBig = async (outside = false): Promise<Run> => {
        let failing = 0;
        return store.importRun(
          {
            name: 'nightly',
            labels: { revision: 'r1' },
            source: { type: 'inline', script: '', fileName: 'big.xml' },
            timeoutSeconds: 600,
            completion: { phase: 'Failed', reason: 'AssertionFailed', message: 'boom', summary: { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 } },
            startedAt: at,
            durationMs: 1000,
          },
          async function* (runId) {
            const steps: StepRecord[] = [];
            const assertions: AssertionRecord[] = [];
            const step = (parentSeq: number | null, kind: StepRecord['kind'], name: string, status: StepRecord['status'], classname?: string): number => {
              const seq = steps.length + 1;
              steps.push({
                runId, seq, parentSeq, kind, name, status, startedAt: at, finishedAt: at, durationMs: seq, message: status === 'skipped' ? 'not today' : status === 'failed' ? `step ${seq} failed` : null,
                file: 'big.xml', line: seq, ...(classname ? { classname } : {}),
              });
              return seq;
            };
            for (let i = 0; i < TESTS; i++) {
              const fails = !outside && i % 10 === 3;
              const status = fails ? 'failed' : i % 13 === 5 ? 'skipped' : 'passed';
              if (i % 50 === 0) {
                // nested: outer test > plain step > inner test (named 'outer N / same')
                const outer = step(null, 'test', `outer ${i % 200}`, 'passed');
                const plain = step(outer, 'step', 'setup', 'passed');
                step(plain, 'test', 'same', status);
                continue;
              }
              const test = step(null, 'test', i % 7 === 0 ? 'same' : `case ${i}`, status, i % 2 ? 'Billing' : 'Orders');
              if (fails) {
                const inner = step(test, 'step', 'call', 'failed');
                assertions.push({ runId, seq: ++failing, stepSeq: inner, passed: false, message: `expected ${i}\nstack`, expected: String(i), actual: 'x', file: 'big.xml', line: i, ts: at });
              }
            }
            if (outside) {
              step(null, 'test', 'nightly', 'passed');
              assertions.push({ runId, seq: 1, stepSeq: null, passed: false, message: 'teardown failed', expected: null, actual: null, file: null, line: null, ts: at });
            }
            for (let i = 0; i < steps.length; i += 700) yield { steps: steps.slice(i, i + 700), assertions: i === 0 ? assertions : [], logs: [] };
          },
        );
      };
      /** What the one-shot path computes for the run (the same cases, judged with the default rules), and what was recorded. */
      const compare = async (run: Run, quarantined: ReadonlySet<string>) => {
        const categorize = categorizer(DEFAULT_CATEGORY_RULES);
        const expected = testCasesOfRun({ run, steps: await store.getSteps(run.id), assertions: await store.getAssertions(run.id, { failedOnly: true }) }).map((c) => {
          const failed = c.outcome === 'Failed' || c.outcome === 'Error';
          const verdict = failed ? categorize({ testKey: c.key, testName: c.name, message: failureText(c.message, c.detail), log: '', definition: c.classname, app: null, labels: run.labels }) : null;
          return { key: c.key, classname: c.classname, name: c.name, outcome: c.outcome, durationMs: c.durationMs, message: c.message, failureType: c.failureType, detail: c.detail,
            file: c.file, line: c.line, stepSeq: c.stepSeq, quarantined: failed && quarantined.has(c.key), category: verdict?.category ?? null, categoryRule: verdict?.rule ?? null };
        });
        const { rows } = await sql.query<Record<string, unknown>>(`SELECT * FROM test_results WHERE run_id = $1 ORDER BY idx`, [run.id]);
        const recorded = rows.map((r) => ({ key: r.test_key, classname: r.classname, name: r.name, outcome: r.outcome, durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
          message: r.message, failureType: r.failure_type, detail: r.detail, file: r.file, line: r.line, stepSeq: r.step_seq, quarantined: r.quarantined, category: r.category, categoryRule: r.category_rule }));
        expect(recorded).toEqual(expected);
        return expected;
      };

      const idOf = async (key: string) => (await sql.query<{ id: string }>(`SELECT id FROM tests WHERE key = $1`, [key])).rows[0]!.id;
      const first = await importBig();
      const cases = await compare(first, new Set());
      const CASES = TESTS + Math.ceil(TESTS / 50); // the outer tests are cases too
      expect(cases.length).toBe(CASES);
      // names made unique across the whole run, per classname, nested paths included
      expect(cases.filter((c) => c.classname === 'Orders' && c.name.startsWith('same')).map((c) => c.name).slice(0, 3)).toEqual(['same', 'same (2)', 'same (3)']);
      expect(cases.some((c) => c.classname === 'big.xml' && c.name === 'outer 0 / same (2)')).toBe(true);
      expect(new Set(cases.map((c) => c.key)).size).toBe(CASES);
      const failures = cases.filter((c) => c.outcome === 'Failed');
      expect(failures.length).toBeGreaterThan(RESULT_CHUNK / 5);
      expect(failures[0]).toMatchObject({ failureType: 'AssertionFailed', message: 'expected 3', stepSeq: expect.any(Number) });
      expect(first).toMatchObject({ phase: 'Failed', category: 'Regression' });
      const { rows: counted } = await sql.query<{ n: number; runs: number }>(`SELECT count(*)::int AS n, sum(runs)::int AS runs FROM tests`);
      expect(counted[0]).toEqual({ n: CASES, runs: CASES });
      expect(await store.getTest(await idOf(failures[0]!.key))).toMatchObject({ lastOutcome: 'Failed', recent: ['Failed'], lastFailure: { runId: first.id, message: 'expected 3', category: 'Regression' } });

      // the failures of the first chunk quarantined: the run still fails, categorized by its first open failure (a later chunk)
      const early = failures.filter((c) => c.stepSeq! < failures[Math.ceil(RESULT_CHUNK / 10)]!.stepSeq!);
      for (const c of early) await store.quarantineTest(await idOf(c.key), 'alice', 'sandbox');
      const second = await importBig();
      await compare(second, new Set(early.map((c) => c.key)));
      expect(second).toMatchObject({ phase: 'Failed', category: 'Regression', summary: { quarantinedFailures: early.length } });

      // every failure quarantined: the run passes, saying how many and the first
      for (const c of failures.slice(early.length)) await store.quarantineTest(await idOf(c.key), 'alice', 'sandbox');
      const third = await importBig();
      await compare(third, new Set(failures.map((c) => c.key)));
      expect(third).toMatchObject({ phase: 'Passed', category: null, message: `${failures.length} quarantined failures: expected 3`, summary: { quarantinedFailures: failures.length } });
      expect(await store.getTest(await idOf(failures[0]!.key))).toMatchObject({ recent: ['Failed', 'Failed', 'Failed'], runs: 3 });

      // all tests pass but the run failed outside them: one more case, for the run, named uniquely
      const outside = await importBig(true);
      const withRun = await compare(outside, new Set());
      expect(withRun.at(-1)).toMatchObject({ classname: 'big.xml', name: 'nightly (2)', outcome: 'Failed', message: 'teardown failed', stepSeq: null });
    }, 120_000);

    it('records runs ended by cancel and by a lost executor', async () => {
      const queued = await store.createRun({ name: 'never ran', origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });
      expect((await store.cancelQueuedRun(queued.id, 'not needed'))?.phase).toBe('Cancelled');
      expect((await testByKey('never ran.lua::never ran')).lastOutcome).toBe('Skipped');

      const lost = await store.createRun({ name: 'lost', origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });
      await store.claimRuns('dead-exec', 1, 100);
      const [orphan] = await store.failOrphanedRuns(['exec-t'], 'executor gone');
      expect(orphan).toMatchObject({ id: lost.id, phase: 'Error', category: 'Regression' });
      expect(await testByKey('lost.lua::lost')).toMatchObject({ lastOutcome: 'Error', lastFailure: { message: 'executor gone' } });
    });
  });
}
