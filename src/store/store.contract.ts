import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations/index.js';
import type { Store } from './store.js';
import type { Sql } from './sql.js';
import type { NewRun, Run, RunFilter } from '../core/run.js';
import { RUN_PHASES, type RunPhase } from '../core/run-phase.js';
import type { LogLine, StepRecord, AssertionRecord } from '../core/run-events.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { IllegalTransitionError } from '../core/run-phase.js';

/** What a contract run needs: a migrated, empty store and its connection. */
export interface OpenedStore {
  store: Store;
  sql: Sql;
  close(): Promise<void>;
}

const inline = { type: 'inline', script: 'print(1)' } as const;

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return { name: 'a run', origin: 'api', source: inline, timeoutSeconds: 60, ...overrides };
}

const summary = { stepsPassed: 3, stepsFailed: 1, stepsSkipped: 0, assertionsPassed: 7, assertionsFailed: 1 };

/** Newest first, the order listRuns promises (ids compare bytewise). */
function newestFirst(a: Run, b: Run): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Opens a fresh store before each test of the enclosing `describe` (handing it to
 * `use`) and closes it after: the set-up every contract suite shares.
 */
export function eachTestOpens(open: () => Promise<OpenedStore>, use: (opened: OpenedStore) => void): void {
  let opened: OpenedStore;
  beforeEach(async () => {
    opened = await open();
    use(opened);
  });
  afterEach(async () => {
    await opened.close();
  });
}

/**
 * The one suite every Store implementation passes. `open` returns a migrated store
 * with no data in it; it is called before every test and closed after it.
 */
