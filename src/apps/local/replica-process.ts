/**
 * One replica: a child process leading its own process group, its output split into
 * lines, and its readiness probe loop. It knows whether it is ready and why not, how
 * it ended, and how to stop (SIGTERM to the group, SIGKILL after a grace period).
 * Restarting is not its business: the service supervisor decides that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { LineSplitter } from './line-log.js';
import { groupMembers, pollUntil, recordProcess, signalGroup, type RecordedProcess } from './process-group.js';
import { probeOnce, type ProbeTarget } from './readiness-probe.js';
import type { ReplicaPorts } from './replica-template.js';

/** How a replica ended. */
export interface ReplicaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** "exited with code 1", "killed by SIGKILL", "could not start: ...". */
  description: string;
  at: number;
}

export interface ReplicaProcessOptions {
  /** The replica's index in its service (its slot). */
  index: number;
  /** The spec hash it runs (see ReplicaTemplate). */
  hash: string;
  version: string;
  command: string[];
  cwd: string;
  env: Record<string, string>;
  ports: ReplicaPorts;
  probe: ProbeTarget;
  /** Probe period once ready. */
  periodMs: number;
  /** Each output line. */
  onLine: (line: string) => void;
  /** Ready state changed, or it exited. */
  onChange: () => void;
}

/** Probe period while starting: faster than the configured period, so a fresh replica joins quickly. */
const STARTUP_PROBE_MS = 150;
/** Output lines a replica keeps for its exit report. */
const LAST_LINES = 10;
/** Consecutive failed probes that take a ready replica out of rotation (Kubernetes' default). */
const FAILURE_THRESHOLD = 3;

export class ReplicaProcess {
  readonly index: number;
  readonly hash: string;
  readonly version: string;
  readonly ports: ReplicaPorts;
  readonly startedAt = Date.now();
  /** When it first became ready; null until then. */
  readyAt: number | null = null;
  ready = false;
  /** Being stopped on purpose: out of rotation, its exit is not a crash. */
  stopping = false;
  exit: ReplicaExit | null = null;
  /** Last probe outcome, for "not ready because ..." messages. */
  probeDetail = 'not probed yet';
  /** The last line it printed. */
  lastLine = '';
  /** Its last non-empty lines (at most LAST_LINES), for "why did it exit". */
  readonly lastLines: string[] = [];
  readonly exited: Promise<ReplicaExit>;
  readonly commandLine: string;
  private child: ChildProcess | null = null;
  private record: RecordedProcess | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** The process has exited (its exit is recorded once its output is drained). */
  private gone = false;
  private resolveExit!: (exit: ReplicaExit) => void;

  constructor(private readonly options: ReplicaProcessOptions) {
    this.index = options.index;
    this.hash = options.hash;
    this.version = options.version;
    this.ports = options.ports;
    this.commandLine = options.command.join(' ');
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | null {
    return this.exit ? null : (this.child?.pid ?? null);
  }

  /** The identity to record in the state file (null once exited). */
  get recorded(): RecordedProcess | null {
    return this.exit ? null : this.record;
  }

  /** Starts the process and its probe loop. A failure to start is reported as an exit. */
  start(): void {
    const { command, cwd, env } = this.options;
    // A start that fails at once is reported on the next turn, once the caller holds the replica.
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      setImmediate(() => this.finish(null, null, `could not start: local.cwd ${cwd} is not a folder`));
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(command[0]!, command.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      setImmediate(() => this.finish(null, null, `could not start ${command[0]}: ${(error as Error).message}`));
      return;
    }
    this.child = child;
    if (child.pid !== undefined) this.record = recordProcess(child.pid, this.commandLine);
    const out = new LineSplitter((line) => this.line(line));
    const err = new LineSplitter((line) => this.line(line));
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Only a failed spawn has no pid; other errors (a failed kill) are not an exit.
      if (child.pid === undefined) this.finish(null, null, `could not start ${command[0]}: ${error.code === 'ENOENT' ? `${command[0]} not found (check local.command and PATH)` : error.message}`);
    });
    child.on('exit', (code, signal) => {
      // Anything the leader left in its group (a wrapper's children) goes with it.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      this.gone = true;
      if (this.ready) {
        this.ready = false;
        this.options.onChange();
      }
      // Its last lines may still be in the pipes: finish when they are drained ('close'),
      // or shortly anyway (a process outside the group may hold them open).
      const done = () => {
        clearTimeout(timer);
        out.flush();
        err.flush();
        this.finish(code, signal, code !== null ? `exited with code ${code}` : `killed by ${signal}`);
      };
      const timer = setTimeout(done, 500);
      child.once('close', done);
    });
    this.scheduleProbe(STARTUP_PROBE_MS);
  }

  /** Takes it out of rotation (a stopping replica gets no new connections). */
  drain(): void {
    this.stopping = true;
    if (this.ready) {
      this.ready = false;
      this.options.onChange();
    }
  }

  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs: number): Promise<ReplicaExit> {
    this.drain();
    if (this.exit) return this.exit;
    const pgid = this.child?.pid;
    if (pgid === undefined) return this.exited;
    signalGroup(pgid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    await this.groupGone(pgid);
    return exit;
  }

  /** After the leader's exit the rest of its group was SIGKILLed: wait until the kernel has taken them. */
  private async groupGone(pgid: number): Promise<void> {
    if (!(await pollUntil(() => groupMembers(pgid).length === 0, 2000, 10))) signalGroup(pgid, 'SIGKILL');
  }

  /** SIGKILL to its group (a crash, for self-healing tests); resolves once it exited. */
  async kill(): Promise<ReplicaExit> {
    const pgid = this.child?.pid;
    if (pgid !== undefined && !this.exit) signalGroup(pgid, 'SIGKILL');
    const exit = await this.exited;
    if (pgid !== undefined) await this.groupGone(pgid);
    return exit;
  }

  /** Synchronous last resort when topas exits without close(). */
  killNow(): void {
    const pgid = this.child?.pid;
    if (pgid !== undefined && !this.exit) signalGroup(pgid, 'SIGKILL');
  }

  private line(line: string): void {
    if (line.trim()) {
      this.lastLine = line;
      this.lastLines.push(line);
      if (this.lastLines.length > LAST_LINES) this.lastLines.shift();
    }
    this.options.onLine(line);
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, description: string): void {
    if (this.exit) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.ready = false;
    this.exit = { code, signal, description, at: Date.now() };
    if (code === null && signal === null) this.options.onLine(description);
    this.resolveExit(this.exit);
    this.options.onChange();
  }

  private scheduleProbe(ms: number): void {
    this.probeTimer = setTimeout(() => void this.probe(), ms);
  }

  private async probe(): Promise<void> {
    this.probeTimer = null;
    if (this.exit) return;
    const result = await probeOnce(this.options.probe);
    if (this.exit || this.gone) return;
    const wasReady = this.ready;
    const detail = this.probeDetail;
    this.probeDetail = result.detail;
    if (result.ok) {
      this.failures = 0;
      if (!this.stopping) {
        this.ready = true;
        this.readyAt ??= Date.now();
      }
    } else if (this.readyAt === null || ++this.failures >= FAILURE_THRESHOLD) {
      this.ready = false;
    }
    if (this.ready !== wasReady || detail !== this.probeDetail) this.options.onChange();
    this.scheduleProbe(this.readyAt === null ? STARTUP_PROBE_MS : this.options.periodMs);
  }
}
