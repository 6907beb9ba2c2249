/**
 * One topas per data folder. `lockDataFolder` takes `<dataDir>/topas.lock` before the
 * store is opened or an App is touched; a second start on the same folder fails with
 * `DataFolderInUseError` and changes nothing (it writes no file while the holder lives).
 *
 * The lock file is JSON naming its holder: pid, the process's start time (Linux
 * `/proc/<pid>/stat`, so a pid reused after a crash is not mistaken for the holder),
 * the boot id and host name, when it started, and a unique token.
 *
 * - **Who holds it.** On the holder's host: alive when a process with that pid exists,
 *   is not a zombie and (where known) started at the recorded time, and the machine
 *   has not rebooted since. Elsewhere only `process.kill(pid, 0)` is available. A lock
 *   written on another host (a folder shared over the network, a rescheduled pod) can
 *   not be checked that way: the holder refreshes the file's mtime every 10 s, and such
 *   a lock is stale after 60 s without a refresh.
 * - **Taking it.** A complete record is written to a temporary file and `link`ed to
 *   the lock's name, which fails if the name exists: creation is atomic and the file
 *   is never seen half-written.
 * - **Taking over a stale lock** (its holder was killed): the lock's token names a
 *   claim file, `topas.lock.takeover-<token>-<n>`, created the same way; only the one
 *   start that created it may replace the lock (checking again that it still holds the
 *   stale token, then `rename` over it). Two starts racing for the same stale lock: one
 *   gets the claim, the other sees a live claimant, waits, and then finds the winner's
 *   live lock. A claimant killed mid-takeover leaves a claim whose holder is dead: the
 *   next start uses the next `<n>`.
 * - **Releasing** (clean stop, or the process exiting): the file is removed if it is
 *   still ours.
 */
import { link, mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TopasError } from '../core/errors.js';
import { hasProc, procStat } from './proc-stat.js';

export const LOCK_FILE = 'topas.lock';
/** How often the holder refreshes the lock's mtime (for hosts that cannot check its pid). */
const REFRESH_MS = 10_000;
/** A lock written on another host is stale after this long without a refresh. */
const FOREIGN_STALE_MS = 60_000;
/** How long a start waits for a live racer that is taking over a stale lock. */
const CLAIMANT_WAIT_MS = 5_000;

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  /** `/proc/<pid>/stat` start time (clock ticks since boot); null off Linux. */
  startTime: string | null;
  /** `/proc/sys/kernel/random/boot_id`; null off Linux. */
  bootId: string | null;
  hostname: string;
  /** When the holder took the lock (ISO 8601). */
  startedAt: string;
  token: string;
}

/** Another live topas holds the data folder. */
export class DataFolderInUseError extends TopasError {
  constructor(shownDir: string, holder: LockHolder) {
    const where = holder.hostname === hostname() ? '' : ` on host ${holder.hostname}`;
    super('DataFolderInUse', `data folder ${shownDir} is in use by PID ${holder.pid}${where} (started ${formatTime(holder.startedAt)}); stop it or use --data`, {
      dataDir: shownDir,
      pid: holder.pid,
      hostname: holder.hostname,
      startedAt: holder.startedAt,
    });
  }
}

/** A held lock on a data folder. */
export interface DataFolderLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours; safe to call more than once. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** The working directory the folder is shown relative to in messages. Default: process.cwd(). */
  cwd?: string;
}