export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let sql: Sql;
    eachTestOpens(open, (o) => ((store = o.store), (sql = o.sql)));

    describe('runs', () => {
      it('creates a Queued run and reads it back', async () => {
        const created = await store.createRun(
          newRun({
            name: 'checkout works',
            origin: 'crd',
            k8sRef: { namespace: 'qa', name: 'tr-1', uid: 'u1' },
            appName: 'shop',
            env: { A: '1' },
            labels: { team: 'core' },
            source: { type: 'definition', definitionId: 'def-1', script: 'x()' },
          }),
        );
        expect(created).toMatchObject({
          name: 'checkout works',
          phase: 'Queued',
          origin: 'crd',
          k8sRef: { namespace: 'qa', name: 'tr-1', uid: 'u1' },
          appName: 'shop',
          env: { A: '1' },
          labels: { team: 'core' },
          timeoutSeconds: 60,
          startedAt: null,
          finishedAt: null,
          durationMs: null,
          reason: null,
          message: null,
          executor: null,
          summary: { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 },
        });
        expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(await store.getRun(created.id)).toEqual(created);
        expect(await store.getRun('no-such-run')).toBeNull();
        expect((await store.listRuns({ definitionId: 'def-1' }, {})).items.map((r) => r.id)).toEqual([created.id]);
      });

      it('keeps a given id and rejects a duplicate one', async () => {
        const run = await store.createRun(newRun({ id: 'my-id' }));
        expect(run.id).toBe('my-id');
        await expect(store.createRun(newRun({ id: 'my-id' }))).rejects.toBeInstanceOf(ConflictError);
      });

      it('creates several runs in one call, in order, each Queued', async () => {
        const runs = await store.createRuns([newRun({ name: 'first' }), newRun({ name: 'second' }), newRun({ name: 'third' })]);
        expect(runs.map((r) => [r.name, r.phase])).toEqual([['first', 'Queued'], ['second', 'Queued'], ['third', 'Queued']]);
        // Claimed oldest first: submission order survives a shared timestamp.
        expect((await store.claimRuns('exec-a', 3, 10)).map((r) => r.name)).toEqual(['first', 'second', 'third']);
        await expect(store.createRuns([newRun({ id: 'dup' }), newRun({ id: 'dup' })])).rejects.toBeInstanceOf(ConflictError);
        expect((await store.listRuns({}, { limit: 10 })).items).toHaveLength(3);
      });

      it('claims a Queued run created before the last claimed one (a clock set back)', async () => {
        const [first] = await store.createRuns([newRun({ name: 'first' }), newRun({ name: 'second' })]);
        expect((await store.claimRuns('exec-a', 1, 10)).map((r) => r.name)).toEqual(['first']);
        // Created "before" the run just claimed, as after the clock was set back.
        await sql.query(
          `INSERT INTO runs (id, name, phase, origin, source, timeout_seconds, created_at)
           VALUES ('earlier', 'earlier', 'Queued', 'api', '{"type":"inline","script":"x()"}', 60, $1::timestamptz - interval '1 hour')`,
          [first!.createdAt],
        );
        expect((await store.claimRuns('exec-a', 5, 10)).map((r) => r.name)).toEqual(['earlier', 'second']);
        expect(await store.queueStats()).toEqual({ queued: 0, running: 3 });
      });

      it('starts runs at insert while there is room, never past the global limit nor an older Queued run', async () => {
        const start = { owner: 'exec-a', max: 10, globalLimit: 3 };
        const [other] = await store.createRuns([newRun({ name: 'other' })]);
        await store.claimRuns('exec-b', 1, 10);
        // One Running already (another owner's): two more fit under the global limit of 3.
        const runs = await store.createRuns([newRun({ name: 'a' }), newRun({ name: 'b' }), newRun({ name: 'c' })], start);
        expect(runs.map((r) => [r.name, r.phase, r.executor])).toEqual([['a', 'Running', 'exec-a'], ['b', 'Running', 'exec-a'], ['c', 'Queued', null]]);
        expect(runs[0]!.startedAt).not.toBeNull();
        expect(runs[2]!.startedAt).toBeNull();
        expect(await store.getRun(runs[1]!.id)).toEqual(runs[1]);
        // A Queued run waits: a new run does not pass it, even with room.
        await store.finishRun(other!.id, 'exec-b', { phase: 'Passed', reason: null, message: null, summary });
        expect((await store.createRuns([newRun({ name: 'd' })], start)).map((r) => r.phase)).toEqual(['Queued']);
        expect((await store.claimRuns('exec-a', 10, 3)).map((r) => r.name)).toEqual(['c']);
        // At most `max`, and runs that target an App are left to the claim (its App rules).
        await store.finishRun(runs[0]!.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        await store.finishRun(runs[1]!.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        await store.claimRuns('exec-a', 10, 10);
        const more = await store.createRuns([newRun({ name: 'e', appName: 'shop' }), newRun({ name: 'f' }), newRun({ name: 'g' })], { owner: 'exec-a', max: 1, globalLimit: 10 });
        expect(more.map((r) => [r.name, r.phase])).toEqual([['e', 'Queued'], ['f', 'Running'], ['g', 'Queued']]);
        expect(await store.queueStats()).toEqual({ queued: 2, running: 3 });
      });

      it('finishes several runs in one call, only those that are Running and ours', async () => {
        const [a, b, c] = await store.createRuns([newRun(), newRun(), newRun()]);
        await store.claimRuns('exec-a', 2, 10);
        const done = await store.finishRuns([
          { id: a!.id, owner: 'exec-a', completion: { phase: 'Passed', reason: null, message: null, summary } },
          { id: b!.id, owner: 'exec-b', completion: { phase: 'Passed', reason: null, message: null, summary } },
          { id: c!.id, owner: 'exec-a', completion: { phase: 'Passed', reason: null, message: null, summary } },
        ]);
        expect(done.map((r) => r?.phase ?? null)).toEqual(['Passed', null, null]);
        expect((await store.getRun(b!.id))!.phase).toBe('Running');
        expect((await store.getRun(c!.id))!.phase).toBe('Queued');
      });

      it('claims, then finishes with duration, reason and summary', async () => {
        const run = await store.createRun(newRun());
        const [claimed] = await store.claimRuns('exec-a', 5, 10);
        expect(claimed).toMatchObject({ id: run.id, phase: 'Running', executor: 'exec-a' });
        expect(claimed!.startedAt).not.toBeNull();
        const done = await store.finishRun(run.id, 'exec-a', { phase: 'Failed', reason: 'AssertionFailed', message: 'boom', summary });
        expect(done).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed', message: 'boom', summary, executor: 'exec-a' });
        expect(done!.finishedAt).not.toBeNull();
        expect(done!.durationMs).toBe(Date.parse(done!.finishedAt!) - Date.parse(done!.startedAt!));
        expect(done!.durationMs).toBeGreaterThanOrEqual(0);
        expect(await store.getRun(run.id)).toEqual(done);
      });

      it('enforces the state machine with conditional updates', async () => {
        const queued = await store.createRun(newRun());
        const completion = { phase: 'Passed', reason: null, message: null, summary } as const;
        // finishing a Queued run changes nothing
        expect(await store.finishRun(queued.id, 'exec-a', completion)).toBeNull();
        expect((await store.getRun(queued.id))!.phase).toBe('Queued');
        // a completion must be a phase Running may move to
        await expect(store.finishRun(queued.id, 'exec-a', { ...completion, phase: 'Queued' as never })).rejects.toBeInstanceOf(
          IllegalTransitionError,
        );
        await store.claimRuns('exec-a', 1, 10);
        // someone else's run
        expect(await store.finishRun(queued.id, 'exec-b', completion)).toBeNull();
        // cancelQueuedRun on a Running run
        expect(await store.cancelQueuedRun(queued.id, 'stop')).toBeNull();
        expect((await store.getRun(queued.id))!.phase).toBe('Running');
        expect(await store.finishRun(queued.id, 'exec-a', completion)).not.toBeNull();
        // terminal: nothing moves it again
        expect(await store.finishRun(queued.id, 'exec-a', { ...completion, phase: 'Failed' })).toBeNull();
        expect(await store.requestCancel(queued.id)).toBeNull();
        expect(await store.cancelQueuedRun(queued.id, 'stop')).toBeNull();
        expect((await store.getRun(queued.id))!.phase).toBe('Passed');
        expect(await store.finishRun('no-such-run', 'exec-a', completion)).toBeNull();
      });

      it('records what a git source resolved to (commit, script, files), on git runs only', async () => {
        const git = { type: 'git', url: 'https://git.example.com/t.git', path: 'tests/smoke.lua', revision: 'v1' } as const;
        const run = await store.createRun(newRun({ source: git }));
        const checkout = { commit: '085559cc9685dc4beb98e70dd092cef22b43d046', script: 'print(1)', files: { 'lib/h.lua': 'return {}' } };
        await store.recordGitCheckout(run.id, checkout);
        expect((await store.getRun(run.id))!.source).toEqual({ ...git, ...checkout });
        const inline = await store.createRun(newRun());
        await store.recordGitCheckout(inline.id, checkout);
        expect((await store.getRun(inline.id))!.source).toEqual(inline.source);
      });

      it('cancels a Queued run, which is then never claimed', async () => {
        const run = await store.createRun(newRun());
        const cancelled = await store.cancelQueuedRun(run.id, 'not needed');
        expect(cancelled).toMatchObject({ phase: 'Cancelled', reason: 'Cancelled', message: 'not needed', startedAt: null, durationMs: null });
        expect(cancelled!.finishedAt).not.toBeNull();
        expect(await store.claimRuns('exec-a', 10, 10)).toEqual([]);
      });

      it('requests cancellation of Running runs for their owner', async () => {
        const a = await store.createRun(newRun());
        const b = await store.createRun(newRun());
        const queued = await store.createRun(newRun());
        await store.claimRuns('exec-a', 1, 10);
        await store.claimRuns('exec-b', 1, 10);
        expect(await store.requestCancel(queued.id)).toBeNull();
        expect((await store.requestCancel(a.id))!.id).toBe(a.id);
        expect(await store.cancelRequested('exec-a')).toEqual([a.id]);
        expect(await store.cancelRequested('exec-b')).toEqual([]);
        expect((await store.requestCancel(b.id))!.id).toBe(b.id);
        expect(await store.cancelRequested('exec-b')).toEqual([b.id]);
        await store.finishRun(a.id, 'exec-a', { phase: 'Cancelled', reason: 'Cancelled', message: 'by user', summary });
        expect(await store.cancelRequested('exec-a')).toEqual([]);
      });

      it('ends runs whatever their labels (no index row outgrows a page), and the biggest row the size bounds allow', async () => {
        const prefix = `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}.${'s'.repeat(61)}`;
        const labelSets = [
          Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${prefix}/${'n'.repeat(60)}${i.toString().padStart(3, '0')}`, 'v'.repeat(63)])),
          Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i.toString(36)}x${(i * 7919).toString(36)}`, `v${(i * 104729).toString(36)}`])),
          // just under and just over the covering index's bound
          { a: 'x'.repeat(759) },
          { a: 'x'.repeat(760) },
        ];
        const runs = [];
        for (const labels of labelSets) {
          // a 1024-byte name (256 four-byte characters), a 253-byte App, a 128-byte definition id
          const source = { type: 'definition', definitionId: 'd'.repeat(128), script: 'x' } as const;
          runs.push(await store.createRun(newRun({ name: '\u{1F600}'.repeat(256), appName: `${'a'.repeat(63)}.`.repeat(3) + 'b'.repeat(61), labels, source })));
        }
        for (const run of runs) {
          await store.claimRuns('exec-a', 10, 10);
          const done = await store.finishRun(run.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
          expect(done).toMatchObject({ phase: 'Passed' });
        }
        expect((await store.listRuns({ labels: { a: 'x'.repeat(760) } }, {})).items.map((r) => r.id)).toEqual([runs[3]!.id]);
      });

      it('refuses a run whose name, App or definition id is over its size bound, naming the field', async () => {
        const cases: [Partial<NewRun>, string][] = [
          [{ name: 'n'.repeat(1025) }, 'name'],
          [{ appName: 'a'.repeat(254) }, 'appName'],
          [{ source: { type: 'definition', definitionId: 'd'.repeat(129), script: 'x' } }, 'definitionId'],
        ];
        for (const [overrides, field] of cases) {
          const error = await store.createRun(newRun(overrides)).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).issues[0]!.field).toBe(field);
        }
        expect((await store.listRuns({}, {})).items).toEqual([]);
      });

      it('lists the Running runs of an owner, oldest first', async () => {
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push(await store.createRun(newRun({ name: `r${i}` })));
        await store.claimRuns('exec-a', 2, 10);
        await store.claimRuns('exec-b', 1, 10);
        expect((await store.runningRunsOf('exec-a')).map((r) => r.id)).toEqual([runs[0]!.id, runs[1]!.id]);
        expect((await store.runningRunsOf('exec-a'))[0]).toMatchObject({ phase: 'Running', executor: 'exec-a', name: 'r0' });
        await store.finishRun(runs[0]!.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        expect((await store.runningRunsOf('exec-a')).map((r) => r.id)).toEqual([runs[1]!.id]);
        expect(await store.runningRunsOf('nobody')).toEqual([]);
      });

      it('fails Running runs of owners that are gone', async () => {
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push(await store.createRun(newRun({ name: `r${i}` })));
        await store.claimRuns('alive', 2, 10);
        await store.claimRuns('dead', 1, 10);
        const failed = await store.failOrphanedRuns(['alive', 'other'], 'executor lost');
        expect(failed.map((r) => r.id)).toEqual([runs[2]!.id]);
        expect(failed[0]).toMatchObject({ phase: 'Error', reason: 'ExecutorLost', message: 'executor lost', executor: 'dead' });
        expect(failed[0]!.finishedAt).not.toBeNull();
        expect(failed[0]!.durationMs).toBeGreaterThanOrEqual(0);
        expect(await store.failOrphanedRuns(['alive'], 'x')).toEqual([]);
        // nobody alive: every Running run fails; Queued runs are untouched
        expect((await store.failOrphanedRuns([], 'all gone')).length).toBe(2);
        expect((await store.getRun(runs[3]!.id))!.phase).toBe('Queued');
      });

      it('adopts the Running runs of owners that are gone, in one statement, each to one adopter', async () => {
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push(await store.createRun(newRun({ name: `r${i}` })));
        await store.claimRuns('alive', 1, 10);
        await store.claimRuns('dead', 2, 10);
        const [a, b] = await Promise.all([store.adoptOrphanedRuns(['alive', 'x', 'y'], 'x'), store.adoptOrphanedRuns(['alive', 'x', 'y'], 'y')]);
        // Each dead owner's run went to exactly one adopter, still Running.
        expect([...a, ...b].map((r) => r.id).sort()).toEqual([runs[1]!.id, runs[2]!.id].sort());
        for (const r of [...a, ...b]) expect(r).toMatchObject({ phase: 'Running' });
        expect((await store.runningRunsOf('alive')).map((r) => r.id)).toEqual([runs[0]!.id]);
        expect(await store.adoptOrphanedRuns(['alive', 'x', 'y'], 'z')).toEqual([]);
        expect((await store.getRun(runs[3]!.id))!.phase).toBe('Queued');
      });

      it('releases the Running runs of an owner that stood by; any live instance adopts them then', async () => {
        const runs = [];
        for (let i = 0; i < 4; i++) runs.push(await store.createRun(newRun({ name: `r${i}` })));
        await store.claimRuns('old-leader', 2, 10);
        await store.claimRuns('leader', 1, 10);
        const released = await store.releaseRuns('old-leader');
        expect(released.map((r) => r.id).sort()).toEqual([runs[0]!.id, runs[1]!.id].sort());
        for (const r of released) expect(r).toMatchObject({ phase: 'Running', executor: null });
        expect(await store.runningRunsOf('old-leader')).toEqual([]);
        expect(await store.releaseRuns('old-leader')).toEqual([]);
        // Both instances are alive: the released runs are adopted all the same, the leader's own are not.
        const adopted = await store.adoptOrphanedRuns(['old-leader', 'leader'], 'leader');
        expect(adopted.map((r) => r.id).sort()).toEqual([runs[0]!.id, runs[1]!.id].sort());
        expect((await store.runningRunsOf('leader')).map((r) => r.id)).toEqual([runs[0]!.id, runs[1]!.id, runs[2]!.id]);
        expect((await store.getRun(runs[3]!.id))!.phase).toBe('Queued');
      });

      it('keeps per-run tokens by hash, valid only while their run is Queued or Running and unexpired', async () => {
        const run = await store.createRun(newRun());
        const other = await store.createRun(newRun());
        const later = new Date(Date.now() + 60_000).toISOString();
        await store.putRunTokens([{ runId: run.id, secretHash: 'h1', expiresAt: later }]);
        expect(await store.findRunToken('h1')).toEqual({ runId: run.id });
        // minted again, with another run's in the same statement: the old secret stops working
        await store.putRunTokens([
          { runId: run.id, secretHash: 'h2', expiresAt: later },
          { runId: other.id, secretHash: 'o1', expiresAt: later },
        ]);
        expect(await store.findRunToken('h1')).toBeNull();
        expect(await store.findRunToken('h2')).toEqual({ runId: run.id });
        expect(await store.findRunToken('o1')).toEqual({ runId: other.id });
        // two for one run in one statement: the last counts
        await store.putRunTokens([
          { runId: other.id, secretHash: 'o2', expiresAt: later },
          { runId: other.id, secretHash: 'o3', expiresAt: later },
        ]);
        expect(await store.findRunToken('o2')).toBeNull();
        expect(await store.findRunToken('o3')).toEqual({ runId: other.id });
        await store.claimRuns('e', 1, 10);
        expect(await store.findRunToken('h2')).toEqual({ runId: run.id });
        await store.finishRun(run.id, 'e', { phase: 'Passed', reason: null, message: null, summary });
        expect(await store.findRunToken('h2')).toBeNull();
        const expired = await store.createRun(newRun());
        await store.putRunTokens([{ runId: expired.id, secretHash: 'h3', expiresAt: new Date(Date.now() - 1000).toISOString() }]);
        expect(await store.findRunToken('h3')).toBeNull();
        expect(await store.deleteRunTokens([run.id, other.id, 'no-such-run'])).toBe(2);
        expect(await store.deleteRunTokens([run.id])).toBe(0);
        expect(await store.findRunToken('o3')).toBeNull();
        await store.putRunTokens([]);
        expect(await store.deleteRunTokens([])).toBe(0);
      });

      it('counts runs by phase and the live queue', async () => {
        const zero = Object.fromEntries(RUN_PHASES.map((p) => [p, 0]));
        expect(await store.countByPhase()).toEqual(zero);
        expect(await store.queueStats()).toEqual({ queued: 0, running: 0 });
        const runs = [];
        for (let i = 0; i < 5; i++) runs.push(await store.createRun(newRun()));
        await store.claimRuns('e', 2, 10);
        await store.finishRun(runs[0]!.id, 'e', { phase: 'Passed', reason: null, message: null, summary });
        await store.cancelQueuedRun(runs[4]!.id, 'x');
        expect(await store.countByPhase()).toEqual({ ...zero, Queued: 2, Running: 1, Passed: 1, Cancelled: 1 });
        expect(await store.queueStats()).toEqual({ queued: 2, running: 1 });
      });
    });

    describe('listRuns', () => {
      const phases: RunPhase[] = ['Passed', 'Failed', 'Error', 'Passed', 'TimedOut', 'Cancelled', 'Queued'];
      const origins = ['api', 'cli', 'ui', 'crd', 'schedule'] as const;
      const base = Date.parse('2025-03-01T00:00:00.000Z');

      /** 64 runs over 9 distinct created_at values, so ties are broken by id. */
      async function fixture(): Promise<Run[]> {
        for (let i = 0; i < 64; i++) {
          const run = await store.createRun(
            newRun({
              name: `${['Checkout', 'login', 'search_50%'][i % 3]} test ${i}`,
              origin: origins[i % 5],
              appName: i % 4 === 0 ? null : ['shop', 'billing', 'auth'][i % 3],
              labels: { team: ['core', 'data'][i % 2]!, env: ['dev', 'prod', 'qa'][i % 3]!, ...(i % 5 === 0 ? { hot: 'yes' } : {}) },
              source: i % 6 === 0 ? { type: 'definition', definitionId: 'def-x', script: '' } : inline,
            }),
          );
          await sql.query('UPDATE runs SET phase = $2, created_at = $3 WHERE id = $1', [
            run.id,
            phases[i % 7],
            new Date(base + (i % 9) * 60_000).toISOString(),
          ]);
        }
        const all: Run[] = [];
        for (const r of (await sql.query<{ id: string }>('SELECT id FROM runs')).rows) all.push((await store.getRun(r.id))!);
        return all.sort(newestFirst);
      }

      async function pageThrough(filter: RunFilter, limit: number): Promise<Run[]> {
        const seen: Run[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 100; pages++) {
          const page = await store.listRuns(filter, { limit, cursor });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items);
          if (!page.nextCursor) return seen;
          expect(page.items.length).toBe(limit);
          cursor = page.nextCursor;
        }
        throw new Error('too many pages');
      }

      it('returns every run exactly once, newest first, for each filter and combinations', async () => {
        const all = await fixture();
        const at = (m: number) => new Date(base + m * 60_000).toISOString();
        const cases: [RunFilter, (r: Run) => boolean][] = [
          [{}, () => true],
          [{ phase: ['Failed'] }, (r) => r.phase === 'Failed'],
          [{ phase: ['Failed', 'Error'] }, (r) => r.phase === 'Failed' || r.phase === 'Error'],
          [{ phase: [] }, () => false],
          [{ origin: ['crd'] }, (r) => r.origin === 'crd'],
          [{ origin: ['api', 'ui'] }, (r) => r.origin === 'api' || r.origin === 'ui'],
          [{ appName: 'shop' }, (r) => r.appName === 'shop'],
          [{ labels: { team: 'data' } }, (r) => r.labels.team === 'data'],
          [{ labels: { team: 'data', env: 'prod' } }, (r) => r.labels.team === 'data' && r.labels.env === 'prod'],
          [{ labels: { hot: 'yes' } }, (r) => r.labels.hot === 'yes'],
          [{ text: 'CHECKOUT' }, (r) => r.name.toLowerCase().includes('checkout')],
          [{ text: 't_1' }, () => false], // '_' is literal, not a wildcard
          [{ text: '50%' }, (r) => r.name.includes('50%')],
          [{ text: 'test 1' }, (r) => r.name.includes('test 1')],
          [{ createdAfter: at(3) }, (r) => r.createdAt >= at(3)],
          [{ createdBefore: at(3) }, (r) => r.createdAt < at(3)],
          [{ createdAfter: at(2), createdBefore: at(6) }, (r) => r.createdAt >= at(2) && r.createdAt < at(6)],
          [{ definitionId: 'def-x' }, (r) => r.source.type === 'definition'],
          [
            { phase: ['Passed', 'Failed'], origin: ['api', 'cli', 'crd'], labels: { env: 'prod' } },
            (r) => ['Passed', 'Failed'].includes(r.phase) && ['api', 'cli', 'crd'].includes(r.origin) && r.labels.env === 'prod',
          ],
          [{ appName: 'billing', text: 'login', createdAfter: at(1) }, (r) => r.appName === 'billing' && r.name.includes('login') && r.createdAt >= at(1)],
        ];
        for (const [filter, keep] of cases) {
          const expected = all.filter(keep).map((r) => r.id);
          for (const limit of [1, 7, 1000]) {
            const got = await pageThrough(filter, limit);
            expect(got.map((r) => r.id), JSON.stringify({ filter, limit })).toEqual(expected);
          }
        }
        const first = await store.listRuns({}, {});
        expect(first.items.length).toBe(50);
        expect(first.items[0]).toEqual(all[0]);
      });

      it('rejects a bad cursor and a bad limit', async () => {
        await expect(store.listRuns({}, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
        const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
        await expect(store.listRuns({}, { cursor: forged })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.listRuns({}, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.listRuns({}, { limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('claimRuns', () => {
      it('respects max and globalLimit and claims oldest first', async () => {
        const runs: Run[] = [];
        for (let i = 0; i < 10; i++) runs.push(await store.createRun(newRun({ name: `r${i}` })));
        // make creation order explicit (several runs may share a millisecond)
        for (let i = 0; i < runs.length; i++) {
          await sql.query('UPDATE runs SET created_at = $2 WHERE id = $1', [runs[i]!.id, new Date(Date.UTC(2025, 0, 1, 0, 0, 10 - i)).toISOString()]);
        }
        const oldestFirst = [...runs].reverse().map((r) => r.id);
        const a = await store.claimRuns('a', 3, 5);
        expect(a.map((r) => r.id)).toEqual(oldestFirst.slice(0, 3));
        const b = await store.claimRuns('b', 3, 5);
        expect(b.map((r) => r.id)).toEqual(oldestFirst.slice(3, 5)); // only 2 slots left
        expect(await store.claimRuns('c', 3, 5)).toEqual([]);
        expect(await store.claimRuns('c', 0, 100)).toEqual([]);
        await store.finishRun(a[0]!.id, 'a', { phase: 'Passed', reason: null, message: null, summary });
        expect((await store.claimRuns('c', 3, 5)).map((r) => r.id)).toEqual(oldestFirst.slice(5, 6));
        expect((await store.claimRuns('c', 100, 100)).map((r) => r.id)).toEqual(oldestFirst.slice(6));
        expect(await store.queueStats()).toEqual({ queued: 0, running: 9 });
      });

      it('never claims a run twice nor exceeds the limit under concurrent claimers', async () => {
        for (let i = 0; i < 200; i++) await store.createRun(newRun({ name: `r${i}` }));
        const owners = Array.from({ length: 8 }, (_, i) => `exec-${i}`);
        const claims = await Promise.all(owners.map((o) => store.claimRuns(o, 20, 50)));
        const ids = claims.flat().map((r) => r.id);
        expect(ids.length).toBe(50);
        expect(new Set(ids).size).toBe(50);
        for (const [i, claim] of claims.entries()) for (const r of claim) expect(r.executor).toBe(owners[i]);
        expect(await store.queueStats()).toEqual({ queued: 150, running: 50 });
        // keep going in rounds: finish some, claim again concurrently
        const seen = new Set(ids);
        for (let round = 0; round < 5; round++) {
          const { rows } = await sql.query<{ id: string; owner: string }>(`SELECT id, owner FROM runs WHERE phase = 'Running' LIMIT 30`);
          await Promise.all(rows.map((r) => store.finishRun(r.id, r.owner, { phase: 'Passed', reason: null, message: null, summary })));
          const more = (await Promise.all(owners.map((o) => store.claimRuns(o, 10, 50)))).flat();
          expect(more.length).toBe(Math.min(30, 150 - round * 30));
          for (const r of more) {
            expect(seen.has(r.id)).toBe(false);
            seen.add(r.id);
          }
          expect((await store.queueStats()).running).toBe(50);
        }
        expect(seen.size).toBe(200);
      });
    });

    describe('claimRuns with Apps', () => {
      const names = (runs: Run[]) => runs.map((r) => r.name).sort();

      it('runs that change the same App run one at a time, oldest first; other Apps and plain runs go on', async () => {
        await store.createRuns([
          newRun({ name: 'shop-1', appName: 'shop' }),
          newRun({ name: 'shop-2', appName: 'shop' }),
          newRun({ name: 'blog-1', appName: 'blog' }),
          newRun({ name: 'plain' }),
        ]);
        expect(names(await store.claimRuns('exec-a', 10, 10))).toEqual(['blog-1', 'plain', 'shop-1']);
        expect(await store.claimRuns('exec-a', 10, 10)).toEqual([]);
        const shop1 = (await store.listRuns({ text: 'shop-1' }, {})).items[0]!;
        await store.finishRun(shop1.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        expect(names(await store.claimRuns('exec-a', 10, 10))).toEqual(['shop-2']);
      });

      it('read-only runs share the App with each other but not with a run that changes it', async () => {
        await store.createRuns([
          newRun({ name: 'read-1', appName: 'shop', appReadOnly: true }),
          newRun({ name: 'read-2', appName: 'shop', appReadOnly: true }),
          newRun({ name: 'write', appName: 'shop' }),
          newRun({ name: 'read-3', appName: 'shop', appReadOnly: true }),
        ]);
        const first = await store.claimRuns('exec-a', 10, 10);
        expect(names(first)).toEqual(['read-1', 'read-2']);
        expect(first.every((r) => r.appReadOnly)).toBe(true);
        // the writer waits for both readers; the reader queued after it waits for the writer
        await store.finishRun(first[0]!.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        expect(await store.claimRuns('exec-a', 10, 10)).toEqual([]);
        await store.finishRun(first[1]!.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        const [write] = await store.claimRuns('exec-a', 10, 10);
        expect(write?.name).toBe('write');
        expect(await store.claimRuns('exec-a', 10, 10)).toEqual([]);
        await store.finishRun(write!.id, 'exec-a', { phase: 'Failed', reason: 'AssertionFailed', message: 'x', summary });
        expect(names(await store.claimRuns('exec-a', 10, 10))).toEqual(['read-3']);
      });

      it('never runs two changing runs of one App at once under concurrent claimers', async () => {
        await store.createRuns(Array.from({ length: 6 }, (_, i) => newRun({ name: `w${i}`, appName: 'shop' })));
        const claimed = (await Promise.all(['a', 'b', 'c'].map((o) => store.claimRuns(`exec-${o}`, 5, 10)))).flat();
        expect(claimed.map((r) => r.name)).toEqual(['w0']);
      });
    });

    describe('apps', () => {
      const spec = { services: [{ name: 'web', version: 'v1', replicas: 1, port: 8080 }], databases: [] };

      it('creates, replaces (generation up only when the spec changes), lists, records status and deletes', async () => {
        const first = await store.putApp({ name: 'shop', spec, baseDir: '/srv/shop', labels: { team: 'a' } });
        expect(first.created).toBe(true);
        expect(first.record).toMatchObject({ name: 'shop', generation: 1, spec, baseDir: '/srv/shop', labels: { team: 'a' }, status: null });
        const same = await store.putApp({ name: 'shop', spec: JSON.parse(JSON.stringify(spec)), baseDir: '/srv/shop' });
        expect(same).toMatchObject({ created: false, changed: false, record: { generation: 1 } });
        const v2 = { ...spec, services: [{ ...spec.services[0]!, version: 'v2' }] };
        const changed = await store.putApp({ name: 'shop', spec: v2 });
        expect(changed).toMatchObject({ created: false, changed: true, record: { generation: 2, spec: v2 } });
        await store.putApp({ name: 'blog', spec });
        expect((await store.listApps()).map((a) => a.name)).toEqual(['blog', 'shop']);
        const status = { observedGeneration: 2, services: [], databases: [], conditions: [] };
        await store.setAppStatus('shop', status);
        expect((await store.getApp('shop'))?.status).toEqual(status);
        expect(await store.deleteApp('shop')).toBe(true);
        expect(await store.deleteApp('shop')).toBe(false);
        expect(await store.getApp('shop')).toBeNull();
        await store.setAppStatus('shop', status); // a late status of a deleted App changes nothing
        expect(await store.getApp('shop')).toBeNull();
      });

      it('keeps the generation it is given (a copy of an App resource)', async () => {
        const first = await store.putApp({ name: 'mirror', spec, generation: 7 });
        expect(first).toMatchObject({ created: true, changed: true, record: { generation: 7 } });
        expect(await store.putApp({ name: 'mirror', spec, generation: 7 })).toMatchObject({ changed: false, record: { generation: 7 } });
        const v2 = { ...spec, services: [{ ...spec.services[0]!, version: 'v2' }] };
        expect(await store.putApp({ name: 'mirror', spec: v2, generation: 9 })).toMatchObject({ changed: true, record: { generation: 9, spec: v2 } });
      });
    });

    describe('run events', () => {
      const ts = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms).toISOString();
      const log = (runId: string, seq: number, message = `line ${seq}`): LogLine => ({ runId, seq, ts: ts(seq), level: 'info', message, stepSeq: null });
      const step = (runId: string, seq: number, status: StepRecord['status'], extra: Partial<StepRecord> = {}): StepRecord => ({
        runId,
        seq,
        parentSeq: null,
        kind: 'test',
        name: `step ${seq}`,
        status,
        startedAt: ts(seq * 10),
        finishedAt: status === 'running' ? null : ts(seq * 10 + 5),
        durationMs: status === 'running' ? null : 5,
        message: null,
        file: 'a.lua',
        line: seq,
        ...extra,
      });
      const assertion = (runId: string, seq: number, passed: boolean): AssertionRecord => ({
        runId,
        seq,
        stepSeq: 1,
        passed,
        message: passed ? 'ok' : 'expected 1 to be 2',
        expected: passed ? null : '2',
        actual: passed ? null : '1',
        file: 'a.lua',
        line: 3,
        ts: ts(seq),
      });

      it('writes logs and pages them by seq', async () => {
        const run = await store.createRun(newRun());
        const odd = `quote ' " back\\slash, {braces} ünïcødé 🚀 nul\u0000end`;
        await store.writeEvents({ logs: Array.from({ length: 250 }, (_, i) => log(run.id, i + 1, i === 0 ? odd : undefined)), steps: [], assertions: [] });
        await store.writeEvents({ logs: [log(run.id, 251), log(run.id, 1, 'replayed')], steps: [], assertions: [] });
        const first = await store.getLogs(run.id);
        expect(first.length).toBe(251);
        expect(first[0]).toEqual({ runId: run.id, seq: 1, ts: ts(1), level: 'info', message: odd.replace('\u0000', '\uFFFD'), stepSeq: null });
        const page = await store.getLogs(run.id, 100, 50);
        expect(page.map((l) => l.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
        expect(await store.getLogs(run.id, 251)).toEqual([]);
        expect(await store.getLogs('no-such-run')).toEqual([]);
      });

      it('upserts steps across batches and keeps live summary counters', async () => {
        const run = await store.createRun(newRun());
        const other = await store.createRun(newRun());
        await store.claimRuns('e', 2, 10);
        await store.writeEvents({ logs: [], steps: [step(run.id, 1, 'running'), step(run.id, 2, 'running'), step(other.id, 1, 'running')], assertions: [] });
        expect(await store.getSummary(run.id)).toEqual({ stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 });
        // step 2 starts and ends in the same batch as step 1's end; step 3 too
        await store.writeEvents({
          logs: [],
          steps: [step(run.id, 1, 'passed'), step(run.id, 2, 'failed', { message: 'boom' }), step(run.id, 3, 'running'), step(run.id, 3, 'skipped')],
          assertions: [assertion(run.id, 1, true), assertion(run.id, 2, false), assertion(run.id, 3, true)],
        });
        expect(await store.getSummary(run.id)).toEqual({ stepsPassed: 1, stepsFailed: 1, stepsSkipped: 1, assertionsPassed: 2, assertionsFailed: 1 });
        expect(await store.getSummary(other.id)).toEqual({ stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 });
        // a replayed batch (retry) and a late start change nothing
        await store.writeEvents({
          logs: [],
          steps: [step(run.id, 1, 'passed'), step(run.id, 2, 'running')],
          assertions: [assertion(run.id, 2, false)],
        });
        expect(await store.getSummary(run.id)).toEqual({ stepsPassed: 1, stepsFailed: 1, stepsSkipped: 1, assertionsPassed: 2, assertionsFailed: 1 });
        const steps = await store.getSteps(run.id);
        expect(steps.map((s) => [s.seq, s.status])).toEqual([
          [1, 'passed'],
          [2, 'failed'],
          [3, 'skipped'],
        ]);
        expect(steps[1]).toEqual({ ...step(run.id, 2, 'failed', { message: 'boom' }) });
        expect((await store.getAssertions(run.id)).map((a) => a.seq)).toEqual([1, 2, 3]);
        expect(await store.getAssertions(run.id, { failedOnly: true })).toEqual([assertion(run.id, 2, false)]);
        // the final summary comes from the completion
        await store.finishRun(run.id, 'e', { phase: 'Failed', reason: 'AssertionFailed', message: null, summary });
        await store.writeEvents({ logs: [], steps: [step(run.id, 4, 'passed')], assertions: [assertion(run.id, 4, true)] });
        expect(await store.getSummary(run.id)).toEqual(summary);
        expect(await store.getSummary('no-such-run')).toBeNull();
        // the run with its steps and assertions in one read: the same as the three reads
        const detail = await store.getRunDetail(run.id);
        expect(detail).toEqual({ run: await store.getRun(run.id), steps: await store.getSteps(run.id), assertions: await store.getAssertions(run.id) });
        expect(detail!.steps).toHaveLength(4);
        expect(detail!.assertions).toHaveLength(4);
        expect(await store.getRunDetail(other.id)).toEqual({ run: await store.getRun(other.id), steps: [step(other.id, 1, 'running')], assertions: [] });
        expect(await store.getRunDetail('no-such-run')).toBeNull();
      });

      it('stores a replayed batch once, with exact live counters, and never changes a finished step', async () => {
        const run = await store.createRun(newRun());
        await store.claimRuns('e', 1, 10);
        const log = (seq: number, message: string) => ({ runId: run.id, seq, ts: new Date(1_700_000_000_000 + seq).toISOString(), level: 'info' as const, message, stepSeq: null });
        const batch = {
          logs: [log(1, 'one'), log(2, 'two')],
          steps: [step(run.id, 1, 'passed')],
          assertions: [assertion(run.id, 1, true), assertion(run.id, 2, false)],
        };
        for (let i = 0; i < 3; i++) await store.writeEvents(batch);
        // A replay carrying something else under a stored number changes nothing either.
        await store.writeEvents({ logs: [log(2, 'other')], steps: [step(run.id, 1, 'failed', { message: 'late' })], assertions: [assertion(run.id, 1, false)] });
        expect((await store.getLogs(run.id)).map((l) => l.message)).toEqual(['one', 'two']);
        expect(await store.getSummary(run.id)).toEqual({ stepsPassed: 1, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 1 });
        expect((await store.getSteps(run.id)).map((s) => [s.status, s.message])).toEqual([['passed', null]]);
      });

      it('reads a moment of a run: lines after a seq, steps changed after a revision, the run (what a live follower reads)', async () => {
        const run = await store.createRun(newRun());
        const other = await store.createRun(newRun());
        await store.claimRuns('e', 2, 10);
        await store.writeEvents({ logs: [log(run.id, 1), log(other.id, 1)], steps: [step(run.id, 1, 'running'), step(run.id, 2, 'running'), step(other.id, 1, 'running')], assertions: [] });
        const all = (await store.getRunChanges(run.id, { seq: 0, rev: 0 }, 10))!;
        expect(all.run).toMatchObject({ id: run.id, phase: 'Running' });
        expect(all.logs.map((l) => [l.seq, l.message, l.ts])).toEqual([[1, 'line 1', ts(1)]]);
        expect(all.steps.map((s) => [s.seq, s.status, s.startedAt])).toEqual([
          [1, 'running', ts(10)],
          [2, 'running', ts(20)],
        ]);
        expect(await store.getRunChanges(run.id, { seq: 1, rev: all.rev }, 10)).toMatchObject({ logs: [], steps: [], rev: all.rev });
        await store.writeEvents({ logs: [log(run.id, 2), log(run.id, 3)], steps: [step(run.id, 2, 'passed'), step(run.id, 3, 'running'), step(other.id, 1, 'passed')], assertions: [] });
        const next = (await store.getRunChanges(run.id, { seq: 1, rev: all.rev }, 10))!;
        expect(next.logs.map((l) => l.seq)).toEqual([2, 3]);
        expect(next.steps.map((s) => [s.seq, s.status])).toEqual([
          [2, 'passed'],
          [3, 'running'],
        ]);
        expect(next.rev).toBeGreaterThan(all.rev);
        expect((await store.getRunChanges(run.id, { seq: 3, rev: next.rev }, 10))!.steps).toEqual([]);
        // A full batch of lines: more may follow, so the steps wait for the last batch.
        const partial = (await store.getRunChanges(run.id, { seq: 0, rev: 0 }, 2))!;
        expect(partial).toMatchObject({ steps: [], rev: 0 });
        expect(partial.logs.map((l) => l.seq)).toEqual([1, 2]);
        expect((await store.getRunChanges(run.id, { seq: 2, rev: 0 }, 2))!.steps).toHaveLength(3);
        expect(await store.getRunChanges('no-such-run', { seq: 0, rev: 0 }, 10)).toBeNull();
      });

      it('stores a run\'s last events and its end in one call, the end\'s summary winning', async () => {
        const run = await store.createRun(newRun());
        await store.claimRuns('exec-a', 1, 10);
        const final = { ...summary, assertionsPassed: 1500, assertionsFailed: 1 };
        const [done] = await store.writeEvents(
          { logs: [log(run.id, 1)], steps: [step(run.id, 1, 'failed')], assertions: [assertion(run.id, 1, true), assertion(run.id, 2, false)] },
          [{ id: run.id, owner: 'exec-a', completion: { phase: 'Failed', reason: 'AssertionFailed', message: 'a.lua:3: boom', summary: final } }],
        );
        expect(done).toMatchObject({ phase: 'Failed', summary: final });
        expect(await store.getLogs(run.id)).toHaveLength(1);
        expect(await store.getAssertions(run.id, { failedOnly: true })).toHaveLength(1);
        expect((await store.getRun(run.id))!.summary).toEqual(final);
      });

      it('writes nothing when the batch is empty and rolls back a failing batch', async () => {
        await store.writeEvents({ logs: [], steps: [], assertions: [] });
        const run = await store.createRun(newRun());
        await expect(store.writeEvents({ logs: [log(run.id, 1), log('no-such-run', 1)], steps: [], assertions: [] })).rejects.toThrow();
        expect(await store.getLogs(run.id)).toEqual([]);
      });
    });

    describe('test definitions', () => {
      it('creates, reads by id or name, lists, updates and deletes', async () => {
        const def = await store.createDefinition({ name: 'checkout', script: 'print(1)', labels: { team: 'core' } });
        expect(def).toMatchObject({ name: 'checkout', description: '', script: 'print(1)', env: {}, timeoutSeconds: 600, labels: { team: 'core' }, appName: null });
        expect(def.createdAt).toBe(def.updatedAt);
        expect(await store.getDefinition(def.id)).toEqual(def);
        expect(await store.getDefinition('checkout')).toEqual(def);
        expect(await store.getDefinition('nope')).toBeNull();

        for (const n of ['b-login', 'c-search', 'd-cart']) await store.createDefinition({ name: n, script: '', description: n === 'd-cart' ? 'Checkout basket' : '' });
        const names: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<Store['listDefinitions']>> = await store.listDefinitions({ limit: 3, cursor });
          names.push(...page.items.map((d) => d.name));
          cursor = page.nextCursor;
        } while (cursor);
        expect(names).toEqual(['b-login', 'c-search', 'checkout', 'd-cart']);
        expect((await store.listDefinitions({ text: 'CHECKOUT' })).items.map((d) => d.name)).toEqual(['checkout', 'd-cart']);

        const updated = await store.updateDefinition(def.id, { description: 'the flow', appName: 'shop', env: { A: 'b' }, timeoutSeconds: 30 });
        expect(updated).toMatchObject({ id: def.id, name: 'checkout', description: 'the flow', appName: 'shop', env: { A: 'b' }, timeoutSeconds: 30, script: 'print(1)' });
        expect((await store.updateDefinition(def.id, { appName: null }))!.appName).toBeNull();
        expect(await store.updateDefinition('nope', { description: 'x' })).toBeNull();

        expect(await store.deleteDefinition(def.id)).toBe(true);
        expect(await store.deleteDefinition(def.id)).toBe(false);
        expect(await store.getDefinition(def.id)).toBeNull();
      });

      it('rejects a duplicate name with a ConflictError naming it', async () => {
        const a = await store.createDefinition({ name: 'dup', script: '' });
        const error = await store.createDefinition({ name: 'dup', script: '' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).message).toContain('"dup"');
        const b = await store.createDefinition({ name: 'other', script: '' });
        await expect(store.updateDefinition(b.id, { name: 'dup' })).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getDefinition('dup'))!.id).toBe(a.id);
      });

      it("gives each definition its last finished run (not a queued or running one), none when it never finished", async () => {
        const a = await store.createDefinition({ name: 'last-a', script: '' });
        const b = await store.createDefinition({ name: 'last-b', script: '' });
        const never = await store.createDefinition({ name: 'last-never', script: '' });
        const ofA = (name: string) => newRun({ name, source: { type: 'definition', definitionId: a.id, script: '' } });
        const passed = await store.createRun(ofA('a-1'));
        const failed = await store.createRun(ofA('a-2'));
        await store.claimRuns('exec-a', 2, 10);
        await store.finishRun(passed.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        await store.finishRun(failed.id, 'exec-a', { phase: 'Failed', reason: 'AssertionFailed', message: 'boom', summary });
        await sql.query(`UPDATE runs SET category = 'Config Gap' WHERE id = $1`, [failed.id]);
        const ofB = await store.createRun(newRun({ name: 'b-1', source: { type: 'definition', definitionId: b.id, script: '' } }));
        await store.claimRuns('exec-a', 1, 10);
        await store.finishRun(ofB.id, 'exec-a', { phase: 'Passed', reason: null, message: null, summary });
        // Newer, but not finished: the last result stays the Failed run.
        await store.createRun(ofA('a-3'));

        const last = await store.lastRunsOfDefinitions([a.id, b.id, never.id, a.id]);
        expect(last.get(a.id)).toMatchObject({ id: failed.id, phase: 'Failed', category: 'Config Gap' });
        expect(last.get(a.id)!.finishedAt).toBe((await store.getRun(failed.id))!.finishedAt);
        expect(last.get(b.id)).toMatchObject({ id: ofB.id, phase: 'Passed', category: null });
        expect(last.has(never.id)).toBe(false);
        expect((await store.lastRunsOfDefinitions([])).size).toBe(0);
      });
    });

    describe('tokens and sessions', () => {
      it('stores tokens by hash, keeps names unique among live ones, revokes with their sessions', async () => {
        const ci = await store.createToken({ name: 'ci', role: 'runner', secretHash: 'a'.repeat(64) });
        expect(ci).toMatchObject({ name: 'ci', role: 'runner', lastUsedAt: null, revokedAt: null });
        expect(await store.findTokenBySecretHash('a'.repeat(64))).toEqual(ci);
        expect(await store.findTokenBySecretHash('b'.repeat(64))).toBeNull();
        const dup = await store.createToken({ name: 'ci', role: 'viewer', secretHash: 'c'.repeat(64) }).catch((e: unknown) => e);
        expect(dup).toBeInstanceOf(ConflictError);
        expect((dup as ConflictError).message).toContain('"ci"');
        expect(await store.getToken('ci')).toEqual(ci);
        expect(await store.getToken(ci.id.toUpperCase())).toEqual(ci);
        await store.touchToken(ci.id);
        expect((await store.getToken('ci'))!.lastUsedAt).not.toBeNull();

        const expiresAt = new Date(Date.now() + 60_000).toISOString();
        await store.createSession({ idHash: 's1', tokenId: ci.id, expiresAt });
        await store.createSession({ idHash: 'old', tokenId: ci.id, expiresAt: new Date(Date.now() - 1000).toISOString() });
        expect((await store.findSession('s1'))!.token.id).toBe(ci.id);
        expect(await store.findSession('old')).toBeNull();

        const revoked = await store.revokeToken(ci.id);
        expect(revoked!.revokedAt).not.toBeNull();
        expect(await store.revokeToken(ci.id)).toBeNull();
        expect(await store.findSession('s1')).toBeNull();
        expect((await sql.query('SELECT 1 FROM sessions WHERE token_id = $1', [ci.id])).rows).toEqual([]);
        expect(await store.getToken('ci')).toBeNull(); // by name: live tokens only
        expect((await store.getToken(ci.id))!.revokedAt).not.toBeNull();
        // the name is free again; the list keeps the revoked one
        const again = await store.createToken({ name: 'ci', role: 'editor', secretHash: 'd'.repeat(64) });
        expect((await store.listTokens()).map((t) => [t.id, t.revokedAt === null])).toEqual([
          [ci.id, false],
          [again.id, true],
        ]);
        expect(await store.deleteSession('nope')).toBe(false);
        await store.createSession({ idHash: 's2', tokenId: again.id, expiresAt });
        expect(await store.deleteSession('s2')).toBe(true);
        expect(await store.findSession('s2')).toBeNull();
      });
    });

    describe('instances', () => {
      it('tracks heartbeats and liveness', async () => {
        await store.heartbeat('i-1', { version: '1' });
        await store.heartbeat('i-2');
        expect(await store.liveInstances(60_000)).toEqual(['i-1', 'i-2']);
        await sql.query(`UPDATE instances SET heartbeat_at = now() - interval '10 minutes' WHERE id = 'i-2'`);
        expect(await store.liveInstances(60_000)).toEqual(['i-1']);
        await store.heartbeat('i-2');
        expect(await store.liveInstances(60_000)).toEqual(['i-1', 'i-2']);
        await store.removeInstance('i-1');
        expect(await store.liveInstances(60_000)).toEqual(['i-2']);
      });
    });

    describe('migrations', () => {
      it('are idempotent', async () => {
        await store.migrate();
        await store.migrate();
        const { rows } = await sql.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await store.countByPhase()).toMatchObject({ Queued: 0 });
      });
    });
  });
}

/** Empties every table (between contract tests on a shared database). */
export async function truncateAll(sql: Sql): Promise<void> {
  await sql.exec('TRUNCATE runs, run_logs, run_steps, run_assertions, test_definitions, instances, apps, tokens, sessions, run_tokens, test_results, tests, category_rules, audit_log');
}
