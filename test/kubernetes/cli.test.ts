/**
 * `topas test schedule/status/logs --kube` (the `kctrl` CLI against a cluster): the real
 * CLI process, the test cluster, a real `topas up --kubernetes` reconciling what it creates.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, type KubeObject } from '../../src/kube/kube-api.js';
import { runTopasCli } from '../../src/cli/testing/cli-process.js';
import { startKubeHarness, type KubeHarness } from './harness.js';

describe('kctrl test schedule/status/logs --kube', () => {
  let h: KubeHarness;
  let dir: string;
  const cli = (args: string[], env: Record<string, string> = {}) => runTopasCli(args, { url: 'http://127.0.0.1:1', cwd: dir, env: { KUBECONFIG: h.kubeconfigPath, ...env } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'topas-kube-cli-'));
    mkdirSync(join(dir, 'pass', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'pass', 'smoke.lua'), 'local util = require("lib.util")\nlog.info("greeting: " .. util.greet("kube"))\nstep("greets", function()\n  assert(util.greet("x") == "hello x", "greets")\nend)\n');
    writeFileSync(join(dir, 'pass', 'lib', 'util.lua'), 'return { greet = function(n) return "hello " .. n end }\n');
    writeFileSync(join(dir, 'fail.lua'), 'step("fails", function()\n  assert(false, "nope")\nend)\n');
    writeFileSync(join(dir, 'slow.lua'), 'step("forever", function()\n  while true do sleep(50) end\nend)\n');
    h = await startKubeHarness({ env: { TOPAS_LEADER_ELECTION: '0' } });
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--wait streams the runner log and exits 0 passed, 1 failed, 2 timed out; the folder files travel in a ConfigMap the TestRun owns', async () => {
    const [pass, fail, slow] = await Promise.all([
      cli(['test', 'schedule', '--kube', '--script', 'pass/smoke.lua', '--label', 'suite=cli', '--wait']),
      cli(['test', 'schedule', '--kube', '--script', 'fail.lua', '--wait']),
      cli(['test', 'schedule', '--kube', '--script', 'slow.lua', '--timeout', '2', '--wait']),
    ]);
    expect(pass.code, pass.stdout + pass.stderr).toBe(0);
    expect(pass.stdout).toContain('greeting: hello kube');
    expect(pass.stdout).toMatch(/Passed default\/smoke-[a-z0-9]{5}/);
    expect(fail.code, fail.stdout + fail.stderr).toBe(1);
    expect(fail.stdout).toMatch(/Failed default\/fail-[a-z0-9]{5}: .*fail\.lua:2/);
    expect(slow.code, slow.stdout + slow.stderr).toBe(2);
    expect(slow.stdout).toMatch(/TimedOut default\/slow-/);

    const name = /TestRun default\/(smoke-[a-z0-9]{5}) created/.exec(pass.stdout)![1]!;
    const tr = await h.kube.get<KubeObject & { spec: { files?: { configMapRef: { name: string } }; timeout?: string } }>(RESOURCES.testRun, 'default', name);
    expect(tr.metadata.labels).toEqual({ suite: 'cli' });
    expect(tr.spec.files).toEqual({ configMapRef: { name: `${name}-files` } });
    const files = await h.kube.get<KubeObject & { data: Record<string, string> }>(RESOURCES.configMap, 'default', `${name}-files`);
    expect(Object.keys(files.data)).toEqual(['lib_2Futil.lua']);
    expect(files.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'TestRun', name, uid: tr.metadata.uid })]);

    // status and logs by TestRun name
    const status = await cli(['test', 'status', name, '--kube']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`default/${name}\\s+Passed`));
    expect(status.stdout).toMatch(/TestCompleted=True TestSucceeded/);
    const logs = await cli(['test', 'logs', name, '--kube']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('greeting: hello kube');
  }, 90_000);

  it('without --wait prints the TestRun name; logs -f follows it to its end with the exit code', async () => {
    const created = await cli(['test', 'schedule', '--kube', '--script', 'fail.lua', '--name', 'Follow Me']);
    expect(created.code, created.stderr).toBe(0);
    const name = created.stdout.trim();
    expect(name).toMatch(/^follow-me-[a-z0-9]{5}$/);
    const followed = await cli(['test', 'logs', name, '-f', '--kube']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toMatch(new RegExp(`Failed default/${name}`));
  }, 60_000);

  it('finds the cluster as kubectl does and says what is wrong', async () => {
    const noContext = await cli(['test', 'status', 'x', '--kube', '--context', 'nope']);
    expect(noContext.code).not.toBe(0);
    expect(noContext.stderr).toMatch(/context "nope" is not in the kubeconfig/);
    const viaFlag = await cli(['test', 'status', 'missing', '--kube', '--kubeconfig', h.kubeconfigPath], { KUBECONFIG: '/nonexistent' });
    expect(viaFlag.stderr).toMatch(/TestRun default\/missing not found/);
    const noFile = await cli(['test', 'status', 'x', '--kube'], { KUBECONFIG: '/nonexistent' });
    expect(noFile.stderr).toMatch(/KUBECONFIG/);
  }, 30_000);
});
