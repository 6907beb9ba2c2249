/**
 * `topas runner` as a process against a real runner-protocol server: the bundle
 * fetched when no source is mounted, a mounted source read with its folder (links
 * followed only inside it), the readable stdout log, the exit codes, the
 * termination log, and flags that are missing.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCompletion } from '../core/run.js';
import type { ExecutionJob } from '../executors/executor.js';
import { RecordingSink } from '../executors/executor.contract.js';
import { RunnerHub } from '../executors/runner-hub.js';
import { startRunnerTestServer, type RunnerTestServer } from '../server/testing/runner-test-server.js';
import { runTopasCli } from './testing/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'topas-runner-cmd-'));
const hub = new RunnerHub({ heartbeatMs: 100, flushMs: 20 });
let server: RunnerTestServer;
beforeAll(async () => {
  server = await startRunnerTestServer(hub);
  writeFileSync(join(dir, 'token'), 'topas_run_unused\n');
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Follows a run in the hub (as a detached executor would) and runs `topas runner` for it. */
async function runner(job: Partial<ExecutionJob> & { script: string }, args: string[] = []) {
  const runId = crypto.randomUUID();
  const full: ExecutionJob = { runId, name: 'cmd', fileName: 'cmd.lua', files: {}, env: {}, timeoutMs: 20_000, appName: null, appReadOnly: false, ...job };
  const sink = new RecordingSink();
  let completion: RunCompletion | null = null;
  const unfollow = hub.follow({ job: full, sink, signal: new AbortController().signal, complete: (c) => (completion = c) });
  const termination = join(dir, `${runId}.json`);
  const result = await runTopasCli(['runner', '--run', runId, '--server', server.url, '--token-file', join(dir, 'token'), '--termination-log', termination, ...args], {
    url: server.url,
    cwd: dir,
  });
  unfollow();
  return { ...result, sink, completion: completion as RunCompletion | null, termination: JSON.parse(readFileSync(termination, 'utf8')) as RunCompletion };
}

describe('topas runner', () => {
  it("reports the container's cgroup CPU time and peak memory as the run's profile (and the Lua state's without a cgroup)", async () => {
    const cg = join(dir, 'cgroup');
    mkdirSync(cg, { recursive: true });
    writeFileSync(join(cg, 'cpu.stat'), 'usage_usec 4321000\nuser_usec 4000000\nsystem_usec 321000\n');
    writeFileSync(join(cg, 'memory.peak'), '73400320\n');
    const r = await runner({ script: 'assert(true)' }, ['--cgroup', cg]);
    expect(r.code).toBe(0);
    expect(r.completion!.profile).toEqual({ cpuMs: 4321, peakMemoryBytes: 73400320 });
    expect(r.termination.profile).toEqual({ cpuMs: 4321, peakMemoryBytes: 73400320 });

    const plain = await runner({ script: 'assert(true)' });
    expect(plain.completion!.profile!.peakMemoryBytes).toBeGreaterThan(0);
    expect(plain.completion!.profile!.peakMemoryBytes).toBeLessThan(4 * 1024 * 1024); // the Lua state's
  });

  it('fetches the bundle when no source is mounted, prints a readable log and exits 1 on a failed assertion', async () => {
    const r = await runner({
      script: 'local h = require("lib.h")\nlog.info("hello " .. h.name)\nstep("checks", function()\n  assert(h.name == "other", "name is other")\nend)\n',
      files: { 'lib/h.lua': 'return { name = "lib" }\n' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('hello lib');
    expect(r.stdout).toMatch(/✗ checks/);
    expect(r.stdout).toContain('cmd.lua:4');
    expect(r.completion).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed' });
    expect(r.termination).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed' });
    const seqs = r.sink.logSeqs();
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(r.sink.byKey.get('log:1')).toMatchObject({ message: 'hello lib' });
  });

  it('reads a mounted source with its folder, following links only inside it, and exits 0', async () => {
    // Like a mounted ConfigMap: the files are links into a hidden ..data folder.
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, '..data', 'lib'), { recursive: true });
    writeFileSync(join(mount, '..data', 'main.lua'), 'local h = require("lib.h")\nassert(h.ok, "module from the mount")\nlocal ok = pcall(require, "outside")\nassert(not ok, "a link out of the folder is not followed")\n');
    writeFileSync(join(mount, '..data', 'lib', 'h.lua'), 'return { ok = true }\n');
    writeFileSync(join(dir, 'outside.lua'), 'return {}\n');
    symlinkSync(join('..data', 'main.lua'), join(mount, 'main.lua'));
    symlinkSync(join('..data', 'lib'), join(mount, 'lib'));
    symlinkSync(join(dir, 'outside.lua'), join(mount, 'outside.lua'));
    // The server's copy differs: it must not be used.
    const r = await runner({ script: 'error("the server copy was used")', fileName: 'main.lua' }, ['--source', join(mount, 'main.lua')]);
    expect(r.stderr).not.toContain('fetching it from the server');
    expect(r.code).toBe(0);
    expect(r.completion).toMatchObject({ phase: 'Passed' });
    expect(r.stdout).toMatch(/Passed in/);
  });

  it("gives the script its App: the server's wait note first, endpoints, and sut calls over the API", async () => {
    const calls: string[] = [];
    hub.setApps({
      endpoints: async () => ({ web: { main: { host: '127.0.0.1', port: 9 }, ports: {} } }),
      awaitReady: async () => 'waited 0.1 s for App "shop" to be ready',
      call: async (caller, op) => {
        calls.push(`${caller.appName}:${op}:${caller.readOnly}`);
        if (op === 'kill') throw new Error('refused: the run only reads its App');
        return { value: { name: 'shop', replicas: 2 } };
      },
    });
    try {
      const r = await runner({
        appName: 'shop',
        appReadOnly: true,
        script: 'local s = sut.status()\nassert(s.replicas == 2, "status over the API")\nsut.kill("web")\n',
      });
      // The status came over the API; the refused kill reached the script as its error.
      expect(r.completion, r.stdout).toMatchObject({ phase: 'Failed', reason: 'ScriptError', summary: { assertionsPassed: 1 } });
      expect(r.completion!.message).toContain('refused: the run only reads its App');
      expect(r.sink.byKey.get('log:1')).toMatchObject({ message: 'waited 0.1 s for App "shop" to be ready' });
      expect(calls).toEqual(['shop:status:true', 'shop:kill:true']);
    } finally {
      hub.setApps(undefined);
    }
  });

  it('names a missing flag and exits 2', async () => {
    const r = await runTopasCli(['runner', '--server', server.url], { url: server.url, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--run');
  });
});
