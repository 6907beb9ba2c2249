/**
 * Whether a local PostgreSQL server can run App databases: `initdb` and `postgres`
 * on PATH (or in Debian's /usr/lib/postgresql/<version>/bin), and — because
 * PostgreSQL refuses to run as root — when topas runs as root, a `postgres` system
 * user to run them as. Found once per runtime.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** `PostgreSQL 15.4` or similar. */
  version: string;
  /** Who to run them as when topas runs as root; null to run as ourselves. */
  runAs: { user: string; uid: number; gid: number } | null;
}

/** PostgreSQL is usable, or why not. */
export type PostgresAvailability = { ok: true; binaries: PostgresBinaries } | { ok: false; reason: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathEnv: string): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  // Debian/Ubuntu install the server outside PATH.
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const candidate = join('/usr/lib/postgresql', v, 'bin', name);
      if (executable(candidate)) return candidate;
    }
  } catch {
    // not Debian-like
  }
  return null;
}

/** The passwd entry of a system user, or null. */
function systemUser(name: string): { uid: number; gid: number } | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: fall through to `id`
  }
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  return null;
}

/** Looks for a usable PostgreSQL server installation. */
export function findPostgres(pathEnv: string): PostgresAvailability {
  const initdb = findOnPath('initdb', pathEnv);
  const postgres = findOnPath('postgres', pathEnv);
  if (!initdb || !postgres) return { ok: false, reason: `${!initdb ? 'initdb' : 'postgres'} is not on PATH` };
  const probe = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) return { ok: false, reason: `${postgres} --version failed: ${(probe.stderr || probe.error?.message || '').trim()}` };
  const version = probe.stdout.trim().replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ');
  let runAs: PostgresBinaries['runAs'] = null;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    const user = systemUser('postgres');
    if (!user) return { ok: false, reason: 'topas runs as root, PostgreSQL refuses to run as root, and there is no postgres system user to run it as' };
    if (user.uid === 0) return { ok: false, reason: 'the postgres system user is root (uid 0)' };
    runAs = { user: 'postgres', ...user };
  }
  return { ok: true, binaries: { initdb, postgres, version, runAs } };
}

/** Whether `user` may enter `dir` (every folder above it must be searchable). */
export function canEnter(dir: string, user: { uid: number; gid: number }): boolean {
  const result = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}
