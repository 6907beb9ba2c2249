/**
 * The executor contract for the `nats` executor, on real NATS JetStream
 * (127.0.0.1:4222; skipped, saying so, when it does not answer): runs are published to a
 * work queue of their own and executed by a worker (in this process here; as real
 * `topas worker` processes in `nats-workers.test.ts`) that talks the runner protocol to
 * a real HTTP server. Instances share one hub and server (as replicas share a database).
 */
import { describe, expect, it, vi } from 'vitest';
import { RunnerHub } from '../runner-hub.js';
import { describeExecutorContract, RecordingSink } from '../executor.contract.js';
import { startRunnerTestServer, type RunnerTestServer } from '../../server/testing/runner-test-server.js';
import { openNatsExecutor } from './nats-executor.js';
import { startNatsWorker, type RunningWorker } from './nats-worker.js';
import { deleteQueue, natsAnswers, queuedMessage, TEST_NATS_URL, uniqueQueue } from './nats-testing.js';

const up = await natsAnswers();
if (!up) console.warn(`nats executor tests skipped: no NATS at ${TEST_NATS_URL} (start nats-server -js, or set TOPAS_TEST_NATS_URL)`);

const names = uniqueQueue();
const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
let server: RunnerTestServer | null = null;
let worker: RunningWorker | null = null;
const timings = { lostAfterMs: 2000, attachWaitMs: 3000, cancelGraceMs: 2000, checkMs: 50 };

describe.runIf(up)('nats executor', () => {
  describeExecutorContract('nats', {
    async create() {
      server ??= await startRunnerTestServer(hub);
      const url = server.url;
      const executor = await openNatsExecutor({ url: TEST_NATS_URL, names, hub, serverUrl: () => url, mintRunToken: async () => 'unused-auth-is-off', ...timings });
      worker ??= await startNatsWorker({ url: TEST_NATS_URL, names, concurrency: 12, luaWorkers: 2, memoryLimitBytes: 256 * 1024 * 1024, ackWaitMs: 5000 });
      return executor;
    },
    async dispose() {
      await worker?.stop();
      await server?.close();
      await deleteQueue(names);
    },
    timings: { startMs: 500, cancelWithinMs: 1500, timeoutSlackMs: 1500 },
    luaProfile: true,
  });

  it('refuses a run from git, saying so, instead of running an empty script', async () => {
    const executor = await openNatsExecutor({ url: TEST_NATS_URL, names, hub, serverUrl: () => 'http://127.0.0.1:1', mintRunToken: async () => 'unused', ...timings });
    try {
      const completion = await executor.execute(
        { runId: crypto.randomUUID(), name: 'git', script: '', fileName: 't.lua', files: {}, env: {}, timeoutMs: 5000, appName: null, appReadOnly: false, git: { url: 'https://example.com/r.git', path: 't.lua', revision: 'main' } },
        new RecordingSink(),
        new AbortController().signal,
      );
      expect(completion).toMatchObject({ phase: 'Error', reason: 'SourceUnavailable' });
      expect(completion.message).toContain('does not check out git sources');
    } finally {
      await executor.close();
    }
  });

  it('ends a run no worker takes as TimedOut at its timeout, saying why, and drops its message', async () => {
    const own = uniqueQueue();
    const ownHub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
    const ownServer = await startRunnerTestServer(ownHub);
    const executor = await openNatsExecutor({ url: TEST_NATS_URL, names: own, hub: ownHub, serverUrl: () => ownServer.url, mintRunToken: async () => 'unused', ...timings });
    try {
      const runId = crypto.randomUUID();
      const completion = await executor.execute(
        { runId, name: 'nobody', script: 'assert(true)', fileName: 't.lua', files: {}, env: {}, timeoutMs: 600, appName: null, appReadOnly: false },
        new RecordingSink(),
        new AbortController().signal,
      );
      expect(completion).toMatchObject({ phase: 'TimedOut', reason: 'Timeout' });
      expect(completion.message).toContain('no worker started the run');
      expect(completion.message).toContain(own.stream);
      await vi.waitFor(async () => expect(await queuedMessage(own, runId)).toBe(false));
    } finally {
      await executor.close();
      await ownServer.close();
      await deleteQueue(own);
    }
  });
});
