/**
 * What Linux's `/proc` says of a process: enough to tell a live process from a dead
 * one whose PID was reused (its start time), shared by the data-folder lock and the
 * App runtime's process groups.
 */
import { readFileSync } from 'node:fs';

/** True where `/proc/<pid>/stat` exists (Linux); elsewhere callers fall back to `kill(pid, 0)`. */
export const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** Fields of `/proc/<pid>/stat` after the command name: [0] state, [2] pgrp, [19] start time; null when there is no such process. */
export function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
