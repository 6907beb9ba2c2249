/**
 * One container as one local process, in its own mount and UTS namespaces so it reads the
 * paths its manifest names and has the Pod's hostname: `unshare --mount --uts
 * --propagation private` runs a small sh script that sets the hostname, mounts a tmpfs over each *private root* (a top-level folder such as `/topas`
 * that is empty on the host — created empty on the host the first time if missing, and
 * left there), bind-mounts each volume at its `mountPath` (`readOnly` → read-only),
 * bind-mounts the container's termination-message file at its
 * `terminationMessagePath`, changes to `workingDir`, remounts `/` read-only for a
 * `readOnlyRootFilesystem` container (other host mounts such as /proc, /dev and /sys
 * keep their modes), drops to the run-as user with
 * `setpriv` (which also sets a parent-death signal: should the kubelet's process die
 * without `stop()`, each container's main process is SIGKILLed — its own children
 * are not), and `exec`s the program — so the process keeps the pid (and leads the
 * process group) the kubelet started. Mount points outside a private root (e.g.
 * `/dev/termination-log`) are created empty on the host when missing, as mount points
 * only: what the container writes there lands in its own file.
 *
 * stdout and stderr go, unbuffered and in order, to the container's log file (plain
 * text lines, no CRI timestamps).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { groupMembers, pollUntil, signalGroup, signalProcess } from '../../../src/apps/local/process-group.js';

/** A host folder or file made visible inside the container at `target`. */
export interface ContainerMount {
  source: string;
  target: string;
  readOnly: boolean;
  /** Part of the image's files (mounted before every volume). */
  image?: boolean;
}

export interface ContainerProcessOptions {
  argv: string[];
  env: Record<string, string>;
  mounts: ContainerMount[];
  /** The host file the container's termination message is written to, and where the container sees it. */
  terminationFile: { source: string; target: string };
  workingDir?: string;
  /** The hostname the container sees (its own UTS namespace; the Pod's hostname). */
  hostname?: string;
  /** `securityContext.readOnlyRootFilesystem`: the host's root filesystem is mounted read-only for this container (its volumes keep their own mode). */
  readOnlyRootFilesystem?: boolean;
  /** uid/gid to drop to (no drop when uid is 0) and supplementary groups (fsGroup). */
  user: { uid: number; gid: number; groups: number[] };
  logFile: string;
}

export interface ContainerExit {
  /** The exit code, or 128 + signal number when a signal ended it (as a container runtime reports). */
  exitCode: number;
  signal: NodeJS.Signals | null;
}

/** Single-quotes a word for sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The top-level folder of an absolute path (`/topas/source` → `/topas`). */
export function topLevel(path: string): string {
  return `/${path.split('/').filter(Boolean)[0] ?? ''}`;
}

/**
 * Whether a top-level folder can be hidden behind a per-container tmpfs: it is empty on
 * the host (so nothing is hidden). A missing one is created empty first.
 */
