import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { NumberedRunEvent } from '../core/run-events.js';
import { createTestRepo, type TestRepo } from '../runner/testing/git-repo.js';
import { ExecutorClosedError, type Executor, type ExecutionJob, type RunSink } from './executor.js';

/** How long things may take on this executor (a runner Pod starts slower than a worker thread). */
export interface ContractTimings {
  /** Extra time a run may take to start (process, Pod) on top of what the script needs. Default 0. */
  startMs: number;
  /** A cancelled run ends within this after the cancel. Default 1000. */
  cancelWithinMs: number;
  /** A runaway ends within its timeout + this. Default 1000. */
  timeoutSlackMs: number;
}

/**
 * What the contract runs against. The kubernetes executor provides only this: a
 * factory of executor instances over one cluster and one server.
 */
export interface ExecutorContractTarget {
  /**
   * A new instance of the executor. Instances of a detached executor share their runs
   * (the same cluster, state and server): one can attach to what another started.
   */
  create(): Promise<Executor>;
  /** Called once after every test. */
  dispose?(): Promise<void>;
  timings?: Partial<ContractTimings>;
  /** The executor checks git sources out, with `file://` URLs allowed: the git cases run. */
  git?: boolean;
  /**
   * Runs report their Lua state's profile (the local executor, runner processes without a
   * cgroup of their own). Runner Pods report their container's cgroup figures instead,
   * which in the test cluster (containers are host processes) are not the run's alone.
   */
  luaProfile?: boolean;
}

/** A sink that keeps events, checks that a replayed event is the same event, and knows when a log line arrived. */
export class RecordingSink implements RunSink {
  readonly events: NumberedRunEvent[] = [];
  /** First copy of each event by key (`log:3`, `assertion:1`, `step.start:2`, `step.end:2`). */
  readonly byKey = new Map<string, NumberedRunEvent>();
  readonly replays: { key: string; same: boolean }[] = [];
  private waiters: { test: (e: NumberedRunEvent) => boolean; resolve: () => void }[] = [];

