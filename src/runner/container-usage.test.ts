import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY, type RunCompletion } from '../core/run.js';
import { readContainerUsage } from './container-usage.js';
import { withContainerProfile } from './remote-runner.js';

const root = mkdtempSync(join(tmpdir(), 'topas-cgroup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fake cgroup folder with these files. */
function cgroup(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'cg-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const CPU_STAT = 'usage_usec 2500123\nuser_usec 2000000\nsystem_usec 500123\nnr_periods 0\n';

describe('readContainerUsage', () => {
  it('reads cgroup v2: cpu.stat usage_usec and memory.peak', async () => {
    expect(await readContainerUsage(cgroup({ 'cpu.stat': CPU_STAT, 'memory.peak': '123456789\n' }))).toEqual({ cpuMs: 2500.123, peakMemoryBytes: 123456789 });
  });

  it('reads cgroup v1: cpuacct.usage (ns) and memory.max_usage_in_bytes', async () => {
    const dir = cgroup({ 'cpuacct/cpuacct.usage': '1500000000\n', 'memory/memory.max_usage_in_bytes': '52428800\n' });
    expect(await readContainerUsage(dir)).toEqual({ cpuMs: 1500, peakMemoryBytes: 52428800 });
  });

  it('says null for what is not there (cgroup v2 before Linux 5.19 has no memory.peak)', async () => {
    expect(await readContainerUsage(cgroup({ 'cpu.stat': CPU_STAT }))).toEqual({ cpuMs: 2500.123, peakMemoryBytes: null });
    expect(await readContainerUsage(join(root, 'missing'))).toEqual({ cpuMs: null, peakMemoryBytes: null });
  });
});

describe('withContainerProfile', () => {
  const ended: RunCompletion = { phase: 'Passed', reason: null, message: null, summary: EMPTY_SUMMARY, profile: { cpuMs: 12, peakMemoryBytes: 2_000_000 } };

  it("puts the container's figures in place of the Lua state's, each where the cgroup has it", () => {
    expect(withContainerProfile(ended, { cpuMs: 2500, peakMemoryBytes: 90_000_000 }).profile).toEqual({ cpuMs: 2500, peakMemoryBytes: 90_000_000 });
    expect(withContainerProfile(ended, { cpuMs: 2500, peakMemoryBytes: null }).profile).toEqual({ cpuMs: 2500, peakMemoryBytes: 2_000_000 });
    expect(withContainerProfile(ended, { cpuMs: null, peakMemoryBytes: null })).toEqual(ended);
  });

  it('gives no profile when neither the cgroup nor the run measured both figures', () => {
    const { profile: _, ...bare } = ended;
    expect(withContainerProfile(bare, { cpuMs: 2500, peakMemoryBytes: null }).profile).toBeUndefined();
  });
});

describe("this process's own cgroup under the real mount (/proc/self/cgroup)", () => {
  it('v2: the mount inside a cgroup namespace, else the path under it', async () => {
    const dir = cgroup({ 'cpu.stat': 'usage_usec 1000\n', 'kubepods/pod1/cri-a/cpu.stat': 'usage_usec 7000\n', 'kubepods/pod1/cri-a/memory.peak': '4096' });
    expect(await readContainerUsage(dir, '0::/\n')).toEqual({ cpuMs: 1, peakMemoryBytes: null });
    expect(await readContainerUsage(dir, '0::/kubepods/pod1/cri-a\n')).toEqual({ cpuMs: 7, peakMemoryBytes: 4096 });
  });

  it("v1: the controller's path under it, or its root when that is the container's own mount; never the machine's root", async () => {
    const dir = cgroup({
      'cpuacct/cpuacct.usage': '9000000000',
      'memory/memory.max_usage_in_bytes': '999999999',
      'cpuacct/docker/abc/cpuacct.usage': '2000000',
      'memory/docker/abc/memory.max_usage_in_bytes': '8192',
    });
    expect(await readContainerUsage(dir, '4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n')).toEqual({ cpuMs: 2, peakMemoryBytes: 8192 });
    // a container whose mount is its own cgroup: the host path is not under it
    expect(await readContainerUsage(dir, '4:memory:/kubepods/x\n2:cpu,cpuacct:/kubepods/x\n')).toEqual({ cpuMs: 9000, peakMemoryBytes: 999999999 });
    // a process in the root cgroup of a machine: not the run's figures
    expect(await readContainerUsage(dir, '4:memory:/\n2:cpu,cpuacct:/\n0::/\n')).toEqual({ cpuMs: null, peakMemoryBytes: null });
  });
});
