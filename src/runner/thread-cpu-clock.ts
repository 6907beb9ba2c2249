/**
 * The CPU time of the calling thread, for a run's CPU profile. Node 20 has no
 * per-thread CPU clock (`process.cpuUsage()` is the whole process; `threadCpuUsage`
 * is Node ≥ 23.9), so on Linux it reads the scheduler's own count of the thread's time
 * on a CPU (`/proc/thread-self/schedstat`, nanoseconds), opened once by the thread that
 * reads it (`/proc/thread-self` resolves at open time) and re-read with `pread` (~1 µs).
 * Elsewhere it uses `process.threadCpuUsage` when the Node has it, else wall time — an
 * upper bound of CPU time (it also counts time the thread was preempted).
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface ThreadCpuClock {
  /** `cpu`: the thread's CPU time; `wall`: wall time (no CPU clock here). */
  readonly kind: 'cpu' | 'wall';
  /** Nanoseconds on this clock; only differences mean anything. */
  now(): number;
}

/** A clock of the calling thread's CPU time: call it on the thread to be measured. */
export function threadCpuClock(): ThreadCpuClock {
  return schedstatClock() ?? threadCpuUsageClock() ?? { kind: 'wall', now: () => performance.now() * 1e6 };
}

function schedstatClock(): ThreadCpuClock | null {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null;
  }
  const buf = Buffer.alloc(96);
  const read = (): number => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.toString('latin1', 0, n);
    return Number(text.slice(0, text.indexOf(' ')));
  };
  try {
    // Kernels with scheduler statistics off report 0 for every thread: no clock there.
    if (!(read() > 0)) return null;
  } catch {
    return null;
  }
  // A worker thread's descriptor is process-wide: give it back when the thread ends.
  process.once('exit', () => {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  });
  return { kind: 'cpu', now: read };
}

function threadCpuUsageClock(): ThreadCpuClock | null {
  const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof usage !== 'function') return null;
  return {
    kind: 'cpu',
    now: () => {
      const u = usage.call(process);
      return (u.user + u.system) * 1000;
    },
  };
}
