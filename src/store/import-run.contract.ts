/**
 * `Store.importRun` on every implementation: an imported report is one finished run
 * with its events, stored whole or not at all. Runs next to the store contract
 * (same `open`).
 */
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../core/run-events.js';
import { testCasesOfRun } from '../core/test-case.js';
import { eachTestOpens, type OpenedStore } from './store.contract.js';
import type { ImportedRunInput, Store } from './store.js';
import type { Sql } from './sql.js';

const input: ImportedRunInput = {
  name: 'nightly',
  labels: { ci: 'yes' },
  source: { type: 'inline', script: '', fileName: 'report.xml' },
  timeoutSeconds: 600,
  completion: {
    phase: 'Failed',
    reason: 'AssertionFailed',
    message: 'b: boom',
    summary: { stepsPassed: 1, stepsFailed: 2, stepsSkipped: 1, assertionsPassed: 0, assertionsFailed: 1 },
  },
  startedAt: '2024-03-01T10:00:00.000Z',
  durationMs: 1500,
};

function batchesOf(runId: string): EventBatch[] {
  const step = (seq: number, name: string, status: 'passed' | 'failed' | 'skipped', message: string | null = null) => ({
    runId,
    seq,
    parentSeq: null,
    kind: 'test' as const,
    name,
    status,
    startedAt: '2024-03-01T10:00:00.000Z',
    finishedAt: '2024-03-01T10:00:00.500Z',
    durationMs: 500,
    message,
    file: 'a_test.go',
    line: seq * 10,
    classname: 'pkg/a',
    flaky: seq === 1,
  });
  return [
    {
      steps: [step(1, 'a', 'passed'), step(2, 'b', 'failed', 'boom')],
      assertions: [{ runId, seq: 1, stepSeq: 2, passed: false, message: 'boom\nstack', expected: null, actual: null, file: null, line: null, ts: '2024-03-01T10:00:00.000Z' }],
      logs: [{ runId, seq: 1, ts: '2024-03-01T10:00:00.000Z', level: 'info', message: 'out of b', stepSeq: 2 }],
    },
    {
      steps: [step(3, 'c', 'failed', 'conn refused\nat x'), step(4, 'd', 'skipped', 'later')],
      assertions: [],
      logs: [{ runId, seq: 2, ts: '2024-03-01T10:00:00.000Z', level: 'error', message: 'suite err\u0000', stepSeq: null }],
    },
  ];
}

async function* generate(batches: EventBatch[], failAfter?: number): AsyncIterable<EventBatch> {
  for (const [i, b] of batches.entries()) {
    if (failAfter !== undefined && i >= failAfter) throw new Error('the upload broke off');
    yield b;
  }
}

export function describeImportRunContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store.importRun: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    it('stores the run finished, with origin import, its times, counts, steps (classname, flaky), assertions and logs', async () => {
      const run = await store.importRun(input, (id) => generate(batchesOf(id)));
      expect(run).toMatchObject({
        name: 'nightly',
        origin: 'import',
        phase: 'Failed',
        reason: 'AssertionFailed',
        message: 'b: boom',
        labels: { ci: 'yes' },
        createdAt: '2024-03-01T10:00:00.000Z',
        startedAt: '2024-03-01T10:00:00.000Z',
        finishedAt: '2024-03-01T10:00:01.500Z',
        durationMs: 1500,
        executor: null,
        summary: input.completion.summary,
      });
      expect(await store.getRun(run.id)).toEqual(run);
      const steps = await store.getSteps(run.id);
      expect(steps.map((s) => [s.name, s.status, s.classname, s.flaky ?? false])).toEqual([
        ['a', 'passed', 'pkg/a', true],
        ['b', 'failed', 'pkg/a', false],
        ['c', 'failed', 'pkg/a', false],
        ['d', 'skipped', 'pkg/a', false],
      ]);
      const assertions = await store.getAssertions(run.id);
      expect(assertions).toHaveLength(1);
      expect((await store.getLogs(run.id)).map((l) => l.message)).toEqual(['out of b', 'suite err\uFFFD']);
      // the stored records read back as the same test cases
      const cases = testCasesOfRun({ run, steps, assertions });
      expect(cases.map((c) => [c.key, c.outcome, c.flaky])).toEqual([
        ['pkg/a::a', 'Passed', true],
        ['pkg/a::b', 'Failed', false],
        ['pkg/a::c', 'Error', false],
        ['pkg/a::d', 'Skipped', false],
      ]);
      expect(cases[2]).toMatchObject({ message: 'conn refused', file: 'a_test.go', line: 30 });
      // counted once in the per-phase counts, and listed under origin import
      expect((await store.countByPhase()).Failed).toBe(1);
      expect((await store.listRuns({ origin: ['import'] }, {})).items.map((r) => r.id)).toEqual([run.id]);
    });

    it('links a definition when the source names one', async () => {
      const def = await store.createDefinition({ name: 'shop-tests', script: '' });
      const run = await store.importRun({ ...input, source: { type: 'definition', definitionId: def.id, script: '', fileName: 'r.xml' } }, (id) => generate(batchesOf(id)));
      expect((await store.listRuns({ definitionId: def.id }, {})).items.map((r) => r.id)).toEqual([run.id]);
    });

    it('stores nothing when the batches fail half-way (all or nothing)', async () => {
      await expect(store.importRun(input, (id) => generate(batchesOf(id), 1))).rejects.toThrow('the upload broke off');
      const { rows } = await sql.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM runs)::int + (SELECT count(*) FROM run_steps)::int + (SELECT count(*) FROM run_logs)::int AS n`,
      );
      expect(rows[0]!.n).toBe(0);
      expect((await store.countByPhase()).Failed).toBe(0);
    });
  });
}
