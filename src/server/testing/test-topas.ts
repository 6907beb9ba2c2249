/** A real topas (PGlite in a temporary folder, local executor, HTTP on 127.0.0.1) for integration tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/config.js';
import type { Run } from '../../core/run.js';
import { isTerminal } from '../../core/run-phase.js';
import { startTopas, type RunningTopas, type StartOptions } from '../start.js';

export interface TestTopas extends RunningTopas {
  /** POST/GET helpers against the real server, sending the admin token (unless `init` sets Authorization). */
  post(path: string, body: unknown): Promise<Response>;
  get(path: string, init?: RequestInit): Promise<Response>;
  /** The admin token's secret (also in `<config.dataDir>/admin-token`, where the CLI finds it). */
  token: string;
  /** Polls the run until it is terminal. */
  waitForEnd(id: string, timeoutMs?: number): Promise<Run>;
}

/** `env`: TOPAS_* settings of this topas (e.g. `TOPAS_GIT_ALLOW_FILE`); none by default. `options`: timings and clocks (`StartOptions`). */
export async function startTestTopas(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestTopas> {
  const data = await mkdtemp(join(tmpdir(), 'topas-test-'));
  const topas = await startTopas(loadConfig({ port: 0, host: '127.0.0.1', data, examples: false, concurrency: 4, workers: 2 }, env), options);
  const token = topas.admin!.secret;
  const withToken = (init: RequestInit = {}): RequestInit => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return { ...init, headers };
  };
  const get = (path: string, init?: RequestInit) => fetch(topas.url + path, withToken(init));
  return {
    ...topas,
    token,
    get,
    post: (path, body) => fetch(topas.url + path, withToken({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })),
    async waitForEnd(id, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = (await (await get(`/api/runs/${id}`)).json()) as Run;
        if (isTerminal(run.phase)) return run;
        if (Date.now() > deadline) throw new Error(`run ${id} still ${run.phase} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close(graceMs?: number) {
      await topas.close(graceMs ?? 0);
      await rm(data, { recursive: true, force: true });
    },
  };
}
