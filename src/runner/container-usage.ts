/**
 * What a runner container used, from its cgroup: the profile of a run on Kubernetes,
 * where one runner Pod executes one run.
 *
 * - CPU: cgroup v2 `cpu.stat` `usage_usec`; v1 `cpuacct/cpuacct.usage` (ns).
 * - Peak memory: v2 `memory.peak` (Linux ≥ 5.19); v1 `memory/memory.max_usage_in_bytes`.
 *
 * Under the real mount (`/sys/fs/cgroup`) the process's own cgroup is found through
 * `/proc/self/cgroup`: the mount itself inside a cgroup namespace (`0::/`), the
 * process's path under it otherwise. A v1 controller whose path is the root (`/`) is not
 * read: outside a container that is the whole machine. A figure whose file is missing
 * or unreadable is null. (Where containers are plain processes, as in the test cluster,
 * the cgroup found is whatever the process runs in, not the run's alone.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Linux mounts the cgroup hierarchy. */
export const CGROUP_MOUNT = '/sys/fs/cgroup';

export interface ContainerUsage {
  /** CPU time of every process of the container since it started, in ms. */
  cpuMs: number | null;
  /** The most memory the container held at once (cgroup accounting: includes page cache), in bytes. */
  peakMemoryBytes: number | null;
}

/**
 * The usage of the cgroup at `cgroupDir`. `self`: the text of `/proc/self/cgroup`, to
 * find this process's cgroup under a real mount; null takes `cgroupDir` as the
 * process's own cgroup folder (a namespace's mount, a test's fake folder).
 */
export async function readContainerUsage(cgroupDir: string, self: string | null = null): Promise<ContainerUsage> {
  const text = (path: string | null) => (path === null ? Promise.resolve(null) : readFile(path, 'utf8').catch(() => null));
  const v2Path = self === null ? '/' : (/^0::(\/.*)$/m.exec(self)?.[1] ?? '/');
  /** A v1 controller's file: under the process's path, else (a container's own mount) at the controller's root. */
  const v1 = async (controller: string, file: string): Promise<string | null> => {
    const base = join(cgroupDir, controller);
    if (self === null) return text(join(base, file));
    const path = new RegExp(`^\\d+:(?:[^:]*,)?${controller}(?:,[^:]*)?:(/.*)$`, 'm').exec(self)?.[1];
    if (!path || path === '/') return null;
    return (await text(join(base, path, file))) ?? text(join(base, file));
  };
  const [cpuStat, cpuV1, peak, peakV1] = await Promise.all([
    text(join(cgroupDir, v2Path, 'cpu.stat')),
    v1('cpuacct', 'cpuacct.usage'),
    text(join(cgroupDir, v2Path, 'memory.peak')),
    v1('memory', 'memory.max_usage_in_bytes'),
  ]);
  const usec = cpuStat === null ? null : count(/^usage_usec (\d+)$/m.exec(cpuStat)?.[1]);
  const nsec = count(cpuV1);
  return {
    cpuMs: usec !== null ? usec / 1000 : nsec !== null ? nsec / 1e6 : null,
    peakMemoryBytes: count(peak) ?? count(peakV1),
  };
}

/** What this process's container used: its own cgroup under `cgroupDir` (see the header). */
export async function readOwnContainerUsage(cgroupDir: string): Promise<ContainerUsage> {
  const real = cgroupDir.replace(/\/+$/, '') === CGROUP_MOUNT;
  const self = real ? await readFile('/proc/self/cgroup', 'utf8').catch(() => '') : null;
  return readContainerUsage(cgroupDir, self);
}

function count(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}
