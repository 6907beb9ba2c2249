/**
 * Leader changes with a detached executor (runner Pods), on one store: a leader that was
 * paused (SIGSTOP, a long GC pause) resumes believing it still leads. It must not claim
 * runs then, and whatever it holds when it notices and stands by goes to the new leader —
 * never stays with an instance that is alive but executes nothing (the run would stay
 * Running forever, its runner refused by everyone: `RunNotAttached`).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EMPTY_SUMMARY, type RunCompletion } from '../core/run.js';
import { ExecutorClosedError, type Executor } from '../executors/executor.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { RunEngine, type RunEngineOptions } from './run-engine.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Runners that outlive the instance that started them (what runner Pods in one cluster are). */
function runnerPool() {
  const runners = new Map<string, { done: Promise<RunCompletion>; finish: () => void }>();
  const started: string[] = [];
  /** One instance's executor over the pool. */
  function executor(): Executor {
    const following = new Set<() => void>();
    const followRun = (runId: string) =>
      new Promise<RunCompletion>((resolve, reject) => {
        const stop = () => reject(new ExecutorClosedError());
        following.add(stop);
        void runners.get(runId)!.done.then((c) => {
          following.delete(stop);
          resolve(c);
        });
      });
    const leaveAll = () => {
      for (const stop of [...following]) stop();
      following.clear();
    };
    return {
      name: 'pods',
      capacity: 100,
      detached: true,
      async execute(job) {
        if (!runners.has(job.runId)) {
          started.push(job.runId);
          let finish!: () => void;
          const done = new Promise<RunCompletion>((r) => (finish = () => r({ phase: 'Passed', reason: null, message: null, summary: EMPTY_SUMMARY })));
          runners.set(job.runId, { done, finish });
        }
        return followRun(job.runId);
      },
      async attach(job) {
        return runners.has(job.runId) ? followRun(job.runId) : null;
      },
      leaveAll,
      async close() {
        leaveAll();
      },
    };
  }
  return { runners, started, executor };
}

async function instance(store: Store, options: Partial<RunEngineOptions> & { instanceId: string; executor: Executor }) {
  const engine = new RunEngine({ concurrency: 4, heartbeatMs: 20, pollMs: 20, ...options, store });
  await engine.start();
  cleanups.push(() => engine.stop(0));
  return engine;
}

