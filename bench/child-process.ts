/**
 * A bench server in a child process (`topas-child.ts`, `echo-child.ts`), so the client
 * loop measuring it does not share its thread: spawned with `node [nodeArgs] <script>
 * [args]`, ready once it printed its first JSON line; further lines answer requests
 * written to its stdin. `close()` ends it by closing its stdin and waits for its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BenchChild<T> {
  /** What the child printed first (its URL, ...). */
  info: T;
  /** Writes one line to the child's stdin and resolves with its next line of output, parsed. */
  ask<R>(line: string): Promise<R>;
  close(): Promise<void>;
}

export async function startChild<T>(script: string, args: string[] = [], nodeArgs: string[] = []): Promise<BenchChild<T>> {
  const entry = fileURLToPath(new URL(script, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, entry, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`${script} exited with ${code}`)));
    });
  const info = JSON.parse(await next()) as T;
  return {
    info,
    async ask<R>(line: string) {
      const answer = next();
      child.stdin!.write(`${line}\n`);
      return JSON.parse(await answer) as R;
    },
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}