export function ensurePrivateRoot(root: string): boolean {
  if (root === '/') return false;
  if (!existsSync(root)) {
    try {
      mkdirSync(root, { mode: 0o755 });
    } catch (error) {
      // Another kubelet (a parallel test file) made it first.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return statSync(root).isDirectory() && readdirSync(root).length === 0;
}

/** The sh script run inside the new mount namespace (pure; `privateRoots` decided by the caller). */
export function mountScript(options: Pick<ContainerProcessOptions, 'mounts' | 'terminationFile' | 'workingDir' | 'user' | 'readOnlyRootFilesystem' | 'hostname'>, privateRoots: string[]): string {
  const lines = ['set -e'];
  if (options.hostname) lines.push(`hostname ${shellQuote(options.hostname)}`);
  for (const root of privateRoots) lines.push(`mount -t tmpfs -o mode=0755 topas-pod ${shellQuote(root)}`);
  // The image's files before the volumes (their host sources may lie under a volume's path,
  // e.g. a checkout in /tmp under an emptyDir at /tmp); within each, outer paths before inner ones.
  const mounts = [...options.mounts].sort((a, b) => Number(!a.image) - Number(!b.image) || a.target.length - b.target.length);
  for (const m of mounts) {
    const target = shellQuote(m.target);
    if (statSync(m.source).isDirectory()) lines.push(`mkdir -p ${target}`);
    else lines.push(`mkdir -p ${shellQuote(dirname(m.target))}`, `[ -e ${target} ] || : > ${target}`);
    lines.push(`mount --bind ${shellQuote(m.source)} ${target}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  const tm = options.terminationFile;
  lines.push(`mkdir -p ${shellQuote(dirname(tm.target))}`, `[ -e ${shellQuote(tm.target)} ] || : > ${shellQuote(tm.target)}`);
  lines.push(`mount --bind ${shellQuote(tm.source)} ${shellQuote(tm.target)}`);
  if (options.workingDir) {
    if (privateRoots.includes(topLevel(options.workingDir))) lines.push(`mkdir -p ${shellQuote(options.workingDir)}`);
    lines.push(`cd ${shellQuote(options.workingDir)}`);
  }
  if (options.readOnlyRootFilesystem) lines.push('mount -o remount,bind,ro /');
  const { uid, gid, groups } = options.user;
  // --pdeathsig: the container's main process dies with the kubelet's process, even when that is SIGKILLed.
  const user = uid === 0 ? '' : ` --reuid=${uid} --regid=${gid} ${groups.length ? `--groups=${groups.join(',')}` : '--clear-groups'}`;
  lines.push(`exec /usr/bin/setpriv --pdeathsig KILL${user} -- "$@"`);
  return lines.join('\n');
}

/** Prepares host mount points outside private roots (empty folders/files) and returns the private roots. */
function prepareHost(options: ContainerProcessOptions): string[] {
  const roots = new Set<string>();
  const targets = [...options.mounts.map((m) => ({ path: m.target, file: !statSync(m.source).isDirectory() })), { path: options.terminationFile.target, file: true }];
  for (const { path, file } of targets) {
    const root = topLevel(path);
    if (roots.has(root) || ensurePrivateRoot(root)) {
      roots.add(root);
      continue;
    }
    if (existsSync(path)) continue;
    if (file) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, '', { flag: 'a' });
    } else {
      mkdirSync(path, { recursive: true });
    }
  }
  if (options.workingDir && ensurePrivateRoot(topLevel(options.workingDir))) roots.add(topLevel(options.workingDir));
  return [...roots];
}

/** A started container process: its pid (= process group id) and its exit (once every process of its group is gone). */
export class ContainerProcess {
  readonly pid: number;
  readonly exited: Promise<ContainerExit>;

  private constructor(pid: number, exited: Promise<ContainerExit>) {
    this.pid = pid;
    this.exited = exited;
  }

  /** Starts the container; rejects when the process cannot be spawned at all. */
  static async start(options: ContainerProcessOptions): Promise<ContainerProcess> {
    const roots = prepareHost(options);
    const script = mountScript(options, roots);
    mkdirSync(dirname(options.logFile), { recursive: true });
    const log = openSync(options.logFile, 'w');
    try {
      const child = spawn('/usr/bin/unshare', ['--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', ...options.argv], {
        env: options.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
      const exited = new Promise<ContainerExit>((resolve) => {
        child.once('exit', (code, signal) => {
          const signo = signal ? osSignal(signal) : 0;
          // As when a container's init process ends: whatever it left running in its group dies with it.
          signalGroup(child.pid!, 'SIGKILL');
          void pollUntil(() => groupMembers(child.pid!).length === 0, 5000).then(() => resolve({ exitCode: code ?? 128 + signo, signal }));
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', reject);
      });
      return new ContainerProcess(child.pid!, exited);
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM to the container's main process only, as a container runtime stops a container (it is PID 1's to pass on). */
  terminate(): boolean {
    return signalProcess(this.pid, 'SIGTERM');
  }

  /** SIGKILL to every process of the container. */
  kill(): boolean {
    return signalGroup(this.pid, 'SIGKILL');
  }
}

function osSignal(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