/** Takes the data folder's lock, or throws DataFolderInUseError naming the live holder. */
export async function lockDataFolder(dataDir: string, options: LockOptions = {}): Promise<DataFolderLock> {
  const dir = resolve(dataDir);
  const shown = showPath(dir, options.cwd ?? process.cwd());
  const file = join(dir, LOCK_FILE);
  const me: LockHolder = { ...identity(process.pid), pid: process.pid, startedAt: new Date().toISOString(), token: randomBytes(12).toString('hex') };
  // Only a folder nobody holds is created or written to.
  const first = await readLock(file);
  if (first && isHeld(first)) throw new DataFolderInUseError(shown, first.holder);
  await mkdir(dir, { recursive: true });

  const waitUntil = Date.now() + CLAIMANT_WAIT_MS;
  for (;;) {
    const current = await readLock(file);
    if (!current) {
      if (await createExclusive(file, me)) return hold(file, me);
      continue;
    }
    if (isHeld(current)) throw new DataFolderInUseError(shown, current.holder);
    const outcome = await takeOver(file, current.holder.token, me);
    if (outcome === 'won') return hold(file, me);
    if (typeof outcome === 'object') {
      // A live start is replacing the same stale lock: its lock (or its failure) shows soon.
      if (Date.now() > waitUntil) throw new DataFolderInUseError(shown, outcome.claimant);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** `./.topas` for a folder inside `cwd`, else the absolute path. */
export function showPath(dir: string, cwd: string): string {
  const rel = relative(cwd, dir);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return dir;
  return `./${rel}`;
}

// --- holders and liveness ------------------------------------------------------------

interface LockRead {
  holder: LockHolder;
  mtimeMs: number;
}

const BOOT_ID = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
})();

function identity(pid: number): Pick<LockHolder, 'startTime' | 'bootId' | 'hostname'> {
  return { startTime: hasProc ? (procStat(pid)?.[19] ?? null) : null, bootId: BOOT_ID, hostname: hostname() };
}

/** True when the recorded holder is (as far as can be told) still running and still the same process. */
function isHeld({ holder, mtimeMs }: LockRead): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  if (holder.hostname !== hostname()) return Date.now() - mtimeMs < FOREIGN_STALE_MS;
  if (holder.bootId && BOOT_ID && holder.bootId !== BOOT_ID) return false;
  if (hasProc) {
    const fields = procStat(holder.pid);
    if (!fields || fields[0] === 'Z' || fields[0] === 'X') return false;
    return holder.startTime === null || fields[19] === holder.startTime;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock (or claim) file's holder; null when there is no file. A file that is not a lock record is a stale lock. */
async function readLock(file: string): Promise<LockRead | null> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as LockHolder;
    // The token names claim files: hex only.
    if (typeof parsed.token === 'string' && /^[0-9a-f]{1,64}$/.test(parsed.token)) return { holder: parsed, mtimeMs };
  } catch {
    // fall through
  }
  const token = Buffer.from(text.slice(0, 64)).toString('hex').slice(0, 24) || 'empty';
  return { holder: { pid: 0, startTime: null, bootId: null, hostname: hostname(), startedAt: '', token: `0${token}` }, mtimeMs };
}

// --- taking and releasing ----------------------------------------------------------

/** Writes `record` to a fresh temporary file beside `file` and returns its path. */
async function writeTemp(file: string, record: LockHolder): Promise<string> {
  const temp = `${file}.${record.token}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  return temp;
}

/** Creates `file` holding `record` if no such file exists (atomically, never half-written). */
async function createExclusive(file: string, record: LockHolder): Promise<boolean> {
  const temp = await writeTemp(file, record);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/**
 * Replaces the stale lock with token `staleToken` by `me`, if this start is the one
 * that claims it. 'changed': the lock is no longer that stale one (look again);
 * `{ claimant }`: a live start is taking it over.
 */
async function takeOver(file: string, staleToken: string, me: LockHolder): Promise<'won' | 'changed' | { claimant: LockHolder }> {
  const temp = await writeTemp(file, me);
  try {
    for (let n = 1; ; n++) {
      const claim = `${file}.takeover-${staleToken}-${n}`;
      try {
        await link(temp, claim);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const other = await readLock(claim);
        if (other && isHeld(other)) return { claimant: other.holder };
        continue; // its claimant died (or just finished): the next claim number
      }
      const now = await readLock(file);
      if (now?.holder.token !== staleToken) {
        await unlink(claim).catch(() => {});
        return 'changed';
      }
      await rename(temp, file);
      await removeClaims(file);
      return 'won';
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Claims of earlier takeovers are void once a new lock is in place (their tokens never come back). */
async function removeClaims(file: string): Promise<void> {
  const dir = join(file, '..');
  const prefix = `${LOCK_FILE}.takeover-`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix)) await unlink(join(dir, name)).catch(() => {});
  }
}

/** Locks this process holds: released when it exits, even without a clean stop. */
const held = new Set<{ file: string; token: string }>();
let exitHookInstalled = false;

function hold(file: string, me: LockHolder): DataFolderLock {
  const entry = { file, token: me.token };
  held.add(entry);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const e of held) releaseSync(e.file, e.token);
    });
  }
  // Hosts that cannot check our pid judge the lock by its mtime.
  const refresh = setInterval(() => {
    const now = new Date();
    void utimes(file, now, now).catch(() => {});
  }, REFRESH_MS);
  refresh.unref();
  let released: Promise<void> | null = null;
  return {
    file,
    holder: me,
    release() {
      released ??= (async () => {
        clearInterval(refresh);
        held.delete(entry);
        const current = await readLock(file).catch(() => null);
        if (current?.holder.token === me.token) await unlink(file).catch(() => {});
      })();
      return released;
    },
  };
}

function releaseSync(file: string, token: string): void {
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (current.token === token) unlinkSync(file);
  } catch {
    // gone or unreadable: nothing of ours to remove
  }
}

/** `2025-06-01 14:03:07 UTC`-style: to the second, unambiguous. */
function formatTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? 'at an unknown time' : `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