describe('leader handover (detached executor)', () => {
  it('a run the old leader claimed after the new one took over is handed to the new leader once the old one stands by', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const pool = runnerPool();
    // The new leader has not looked at the queue yet, so the old leader is the one that claims.
    let leaderLooked = false;
    const leader = await instance(store, { instanceId: 'new-leader', executor: pool.executor(), standby: true, mayClaim: () => leaderLooked });
    // The old leader, just resumed: it has not noticed yet that it lost the Lease.
    const old = await instance(store, { instanceId: 'old-leader', executor: pool.executor() });
    await leader.lead();
    const run = await old.submit({ origin: 'api', script: 'remote' });
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Running', executor: 'old-leader' }));
    expect(pool.started).toEqual([run.id]);
    leaderLooked = true;

    // It notices and stands by: its runner goes on, and the leader takes the run over.
    await old.standBy();
    await vi.waitFor(async () => expect((await store.getRun(run.id))!.executor).toBe('new-leader'), { timeout: 5000 });
    pool.runners.get(run.id)!.finish();
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Passed', executor: 'new-leader' }), { timeout: 5000 });
    // Started once: the leader followed the runner the old leader had started.
    expect(pool.started).toEqual([run.id]);
  });

  it('claims nothing while it may not (a leader that has not renewed its Lease since it resumed)', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const pool = runnerPool();
    let may = false;
    let asked = 0;
    const engine = await instance(store, {
      instanceId: 'resumed',
      executor: pool.executor(),
      mayClaim: () => {
        asked++;
        return may;
      },
    });
    const run = await engine.submit({ origin: 'api', script: 'remote' });
    await vi.waitFor(() => expect(asked).toBeGreaterThan(5));
    expect(await store.getRun(run.id)).toMatchObject({ phase: 'Queued' });
    expect(pool.started).toEqual([]);
    may = true;
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Running', executor: 'resumed' }));
    pool.runners.get(run.id)!.finish();
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Passed' }));
  });

  it('a leader that stood by but could not hand its run back, then leads again, follows that run again', async () => {
    const opened = await openStore({ databaseUrl: null });
    cleanups.push(() => opened.close());
    let refuse = 1;
    // The store does not answer the hand-back once (a connection cut as the Lease moved).
    const store = new Proxy(opened, {
      get(target, key, receiver) {
        if (key === 'releaseRuns' && refuse > 0) {
          return async () => {
            refuse--;
            throw new Error('connection terminated');
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const pool = runnerPool();
    const engine = await instance(store, { instanceId: 'flapping', executor: pool.executor(), heartbeatMs: 3_600_000 });
    const run = await engine.submit({ origin: 'api', script: 'remote' });
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Running', executor: 'flapping' }));

    // The Lease flaps: it stands by (its hand-back fails, and no beat retries it), then leads again.
    await engine.standBy();
    expect(refuse).toBe(0);
    expect((await store.getRun(run.id))!.executor).toBe('flapping');
    await engine.lead();
    // The run is followed again: its runner's end ends it, and it was started once.
    pool.runners.get(run.id)!.finish();
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Passed', executor: 'flapping' }), { timeout: 5000 });
    expect(pool.started).toEqual([run.id]);
  });

  it('a leader follows, within a recovery pass, a Running run of its own that nothing here follows', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const pool = runnerPool();
    const engine = await instance(store, { instanceId: 'leader', executor: pool.executor() });
    // A run stored as ours and Running, with its runner going, that this process never started or attached to.
    const [run] = await store.createRuns([{ origin: 'api', name: 'stray', source: { type: 'inline', script: 'remote' }, timeoutSeconds: 60 }], { owner: 'leader', max: 1, globalLimit: 4 });
    expect(run).toMatchObject({ phase: 'Running', executor: 'leader' });
    void pool.executor().execute({ runId: run!.id } as Parameters<Executor['execute']>[0], null as never, new AbortController().signal);
    pool.runners.get(run!.id)!.finish();
    await vi.waitFor(async () => expect(await store.getRun(run!.id)).toMatchObject({ phase: 'Passed', executor: 'leader' }), { timeout: 5000 });
    expect(engine.leading).toBe(true);
  });

  it("an instance whose runner reported after the leader took the run over leaves the run's token alone (the leader's runner still needs it)", async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    // The old leader's view of the runner: its report comes when the test says.
    let report!: (c: RunCompletion) => void;
    const oldExecutor: Executor = {
      name: 'pods',
      capacity: 10,
      detached: true,
      execute: () => new Promise<RunCompletion>((resolve) => (report = resolve)),
      attach: async () => null,
      async close() {},
    };
    // The new leader follows the same runner, which goes on.
    const newExecutor: Executor = { name: 'pods', capacity: 10, detached: true, execute: () => new Promise(() => {}), attach: () => new Promise(() => {}), async close() {} };
    const old = await instance(store, { instanceId: 'old-leader', executor: oldExecutor });
    const leader = await instance(store, { instanceId: 'new-leader', executor: newExecutor, standby: true });
    const run = await old.submit({ origin: 'api', script: 'remote' });
    await vi.waitFor(async () => expect(await store.getRun(run.id)).toMatchObject({ phase: 'Running', executor: 'old-leader' }));
    await vi.waitFor(() => expect(report).toBeTypeOf('function'));
    await store.putRunTokens([{ runId: run.id, secretHash: 'c'.repeat(64), expiresAt: new Date(Date.now() + 60_000).toISOString() }]);
    await leader.lead();
    expect((await store.getRun(run.id))!.executor).toBe('new-leader');

    // The old leader hears the runner's report (it resumed before noticing it lost the Lease): not its run to end.
    report({ phase: 'Passed', reason: null, message: null, summary: EMPTY_SUMMARY });
    await vi.waitFor(() => expect(old.localActive).toBe(0));
    expect(await store.getRun(run.id)).toMatchObject({ phase: 'Running', executor: 'new-leader' });
    expect(await store.findRunToken('c'.repeat(64))).toEqual({ runId: run.id });
  });
});
