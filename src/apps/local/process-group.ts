/**
 * Process groups and process identity. Every process the runtime starts leads its own
 * process group (`detached: true`), so signalling `-pgid` reaches a wrapper
 * (`npm start`, `sh -c`) and everything it started. A recorded process is identified
 * by its pid *and* its start time, so a pid reused by an unrelated process after a
 * reboot or a long downtime is never signalled.
 *
 * Liveness ignores zombies: an orphan reparented to an init that does not reap
 * (common in containers) stays a zombie, which `process.kill(pid, 0)` still reports.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { hasProc, procStat } from '../../store/proc-stat.js';

/** A process as recorded in the state file: enough to find it again and to be sure it is the same one. */
export interface RecordedProcess {
  pid: number;
  /** Its process group id (the pid itself for a group leader we spawned). */
  pgid: number;
  /** `/proc/<pid>/stat` start time (clock ticks since boot) or `ps` lstart; null when unknown. */
  startTime: string | null;
  /** What it runs, for people reading the state file. */
  command?: string;
}

/** The process's start time, stable for its whole life; null when it does not exist. */
export function processStartTime(pid: number): string | null {
  if (hasProc) return procStat(pid)?.[19] ?? null;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || null;
  } catch {
    return null;
  }
}

/** The command line of a process ('' when unknown). */
export function processCommandLine(pid: number): string {
  if (hasProc) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      return '';
    }
  }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const stat = procStat(pid);
  return stat !== null && stat[0] !== 'Z' && stat[0] !== 'X';
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  if (!hasProc) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat[2] === String(pgid) && stat[0] !== 'Z' && stat[0] !== 'X') members.push(Number(entry));
  }
  return members;
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to one process; false when it no longer exists. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The identity to record for a process we just started. */
export function recordProcess(pid: number, command?: string): RecordedProcess {
  return { pid, pgid: pid, startTime: processStartTime(pid), ...(command ? { command } : {}) };
}

/**
 * Whether a recorded process group is still ours: its leader is alive with the
 * recorded start time, or the leader is gone but members of its group live on (the
 * kernel does not hand out a pid while a group of that id exists, so the group is
 * still the one we started).
 */
export function isRecordedGroupAlive(rec: RecordedProcess): boolean {
  if (isAlive(rec.pid)) {
    const started = processStartTime(rec.pid);
    return rec.startTime === null || started === rec.startTime;
  }
  return groupMembers(rec.pgid).length > 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` is true, polling; resolves false on timeout. */
export async function pollUntil(done: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/**
 * Stops a process group left behind by a previous topas (not our child, so only
 * polling tells when it is gone): SIGTERM, then SIGKILL after `graceMs`. Does nothing
 * when the recorded group is not ours any more. Returns true when it signalled.
 */
export async function stopRecordedGroup(rec: RecordedProcess, graceMs: number): Promise<boolean> {
  if (!isRecordedGroupAlive(rec)) return false;
  signalGroup(rec.pgid, 'SIGTERM');
  const gone = await pollUntil(() => groupMembers(rec.pgid).length === 0, graceMs);
  if (!gone) {
    signalGroup(rec.pgid, 'SIGKILL');
    await pollUntil(() => groupMembers(rec.pgid).length === 0, 2000);
  }
  return true;
}
