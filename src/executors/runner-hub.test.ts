/**
 * The runner hub over real HTTP: a started run belongs to the first runner that called
 * for it (its `x-topas-runner` id); another runner is refused for good (409 `RunTaken`),
 * which is what keeps a run handed out twice (a redelivered work-queue message) from
 * running twice.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import { createLuaRunner } from '../runner/lua-runner.js';
import { runRemote } from '../runner/remote-runner.js';
import { RecordingSink } from './executor.contract.js';
import { RunnerHub } from './runner-hub.js';
import { startRunnerTestServer, type RunnerTestServer } from '../server/testing/runner-test-server.js';

const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
let server: RunnerTestServer;
beforeAll(async () => {
  server = await startRunnerTestServer(hub);
});
afterAll(async () => {
  await server?.close();
});

describe('runner hub: one runner per run', () => {
  it('answers the first runner, refuses a second with RunTaken', async () => {
    const runId = crypto.randomUUID();
    const job = { runId, name: 'one', script: 'assert(true)', fileName: 'one.lua', files: {}, env: {}, timeoutMs: 10_000, appName: null, appReadOnly: false };
    const unfollow = hub.follow({ job, sink: new RecordingSink(), signal: new AbortController().signal, complete: () => {} });
    const call = (runner: string, path = 'execution') => fetch(`${server.url}/api/runs/${runId}/runner/${path}`, { headers: { 'x-topas-runner': runner } });
    try {
      expect((await call('runner-a')).status).toBe(200);
      expect((await call('runner-a')).status).toBe(200); // the same runner again (a retried call)
      const refused = await call('runner-b');
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RunTaken');
      expect((await call('runner-b', 'bundle')).status).toBe(409);
      expect((await call('runner-a', 'bundle')).status).toBe(200);
    } finally {
      unfollow();
      hub.forget(runId);
    }
  });
});

describe('runner hub: a short run in two calls', () => {
  it('hands the script with the execution and takes the last events with the completion, handing them on first', async () => {
    const runId = crypto.randomUUID();
    const job = { runId, name: 'two', script: 'print("hello")\nassert(1 + 1 == 2)', fileName: 'two.lua', files: {}, env: {}, timeoutMs: 10_000, appName: null, appReadOnly: false };
    const sink = new RecordingSink();
    let storedAtCompletion: string[] = [];
    let completed: RunCompletion | null = null;
    const unfollow = hub.follow({
      job,
      sink,
      signal: new AbortController().signal,
      complete: (c) => {
        storedAtCompletion = sink.events.map((e) => `${e.type}:${e.seq}`);
        completed = c;
      },
    });
    const runner = createLuaRunner({ workers: 1 });
    const from = server.calls.length;
    try {
      const completion = await runRemote({ runId, server: server.url, token: 'unused', runner });
      expect(completion.phase).toBe('Passed');
      const base = `/api/runs/${runId}/runner`;
      // heartbeats come with time (every 100 ms here), whatever the run does
      expect(server.calls.slice(from).filter((c) => !c.endsWith('/heartbeat'))).toEqual([`GET ${base}/execution?include=bundle`, `POST ${base}/completion`]);
      expect(storedAtCompletion).toEqual(['log:1', 'assertion:1']);
      expect(completed).toMatchObject({ phase: 'Passed', summary: { assertionsPassed: 1 } });
      expect(completed).not.toHaveProperty('events');
    } finally {
      await runner.close();
      unfollow();
      hub.forget(runId);
    }
  });

  it("answers a completion once its events are stored, and completes the run first, so the run's end can share their write", async () => {
    const runId = crypto.randomUUID();
    const job = { runId, name: 'gated', script: 'print(1)', fileName: 'gated.lua', files: {}, env: {}, timeoutMs: 10_000, appName: null, appReadOnly: false };
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    /** A store that takes the events only when the test says so. */
    class GatedSink extends RecordingSink {
      override stored(): Promise<void> {
        order.push('stored asked');
        return gate.then(() => void order.push('stored'));
      }
    }
    const sink = new GatedSink();
    const unfollow = hub.follow({ job, sink, signal: new AbortController().signal, complete: () => order.push(`completed, ${sink.events.length} event handed`) });
    const base = `${server.url}/api/runs/${runId}/runner`;
    const headers = { 'x-topas-runner': 'gated', 'content-type': 'application/json' };
    try {
      expect((await fetch(`${base}/execution`, { headers })).status).toBe(200);
      const summary = { stepsPassed: 0, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 };
      const events = [{ type: 'log', seq: 1, ts: Date.now(), level: 'info', message: '1', stepSeq: null }];
      let answered = false;
      const answer = fetch(`${base}/completion`, { method: 'POST', headers, body: JSON.stringify({ phase: 'Passed', reason: null, message: null, summary, events }) }).then((res) => {
        answered = true;
        return res;
      });
      await vi.waitFor(() => expect(order).toContain('stored asked'));
      expect(order).toEqual(['completed, 1 event handed', 'stored asked']);
      expect(answered).toBe(false);
      release();
      expect((await answer).status).toBe(200);
      expect(order.at(-1)).toBe('stored');
    } finally {
      release();
      unfollow();
      hub.forget(runId);
    }
  });

  it('sends the events as batches first to a server that does not say it takes them with the completion', async () => {
    /** A server before `completionTakesEvents`: it would drop events sent with the completion. */
    class EarlierHub extends RunnerHub {
      override async execution(runId: string, runnerId?: string, withBundle = false) {
        const { completionTakesEvents: _, ...info } = await super.execution(runId, runnerId, withBundle);
        return info;
      }
    }
    const earlier = new EarlierHub({ heartbeatMs: 100, flushMs: 20 });
    const old = await startRunnerTestServer(earlier);
    const runId = crypto.randomUUID();
    const job = { runId, name: 'old', script: 'print("hello")', fileName: 'old.lua', files: {}, env: {}, timeoutMs: 10_000, appName: null, appReadOnly: false };
    const sink = new RecordingSink();
    let storedAtCompletion: string[] = [];
    const unfollow = earlier.follow({ job, sink, signal: new AbortController().signal, complete: () => (storedAtCompletion = sink.events.map((e) => `${e.type}:${e.seq}`)) });
    const runner = createLuaRunner({ workers: 1 });
    try {
      expect((await runRemote({ runId, server: old.url, token: 'unused', runner })).phase).toBe('Passed');
      const base = `/api/runs/${runId}/runner`;
      expect(old.calls.filter((c) => !c.endsWith('/heartbeat'))).toEqual([`GET ${base}/execution?include=bundle`, `POST ${base}/events`, `POST ${base}/completion`]);
      expect(storedAtCompletion).toEqual(['log:1']);
    } finally {
      await runner.close();
      unfollow();
      await old.close();
    }
  });
});