  event(event: NumberedRunEvent): void {
    const key = `${event.type}:${event.seq}`;
    const first = this.byKey.get(key);
    if (first) this.replays.push({ key, same: JSON.stringify(first) === JSON.stringify(event) });
    else this.byKey.set(key, event);
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => (w.test(event) ? (w.resolve(), false) : true));
  }

  stored(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves when an event like this arrives (or has arrived). */
  waitFor(test: (e: NumberedRunEvent) => boolean): Promise<void> {
    if (this.events.some(test)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Log line numbers, distinct, in order. */
  logSeqs(): number[] {
    return [...this.byKey.values()].filter((e) => e.type === 'log').map((e) => e.seq).sort((a, b) => a - b);
  }
}

/**
 * The behaviour every executor (`local`, `kubernetes`, the test-only `process`) must
 * show. Each implementation calls this from its own test file with a target.
 */
export function describeExecutorContract(name: string, target: ExecutorContractTarget): void {
  const t: ContractTimings = { startMs: 0, cancelWithinMs: 1000, timeoutSlackMs: 1000, ...target.timings };
  describe(`executor contract: ${name}`, () => {
    let executor: Executor;
    beforeAll(async () => {
      executor = await target.create();
    });
    afterAll(async () => {
      await executor?.close();
      await target.dispose?.();
    });

    const job = (script: string, extra: Partial<ExecutionJob> = {}): ExecutionJob => ({
      runId: crypto.randomUUID(),
      name: 'contract',
      script,
      fileName: 'contract.lua',
      files: {},
      env: {},
      timeoutMs: 10_000 + t.startMs,
      appName: null,
      appReadOnly: false,
      ...extra,
    });
    const execute = async (j: ExecutionJob, signal = new AbortController().signal, on: Executor = executor) => {
      const sink = new RecordingSink();
      const completion = await on.execute(j, sink, signal);
      return { completion, events: sink.events, sink };
    };

    it('passes a script whose steps and assertions pass, reporting them in order', async () => {
      const { completion, events } = await execute(
        job('log.info("start")\ntest("t", function()\n  step("s", function() assert(1 + 1 == 2, "math") end)\nend)\n'),
      );
      expect(completion.phase).toBe('Passed');
      expect(completion.summary).toMatchObject({ stepsPassed: 2, stepsFailed: 0, assertionsPassed: 1, assertionsFailed: 0 });
      const kinds = events.map((e) => e.type);
      expect(kinds.indexOf('log')).toBeLessThan(kinds.indexOf('step.start'));
      expect(kinds.lastIndexOf('step.end')).toBe(kinds.length - 1);
      const log = events.find((e) => e.type === 'log');
      expect(log).toMatchObject({ level: 'info', message: 'start' });
    });

    it('numbers log lines 1, 2, 3, … and assertions 1, 2, … within the run', async () => {
      const { completion, events } = await execute(job('for i = 1, 5 do log.info("line " .. i) end\nassert(true, "a")\nassert(true, "b")\n'));
      expect(completion.phase).toBe('Passed');
      const logs = events.filter((e) => e.type === 'log');
      expect(logs.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(logs.map((e) => e.type === 'log' && e.message)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
      expect(events.filter((e) => e.type === 'assertion').map((e) => e.seq)).toEqual([1, 2]);
    });

    it.runIf(target.luaProfile)('reports what the run used: a run that builds a big table peaks higher than a trivial one', async () => {
      const trivial = await execute(job('assert(true)'));
      const big = await execute(job('local t = {}\nfor i = 1, 200000 do t[i] = string.rep("x", 100) .. i end\nassert(#t == 200000)'));
      expect([trivial.completion.phase, big.completion.phase]).toEqual(['Passed', 'Passed']);
      // The thread's CPU clock advances at scheduler ticks: a trivial run may read 0, one that builds 200,000 strings never does.
      expect(trivial.completion.profile!.cpuMs).toBeGreaterThanOrEqual(0);
      expect(big.completion.profile!.cpuMs).toBeGreaterThan(0);
      expect(big.completion.profile!.peakMemoryBytes - trivial.completion.profile!.peakMemoryBytes).toBeGreaterThan(20 * 1024 * 1024);
    });

    it('fails on a failed assertion and says where', async () => {
      const { completion, events } = await execute(job('local x = 2\nassert(x == 3, "x should be 3")\n'));
      expect(completion.phase).toBe('Failed');
      expect(completion.reason).toBe('AssertionFailed');
      expect(completion.message).toContain('contract.lua:2');
      expect(completion.message).toContain('x should be 3');
      const failed = events.find((e) => e.type === 'assertion' && !e.passed);
      expect(failed).toMatchObject({ passed: false, location: { file: 'contract.lua', line: 2 } });
    });

    it('fails on a script error with its line', async () => {
      const { completion } = await execute(job('local t = nil\nlocal y = t.field\n'));
      expect(completion.phase).toBe('Failed');
      expect(completion.reason).toBe('ScriptError');
      expect(completion.message).toContain('contract.lua:2');
    });

    it('reports a syntax error as Error/ScriptInvalid with its line', async () => {
      const { completion } = await execute(job('local ok = true\nif ok then\n'));
      expect(completion.phase).toBe('Error');
      expect(completion.reason).toBe('ScriptInvalid');
      expect(completion.message).toMatch(/contract\.lua:\d+/);
    });

    it('gives the script its env', async () => {
      const { completion } = await execute(job('assert(env.GREETING == "hi", "env reaches the script")', { env: { GREETING: 'hi' } }));
      expect(completion.phase).toBe('Passed');
    });

    it("gives the script its folder's files: require and reading them", async () => {
      const { completion } = await execute(
        job('local h = require("lib.helpers")\nassert(h.double(21) == 42, "required module works")\n', {
          files: { 'lib/helpers.lua': 'local M = {}\nfunction M.double(x) return x * 2 end\nreturn M\n' },
        }),
      );
      expect(completion).toMatchObject({ phase: 'Passed', message: null });
    });

    it('ends a runaway script as TimedOut within timeout + slack', async () => {
      const started = Date.now();
      const { completion } = await execute(job('while true do end', { timeoutMs: 500 + t.startMs }));
      expect(completion.phase).toBe('TimedOut');
      expect(Date.now() - started).toBeLessThan(500 + t.startMs + t.timeoutSlackMs);
      // And keeps working afterwards.
      expect((await execute(job('assert(true)'))).completion.phase).toBe('Passed');
    });

    it('ends a cancelled run as Cancelled soon after the cancel', async () => {
      const controller = new AbortController();
      const j = job('log.info("sleeping")\nsleep(30000)');
      const sink = new RecordingSink();
      const done = executor.execute(j, sink, controller.signal);
      await sink.waitFor((e) => e.type === 'log');
      const cancelled = Date.now();
      controller.abort();
      const completion = await done;
      expect(completion.phase).toBe('Cancelled');
      expect(Date.now() - cancelled).toBeLessThan(t.cancelWithinMs);
    });

    it('executes runs concurrently', async () => {
      // Each run logs when it begins and ends its sleep (the runner's clock): runs executed
      // one after the other would never be between "begin" and "end" at once. Asserted as
      // overlap, not wall time, so a busy machine does not make it fail.
      const results = await Promise.all(Array.from({ length: 10 }, () => execute(job('log.info("begin")\nsleep(300)\nlog.info("end")'))));
      expect(results.every((r) => r.completion.phase === 'Passed')).toBe(true);
      const at = (events: NumberedRunEvent[], message: string) => (events.find((e) => e.type === 'log' && e.message === message) as { ts: number } | undefined)?.ts;
      const spans = results.map((r) => ({ begin: at(r.events, 'begin')!, end: at(r.events, 'end')! }));
      expect(spans.every((s) => s.begin !== undefined && s.end !== undefined)).toBe(true);
      const overlapping = Math.max(...spans.map((a) => spans.filter((b) => b.begin <= a.begin && a.begin < b.end).length));
      expect(overlapping).toBeGreaterThanOrEqual(2);
    });

    it('attaches to nothing for a run it never started', async () => {
      expect(await executor.attach(job('assert(true)'), new RecordingSink(), new AbortController().signal)).toBeNull();
    });

    it('re-attaches to a run after the instance that started it is gone (detached), or has nothing left (not detached)', async () => {
      const j = job('for i = 1, 3 do log.info("before " .. i) end\nsleep(400)\nfor i = 1, 3 do log.info("after " .. i) end\nassert(true, "done")\n');
      const first = await target.create();
      const before = new RecordingSink();
      const started = first.execute(j, before, new AbortController().signal).then(
        (c): RunCompletion | Error => c,
        (e: Error) => e,
      );
      await before.waitFor((e) => e.type === 'log' && e.seq === 3);
      await first.close();
      if (!first.detached) {
        // The run lived in the closed instance: nothing is left to attach to.
        await started;
        expect(await executor.attach(j, new RecordingSink(), new AbortController().signal)).toBeNull();
        return;
      }
      expect(await started).toBeInstanceOf(ExecutorClosedError);
      const second = await target.create();
      try {
        const after = new RecordingSink();
        const completion = await second.attach(j, after, new AbortController().signal);
        expect(completion).toMatchObject({ phase: 'Passed', summary: { assertionsPassed: 1 } });
        // Between the two instances every line arrived; a line both saw is the same line (replays are harmless).
        const all = new RecordingSink();
        for (const e of [...before.events, ...after.events]) all.event(e);
        expect(all.logSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
        expect(all.replays.every((r) => r.same)).toBe(true);
        expect(after.events.some((e) => e.type === 'log' && e.message === 'after 3')).toBe(true);
      } finally {
        await second.close();
      }
    });

    describe.runIf(target.git)('git sources (the executor allows file:// URLs)', () => {
      let repo: TestRepo;
      beforeAll(() => {
        repo = createTestRepo();
      });
      afterAll(() => repo?.remove());

      it("checks the test out: the script at its path, its folder's files for require, the commit told", async () => {
        const commits: string[] = [];
        const { completion, events } = await execute(
          job('', { git: { url: repo.url, path: 'tests/smoke.lua', revision: 'v1' }, onCheckout: (checkout) => commits.push(checkout.commit) }),
        );
        expect(completion.phase, completion.message ?? '').toBe('Passed');
        expect(commits).toEqual([repo.commits.first]);
        expect(events[0]).toMatchObject({ type: 'log', message: `checked out ${repo.url} at v1 (${repo.commits.first})` });
      });

      it('ends TimedOut when the checkout outlasts the timeout, Cancelled when cancelled during it', async () => {
        // a git server that never answers
        const server = createServer(() => {});
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.git`;
        try {
          const started = Date.now();
          const timedOut = await execute(job('', { git: { url, path: 't.lua', revision: 'main' }, timeoutMs: 500 }));
          expect(timedOut.completion.phase).toBe('TimedOut');
          expect(Date.now() - started).toBeLessThan(1500);
          const controller = new AbortController();
          server.once('request', () => controller.abort());
          const cancelled = await execute(job('', { git: { url, path: 't.lua', revision: 'main' } }), controller.signal);
          expect(cancelled.completion.phase).toBe('Cancelled');
        } finally {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
      });

      it('ends Error/SourceUnavailable naming a revision that does not exist', async () => {
        const { completion } = await execute(job('', { git: { url: repo.url, path: 'tests/smoke.lua', revision: 'v9' } }));
        expect(completion).toMatchObject({ phase: 'Error', reason: 'SourceUnavailable', message: `revision v9 not found in ${repo.url} (give a branch, a tag or a commit SHA of that repository)` });
      });
    });
  });
}
