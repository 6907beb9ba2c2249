/**
 * TEST-ONLY. A detached executor that starts `topas runner` as a detached child
 * process per run — the runner protocol end to end without a cluster. It keeps what
 * the kubernetes executor keeps in Kubernetes in a state folder instead, per run:
 * `source/` (the "ConfigMap": script and files, when under 1 MiB), `token` (the
 * "Secret"), `pid` (the "Pod"), `termination-log` (the "termination message") and
 * `output` (the "container log"). The processes outlive the executor (and the topas that
 * made it), so re-attaching after a restart is really tested.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunCompletion } from '../../core/run.js';
import { EMPTY_SUMMARY } from '../../core/run.js';
import { ExecutorClosedError, type ExecutionJob, type Executor, type RunSink } from '../executor.js';
import type { RunnerHub } from '../runner-hub.js';
import type { MintRunToken } from '../run-tokens.js';

/** What a ConfigMap holds at most: larger bundles are fetched by the runner from the server. */
export const SOURCE_LIMIT_BYTES = 1024 * 1024;

export interface ProcessExecutorOptions {
  /** The server end of the runner protocol (the same one the server's runner routes use). */
  hub: RunnerHub;
  /** The server's URL as the runners reach it (resolves once it listens). */
  serverUrl: () => string | Promise<string>;
  mintRunToken: MintRunToken;
  /** Per-run folders live here; it survives the executor (like the cluster survives topas). */
  stateDir: string;
  /** How often a run's process is checked for life. Default 100 ms. */
  pollMs?: number;
  /** After a cancel, how long the runner may take to stop by itself before it is killed. Default 5000 ms. */
  cancelGraceMs?: number;
  /** The command that starts `topas` (default: this checkout's bin/topas.js with this Node.js). */
  command?: string[];
  /** More environment for the runner processes. */
  env?: Record<string, string>;
}

const BIN = fileURLToPath(new URL('../../../bin/topas.js', import.meta.url));

interface Following {
  reject: (error: unknown) => void;
  stop: () => void;
}

export function createProcessExecutor(options: ProcessExecutorOptions): Executor {
  const pollMs = options.pollMs ?? 100;
  const following = new Set<Following>();
  let closed = false;
  const dirOf = (runId: string) => join(options.stateDir, runId.replace(/[^\w-]/g, '_'));

  async function pidOf(runId: string): Promise<number | null> {
    const text = await readFile(join(dirOf(runId), 'pid'), 'utf8').catch(() => null);
    return text ? Number(text) : null;
  }

  async function terminationResult(runId: string): Promise<RunCompletion | null> {
    const text = await readFile(join(dirOf(runId), 'termination-log'), 'utf8').catch(() => null);
    if (!text) return null;
    try {
      const r = JSON.parse(text) as RunCompletion;
      return { phase: r.phase, reason: r.reason, message: r.message, summary: r.summary ?? EMPTY_SUMMARY };
    } catch {
      return null;
    }
  }

  async function start(job: ExecutionJob): Promise<void> {
    const dir = dirOf(job.runId);
    const sourceDir = join(dir, 'source');
    await mkdir(sourceDir, { recursive: true });
    const fileName = job.fileName || 'script.lua';
    let bytes = Buffer.byteLength(job.script);
    for (const content of Object.values(job.files)) bytes += Buffer.byteLength(content);
    if (bytes <= SOURCE_LIMIT_BYTES) {
      await writeFile(join(sourceDir, fileName), job.script);
      for (const [path, content] of Object.entries(job.files)) {
        await mkdir(dirname(join(sourceDir, path)), { recursive: true });
        await writeFile(join(sourceDir, path), content);
      }
    }
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, await options.mintRunToken(job.runId, job.timeoutMs), { mode: 0o600 });
    const server = await options.serverUrl();
    const out = openSync(join(dir, 'output'), 'a');
    const [command, ...prefix] = options.command ?? [process.execPath, BIN];
    const child = spawn(
      command!,
      [
        ...prefix,
        'runner',
        '--run',
        job.runId,
        '--server',
        server,
        '--token-file',
        tokenFile,
        '--source',
        join(sourceDir, fileName),
        '--termination-log',
        join(dir, 'termination-log'),
      ],
      { detached: true, stdio: ['ignore', out, out], env: { ...process.env, NO_COLOR: '1', ...options.env } },
    );
    closeSync(out);
    child.unref();
    await writeFile(join(dir, 'pid'), String(child.pid));
  }

  /** Follows a started run until its completion, or its process is gone (→ the termination log, or `lost`). */
  function follow(job: ExecutionJob, sink: RunSink, signal: AbortSignal, pid: number, lost: () => RunCompletion | null): Promise<RunCompletion | null> {
    return new Promise<RunCompletion | null>((resolve, reject) => {
      let done = false;
      let killTimer: NodeJS.Timeout | undefined;
      const entry: Following = {
        reject: (e) => finish(() => reject(e)),
        stop: () => {},
      };
      const unfollow = options.hub.follow({ job, sink, signal, complete: (c) => finish(() => resolve(c)) });
      const poll = setInterval(() => {
        if (alive(pid)) return;
        // Gone: its completion came (then we are done) or it is in the termination log.
        void terminationResult(job.runId).then((r) => finish(() => resolve(r ?? lost())));
      }, pollMs);
      const onAbort = () => {
        // The runner sees the cancel on its next heartbeat; a runner that does not stop is killed.
        killTimer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, options.cancelGraceMs ?? 5000);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      function finish(settle: () => void) {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        unfollow();
        following.delete(entry);
        options.hub.forget(job.runId);
        settle();
      }
      entry.stop = () => finish(() => reject(new ExecutorClosedError()));
      following.add(entry);
    });
  }

  return {
    name: 'process',
    capacity: 1000,
    detached: true,
    async execute(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      let pid = await pidOf(job.runId);
      // By identity: a run already started is followed, never started again.
      if (pid === null) {
        await start(job);
        pid = (await pidOf(job.runId))!;
      }
      const completion = await follow(job, sink, signal, pid, () => ({
        phase: 'Error',
        reason: 'RunnerCrashed',
        message: 'the runner process exited without reporting a result',
        summary: EMPTY_SUMMARY,
      }));
      return completion!;
    },
    async attach(job, sink, signal) {
      if (closed) throw new ExecutorClosedError();
      const pid = await pidOf(job.runId);
      if (pid === null) return null;
      if (!alive(pid)) return terminationResult(job.runId);
      return follow(job, sink, signal, pid, () => null);
    },
    async close() {
      closed = true;
      for (const f of [...following]) f.stop();
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the run's state folder exists (tests). */
export function hasRunState(stateDir: string, runId: string): boolean {
  return existsSync(join(stateDir, runId));
}
