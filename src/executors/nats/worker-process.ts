/**
 * TEST-ONLY. `topas worker` as a real child process (`bin/topas.js worker`), its
 * output kept line by line so a test can wait for what it prints (never for time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkQueueNames } from './work-queue.js';

const BIN = fileURLToPath(new URL('../../../bin/topas.js', import.meta.url));

export interface WorkerProcess {
  pid: number;
  /** stdout and stderr lines so far. */
  readonly lines: string[];
  /** Resolves with the first line (past or future) that matches. */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  /** Sends a signal; resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(url: string, names: WorkQueueNames, args: string[] = [], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker', '--nats', url, '--nats-stream', names.stream, '--nats-subject', names.subject, ...args], {
    env: { ...process.env, NO_COLOR: '1', TOPAS_LOG_LEVEL: 'debug', TOPAS_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const take = (chunk: Buffer, rest: { text: string }) => {
    rest.text += chunk.toString();
    const parts = rest.text.split('\n');
    rest.text = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      waiters = waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
    }
  };
  const out = { text: '' };
  const err = { text: '' };
  child.stdout!.on('data', (c: Buffer) => take(c, out));
  child.stderr!.on('data', (c: Buffer) => take(c, err));
  const worker: WorkerProcess = {
    pid: child.pid!,
    lines,
    waitForLine(test) {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void exit.then(() => reject(new Error(`the worker exited; its output:\n${lines.join('\n')}`)));
      });
    },
    async kill(signal) {
      if (!exited) child.kill(signal);
      await exit;
    },
  };
  await worker.waitForLine((l) => l.startsWith('topas worker pulling runs'));
  return worker;
}
