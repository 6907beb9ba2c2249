import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run-events.js';
import { createTestRepo, type TestRepo } from '../runner/testing/git-repo.js';
import type { Executor, ExecutionJob } from './executor.js';

/**
 * The behaviour every executor (`local`, `kubernetes`, `nats`) must show. Each
 * implementation calls this from its own test file with a factory (git sources:
 * with `file://` URLs allowed).
 */
export function describeExecutorContract(name: string, create: () => Promise<Executor>): void {
  describe(`executor contract: ${name}`, () => {
    let executor: Executor;
    beforeAll(async () => {
      executor = await create();
    });
    afterAll(async () => {
      await executor?.close();
    });

    let n = 0;
    const job = (script: string, extra: Partial<ExecutionJob> = {}): ExecutionJob => ({
      runId: `contract-${++n}`,
      name: `contract ${n}`,
      script,
      fileName: 'contract.lua',
      files: {},
      env: {},
      timeoutMs: 10_000,
      appName: null,
      appReadOnly: false,
      ...extra,
    });
    const execute = async (j: ExecutionJob, signal = new AbortController().signal) => {
      const events: RunEvent[] = [];
      const completion = await executor.execute(j, (e) => events.push(e), signal);
      return { completion, events };
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

    it('ends a runaway script as TimedOut within timeout + 1 s', async () => {
      const started = Date.now();
      const { completion } = await execute(job('while true do end', { timeoutMs: 500 }));
      expect(completion.phase).toBe('TimedOut');
      expect(Date.now() - started).toBeLessThan(1500);
      // And keeps working afterwards.
      expect((await execute(job('assert(true)'))).completion.phase).toBe('Passed');
    });

    it('ends a cancelled run as Cancelled within 1 s', async () => {
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 200);
      const { completion } = await execute(job('sleep(30000)'), controller.signal);
      expect(completion.phase).toBe('Cancelled');
      expect(Date.now() - started).toBeLessThan(1200);
    });

    it('executes runs concurrently', async () => {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 10 }, () => execute(job('sleep(300)'))));
      expect(results.every((r) => r.completion.phase === 'Passed')).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    describe('git sources (the executor allows file:// URLs)', () => {
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
