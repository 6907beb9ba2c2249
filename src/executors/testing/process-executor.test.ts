/**
 * The executor contract for the test-only `process` executor: every run in its own
 * `topas runner` process talking the runner protocol to a real HTTP server. Instances
 * share one state folder and one server (as kubernetes executors share a cluster).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerHub } from '../runner-hub.js';
import { describeExecutorContract } from '../executor.contract.js';
import { startRunnerTestServer, type RunnerTestServer } from '../../server/testing/runner-test-server.js';
import { createProcessExecutor } from './process-executor.js';

const stateDir = mkdtempSync(join(tmpdir(), 'topas-process-executor-'));
const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
let server: RunnerTestServer | null = null;

describeExecutorContract('process', {
  async create() {
    server ??= await startRunnerTestServer(hub);
    const url = server.url;
    return createProcessExecutor({ hub, serverUrl: () => url, mintRunToken: async () => 'unused-auth-is-off', stateDir, cancelGraceMs: 2000 });
  },
  async dispose() {
    await server?.close();
    rmSync(stateDir, { recursive: true, force: true });
  },
  // A runner process starts Node.js and loads Lua: about a second on a busy machine.
  timings: { startMs: 4000, cancelWithinMs: 1500, timeoutSlackMs: 1500 },
});
