import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { EMPTY_SUMMARY, type Run, type RunCompletion } from '../core/run.js';
import { isTerminal } from '../core/run-phase.js';
import { createLocalExecutor } from '../executors/local-executor.js';
import { ExecutorClosedError, type ExecutionJob, type Executor, type RunSink } from '../executors/executor.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { RunEngine, type RunEngineOptions } from './run-engine.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: Partial<RunEngineOptions> & { store?: Store; executor?: Executor } = {}) {
  const store = options.store ?? (await openStore({ databaseUrl: null }));
  const executor = options.executor ?? createLocalExecutor({ workers: 2, memoryLimitBytes: 64 << 20 });
  const engine = new RunEngine({ instanceId: `test-${Math.random()}`, concurrency: 4, exclusive: true, ...options, store, executor });
  await engine.start();
  cleanups.push(async () => {
    await engine.stop(0);
    if (!options.executor) await executor.close();
    if (!options.store) await store.close();
  });
  return { store, executor, engine };
}

async function waitFor(store: Store, id: string, timeoutMs = 10_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await store.getRun(id))!;
    if (isTerminal(run.phase)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.phase}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RunEngine', () => {
  it('runs a submitted script to Passed and persists its log, steps and summary first', async () => {
    const { store, engine } = await setup();
    const seenAtEnd: number[] = [];
    const run = await engine.submit({ origin: 'api', script: 'print("one")\nstep("s", function() assert(true, "ok") end)\nprint("two")', fileName: 'a.lua' });
    // Room and nothing queued: it starts at insert, owned by this engine — unless the
    // start-up dispatch pass still holds the room (then the next pass claims it).
    expect(['Running', 'Queued']).toContain(run.phase);
    if (run.phase === 'Running') expect(run.startedAt).not.toBeNull();
    engine.subscribe(run.id, (n) => {
      if (n.type === 'phase' && isTerminal(n.run.phase)) void store.getLogs(run.id).then((l) => seenAtEnd.push(l.length));
    });
    const done = await waitFor(store, run.id);
    expect(done).toMatchObject({ phase: 'Passed', name: 'a', reason: null });
    expect(done.summary).toMatchObject({ stepsPassed: 1, assertionsPassed: 1 });
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect((await store.getLogs(run.id)).map((l) => l.message)).toEqual(['one', 'two']);
    expect((await store.getSteps(run.id))[0]).toMatchObject({ name: 's', status: 'passed' });
    await new Promise((r) => setTimeout(r, 50));
    expect(seenAtEnd).toEqual([2]);
  });

  it('never runs more than the global concurrency limit at once', async () => {
    const { store, engine } = await setup({ concurrency: 3 });
    const ids = await Promise.all(Array.from({ length: 9 }, () => engine.submit({ origin: 'api', script: 'sleep(150)' })));
    let peak = 0;
    const sampler = setInterval(() => void store.queueStats().then((s) => (peak = Math.max(peak, s.running))), 10);
    const runs = await Promise.all(ids.map((r) => waitFor(store, r.id)));
    clearInterval(sampler);
    expect(runs.every((r) => r.phase === 'Passed')).toBe(true);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('shares one limit between two engines on one store', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const a = await setup({ store, concurrency: 2, exclusive: false });
    const b = await setup({ store, concurrency: 2, exclusive: false });
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).engine.submit({ origin: 'api', script: 'sleep(120)' })));
    let peak = 0;
    const sampler = setInterval(() => void store.queueStats().then((s) => (peak = Math.max(peak, s.running))), 10);
    await Promise.all(ids.map((r) => waitFor(store, r.id)));
    clearInterval(sampler);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('ends a run past its timeout as TimedOut', async () => {
    const { store, engine } = await setup();
    const run = await engine.submit({ origin: 'api', script: 'while true do end', timeoutSeconds: 1 });
    const done = await waitFor(store, run.id);
    expect(done.phase).toBe('TimedOut');
    expect(done.reason).toBe('Timeout');
    expect(done.durationMs).toBeLessThan(2000);
  });

  it('cancels a queued run at once and a running one within a second', async () => {
    const { store, engine } = await setup({ concurrency: 1 });
    const running = await engine.submit({ origin: 'api', script: 'print("started")\nsleep(30000)' });
    const queued = await engine.submit({ origin: 'api', script: 'print("never")' });
    // Wait until the script is really executing (its first line is stored).
    for (let i = 0; i < 500 && (await store.getLogs(running.id)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const q = await engine.cancel(queued.id);
    expect(q.phase).toBe('Cancelled');
    const t0 = Date.now();
    const r = await engine.cancel(running.id);
    expect(r.phase).toBe('Cancelled');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await store.getLogs(running.id)).map((l) => l.message)).toContain('started');
    await expect(engine.cancel(running.id)).rejects.toThrow(/already finished \(Cancelled\)/);
    await expect(engine.cancel('00000000-0000-7000-8000-000000000000')).rejects.toThrow(/not found/);
  });

  it('fails runs left Running by a dead process with ExecutorLost at start-up', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const orphan = await store.createRun({ name: 'orphan', origin: 'api', source: { type: 'inline', script: 'sleep(1)' }, timeoutSeconds: 60 });
    const queued = await store.createRun({ name: 'queued', origin: 'api', source: { type: 'inline', script: 'assert(true)' }, timeoutSeconds: 60 });
    expect(await store.claimRuns('dead-process', 1, 10)).toHaveLength(1);
    await setup({ store });
    const lost = await waitFor(store, orphan.id);
    expect(lost).toMatchObject({ phase: 'Error', reason: 'ExecutorLost' });
    expect(lost.message).toMatch(/stopped before it finished/);
    expect((await waitFor(store, queued.id)).phase).toBe('Passed');
  });

  it('rejects bad requests naming the field and stores nothing', async () => {
    const { store, engine } = await setup();
    const bad = [
      { origin: 'api' as const },
      { origin: 'api' as const, script: 'x', definitionId: 'd' },
      { origin: 'api' as const, script: 'x', timeoutSeconds: 0 },
      { origin: 'api' as const, script: 'x', env: { 'BAD-NAME': 'v' } },
      { origin: 'api' as const, script: 'x', labels: { team: 'no spaces' } },
      { origin: 'api' as const, script: 'x', files: { '../secrets.lua': 'x' } },
    ];
    const fields = [];
    for (const request of bad) {
      const error = await engine.submit(request).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      fields.push((error as ValidationError).issues[0]!.field);
    }
    expect(fields).toEqual(['script', 'script', 'timeoutSeconds', 'env.BAD-NAME', 'labels.team', 'files.../secrets.lua']);
    expect((await store.listRuns({}, {})).items).toHaveLength(0);
  });

  it('keeps the files bundled with an inline script on the run', async () => {
    const { engine } = await setup();
    const run = await engine.submit({ origin: 'cli', script: 'assert(true)', fileName: 'main.lua', files: { 'lib/util.lua': 'return {}' } });
    expect(run.source).toEqual({ type: 'inline', script: 'assert(true)', fileName: 'main.lua', files: { 'lib/util.lua': 'return {}' } });
  });

  it('snapshots a definition onto the run, merging env', async () => {
    const { store, engine } = await setup();
    const def = await store.createDefinition({ name: 'greet', script: 'assert(env.A == "1" and env.B == "2")', env: { A: '1', B: 'x' } });
    const run = await engine.submit({ origin: 'api', definitionId: 'greet', env: { B: '2' } });
    expect(run.source).toMatchObject({ type: 'definition', definitionId: def.id });
    expect(run.name).toBe('greet');
    await store.updateDefinition(def.id, { script: 'error("changed")' });
    expect((await waitFor(store, run.id)).phase).toBe('Passed');
  });
});

