import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `topas` command of this checkout. */
export const TOPAS_BIN = fileURLToPath(new URL('../bin/topas.js', import.meta.url));

export interface TopasProcess {
  url: string;
  /** The admin token the process wrote to its data folder (null with --insecure-no-auth). */
  token: string | null;
  /** The one-time dashboard login URL it printed (null with --insecure-no-auth). */
  loginUrl: string | null;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string | null>;
}

export interface TopasProcessOptions {
  /** The `topas` executable (default: this checkout's bin/topas.js, run by this Node.js). */
  bin?: string;
  /** Working folder (default: this process's). */
  cwd?: string;
  /** How long it may take to print its URL (default 30 s); then it is killed. */
  startTimeoutMs?: number;
}

/** Starts `topas up` as a real child process on a free port and waits for its URL. */
export async function startTopasProcess(args: string[], env: Record<string, string> = {}, options: TopasProcessOptions = {}): Promise<TopasProcess> {
  const [command, prefix] = options.bin ? [options.bin, []] : [process.execPath, [TOPAS_BIN]];
  const child = spawn(command, [...prefix, 'up', '--port', '0', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`topas did not start in ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    const check = () => {
      const m = /https?:\/\/127\.0\.0\.1:\d+/.exec(out);
      // the dashboard line (with the login URL) follows the first one
      if (m && /^\s*dashboard:.*\n/m.test(out)) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`topas exited (${code}) before it started:\n${out}`));
    });
  });
  const loginUrl = /^\s*dashboard:\s+(\S+\?token=\S+)/m.exec(out)?.[1] ?? null;
  const token = loginUrl ? readAdminToken(args, env) : null;
  if (token) adminTokens.set(new URL(url).origin, token);
  return { url, token, loginUrl, child, output: () => out, exited };
}

/** The admin token in the data folder of `topas up ...args` (--data, else TOPAS_DATA_DIR, else ./.topas). */
function readAdminToken(args: string[], env: Record<string, string>): string {
  const i = args.indexOf('--data');
  const dir = i >= 0 ? args[i + 1]! : (env.TOPAS_DATA_DIR ?? process.env.TOPAS_DATA_DIR ?? '.topas');
  return readFileSync(join(resolve(dir), 'admin-token'), 'utf8').trim();
}

/** Admin tokens of the processes started here, by origin: what `api()` sends. */
const adminTokens = new Map<string, string>();

/** Makes `api()` send `token` to the topas at `url` (one started in-process, by `startTopas`). */
export function useToken(url: string, token: string): void {
  adminTokens.set(new URL(url).origin, token);
}

/**
 * Calls the API of a topas started by `startTopasProcess`, with its admin token
 * (`token: null` sends none; a string sends that one instead).
 */
export async function api<T = any>(url: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<{ status: number; body: T }> {
  const token = init?.token === undefined ? adminTokens.get(new URL(url).origin) : init.token;
  const headers: Record<string, string> = init?.body ? { 'content-type': 'application/json' } : {};
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method: init?.method ?? (init?.body ? 'POST' : 'GET'),
    headers,
    body: init?.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
