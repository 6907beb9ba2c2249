/**
 * What a runner container used, from its cgroup: the profile of a run on Kubernetes,
 * where one runner Pod executes one run. Read where the container sees its own cgroup
 * (`/sys/fs/cgroup` in a Pod: a cgroup namespace, the default with cgroup v2) — never
 * on a shared machine, where the cgroup there is not the runner's alone.
 *
 * - CPU: cgroup v2 `cpu.stat` `usage_usec`; v1 `cpuacct/cpuacct.usage` (ns).
 * - Peak memory: v2 `memory.peak` (Linux ≥ 5.19); v1 `memory/memory.max_usage_in_bytes`.
 *
 * A figure whose file is missing or unreadable is null.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Linux mounts the cgroup hierarchy. */
export const CGROUP_MOUNT = '/sys/fs/cgroup';

/**
 * The folder of this process's own cgroup under the mount: with cgroup v2 the line
 * `0::<path>` of `/proc/self/cgroup` (`/` inside a cgroup namespace, the container's own
 * path without one). Any other folder is taken as given (a test's fake cgroup).
 */
export async function ownCgroupDir(dir: string, selfCgroup: () => Promise<string> = () => readFile('/proc/self/cgroup', 'utf8')): Promise<string> {
  if (dir.replace(/\/+$/, '') !== CGROUP_MOUNT) return dir;
  const text = await selfCgroup().catch(() => '');
  const path = /^0::(\/.*)$/m.exec(text)?.[1];
  return path && path !== '/' ? join(dir, path) : dir;
}

export interface ContainerUsage {
  /** CPU time of every process of the container since it started, in ms. */
  cpuMs: number | null;
  /** The most memory the container held at once (cgroup accounting: includes page cache), in bytes. */
  peakMemoryBytes: number | null;
}

export async function readContainerUsage(cgroupDir: string): Promise<ContainerUsage> {
  const text = (path: string) => readFile(join(cgroupDir, path), 'utf8').catch(() => null);
  const [cpuStat, cpuV1, peak, peakV1] = await Promise.all([
    text('cpu.stat'),
    text('cpuacct/cpuacct.usage'),
    text('memory.peak'),
    text('memory/memory.max_usage_in_bytes'),
  ]);
  const usec = cpuStat === null ? null : count(/^usage_usec (\d+)$/m.exec(cpuStat)?.[1]);
  const nsec = count(cpuV1);
  return {
    cpuMs: usec !== null ? usec / 1000 : nsec !== null ? nsec / 1e6 : null,
    peakMemoryBytes: count(peak) ?? count(peakV1),
  };
}

function count(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}
