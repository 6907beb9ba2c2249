/**
 * The executor contract for the test-only `process` executor: every run in its own
 * `topas runner` process talking the runner protocol to a real HTTP server. Instances
 * share one state folder and one server (as kubernetes executors share a cluster).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerHub } from '../runner-hub.js';
import { describe, expect, it } from 'vitest';
import { describeExecutorContract, RecordingSink } from '../executor.contract.js';
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
  timings: { startMs: 4000, cancelWithinMs: 1500, timeoutSlackMs: 3000 },
  // its runner processes have no TOPAS_RUNNER_CGROUP: the profile comes over the runner protocol from the Lua state
  luaProfile: true,
});

describe('process executor', () => {
  it('mounts no source for a bundle over 1 MiB (what a ConfigMap cannot hold): the runner fetches it from the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topas-process-big-'));
    const ownHub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
    const ownServer = await startRunnerTestServer(ownHub);
    const executor = createProcessExecutor({ hub: ownHub, serverUrl: () => ownServer.url, mintRunToken: async () => 'unused', stateDir: dir });
    try {
      const runId = crypto.randomUUID();
      const sink = new RecordingSink();
      const completion = await executor.execute(
        {
          runId,
          name: 'big',
          script: 'local m = require("big")\nassert(#m.text > 1048576, "the big module arrived")\n',
          fileName: 'big-test.lua',
          files: { 'big.lua': `return { text = "${'x'.repeat(1100 * 1024)}" }\n` },
          env: {},
          timeoutMs: 20_000,
          appName: null,
          appReadOnly: false,
        },
        sink,
        new AbortController().signal,
      );
      expect(completion).toMatchObject({ phase: 'Passed', summary: { assertionsPassed: 1 } });
      expect(existsSync(join(dir, runId, 'source', 'big-test.lua'))).toBe(false);
      expect(readFileSync(join(dir, runId, 'output'), 'utf8')).toContain('fetching it from the server');
      // Its completion reported, the runner ends by itself while the server is still there.
      const pid = Number(readFileSync(join(dir, runId, 'pid'), 'utf8'));
      await expect.poll(() => isAlive(pid), { timeout: 15_000, interval: 50 }).toBe(false);
    } finally {
      await executor.close();
      await ownServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
