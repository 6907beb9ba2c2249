/**
 * The runner hub over real HTTP: a started run belongs to the first runner that called
 * for it (its `x-topas-runner` id); another runner is refused for good (409 `RunTaken`),
 * which is what keeps a run handed out twice (a redelivered work-queue message) from
 * running twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