describe('RunEngine with a detached executor', () => {
  /** Runs that "execute elsewhere": they outlive executor instances, as runner Pods outlive topas. */
  const remote = new Map<string, { finish: () => void; finished: boolean }>();
  function detachedExecutor(): Executor {
    const closers = new Set<() => void>();
    const follow = (job: ExecutionJob, sink: RunSink, replay: boolean) =>
      new Promise<RunCompletion>((resolve, reject) => {
        const ts = Date.now();
        const end = () => {
          // The runner sends what it had not had acknowledged again (a replay), then the rest.
          if (replay) sink.event({ type: 'log', ts, level: 'info', message: 'one', stepSeq: null, seq: 1 });
          sink.event({ type: 'log', ts, level: 'info', message: 'two', stepSeq: null, seq: 2 });
          sink.event({ type: 'step.end', ts, seq: 1, status: 'passed', message: null, location: null });
          resolve({ phase: 'Passed', reason: null, message: null, summary: { ...EMPTY_SUMMARY, stepsPassed: 1 } });
        };
        const entry = remote.get(job.runId)!;
        entry.finish = end;
        if (entry.finished) end();
        const close = () => reject(new ExecutorClosedError());
        closers.add(close);
      });
    return {
      name: 'fake-detached',
      capacity: 10,
      detached: true,
      async execute(job, sink) {
        remote.set(job.runId, { finish: () => {}, finished: false });
        sink.event({ type: 'step.start', ts: Date.now(), seq: 1, parentSeq: null, kind: 'step', name: 's', location: null });
        sink.event({ type: 'log', ts: Date.now(), level: 'info', message: 'one', stepSeq: null, seq: 1 });
        return follow(job, sink, false);
      },
      async attach(job, sink) {
        if (!remote.has(job.runId)) return null;
        return follow(job, sink, true);
      },
      async close() {
        for (const c of closers) c();
      },
    };
  }

  it('leaves its runs running when it stops; the next engine adopts and re-attaches them, and ends the ones with nothing left as ExecutorLost', async () => {
    const store = await openStore({ databaseUrl: null });
    cleanups.push(() => store.close());
    const first = detachedExecutor();
    const { engine } = await setup({ store, executor: first, instanceId: 'first' });
    const kept = await engine.submit({ origin: 'api', script: 'remote' });
    const gone = await engine.submit({ origin: 'api', script: 'remote' });
    await vi.waitFor(async () => expect((await store.getLogs(kept.id)).length + (await store.getLogs(gone.id)).length).toBe(2));
    await engine.stop(0);
    await first.close();
    expect((await store.getRun(kept.id))!.phase).toBe('Running');
    // One runner finished meanwhile (its end waits for someone to attach); the other is gone.
    remote.get(kept.id)!.finished = true;
    remote.delete(gone.id);

    await setup({ store, executor: detachedExecutor(), instanceId: 'second' });
    const done = await waitFor(store, kept.id);
    expect(done).toMatchObject({ phase: 'Passed', executor: 'second', summary: { stepsPassed: 1 } });
    expect((await store.getLogs(kept.id)).map((l) => [l.seq, l.message])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    expect((await store.getSteps(kept.id)).map((s) => s.status)).toEqual(['passed']);
    expect(await waitFor(store, gone.id)).toMatchObject({ phase: 'Error', reason: 'ExecutorLost' });
  });
});
