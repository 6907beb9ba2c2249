/**
 * Helpers for the local App runtime's tests: a throw-away state folder, App specs
 * around the echo-service fixture (`../testdata/echo-service.js`), HTTP requests that
 * open a fresh connection each (so they go through the balancer every time), and
 * liveness checks that treat zombies as dead (an orphan reparented to an init that
 * does not reap stays a zombie, which `process.kill(pid, 0)` still reports).
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAppSpec, type AppSpec, type AppStatus, type Endpoint } from '../../../core/app.js';
import { isAlive } from '../process-group.js';

export const ECHO_SERVICE = fileURLToPath(new URL('../testdata/echo-service.js', import.meta.url));
export const TESTDATA = fileURLToPath(new URL('../testdata/', import.meta.url));

export { isAlive };

/** A fresh state folder, removed by the returned function. */
export function tempStateDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'topas-apps-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface EchoOptions {
  name?: string;
  version?: string;
  replicas?: number;
  env?: Record<string, string>;
  envVars?: Record<string, string>;
  extraPort?: number;
  /** Wrap the command in `sh -c` (a wrapper process with node as its child). */
  viaShell?: boolean;
}

/** A service spec running the echo fixture with an HTTP readiness probe. */
export function echoService(options: EchoOptions = {}): Record<string, unknown> {
  const node = process.execPath;
  const extra = options.extraPort ? ['--extra-port', '${port.extra}'] : [];
  const command = options.viaShell
    ? ['/bin/sh', '-c', `"${node}" "${ECHO_SERVICE}" --port "$PORT"${options.extraPort ? ' --extra-port ${port.extra}' : ''}; echo wrapper done`]
    : [node, ECHO_SERVICE, '--port', '${port}', ...extra];
  return {
    name: options.name ?? 'web',
    version: options.version ?? 'v1',
    replicas: options.replicas ?? 1,
    port: 8080,
    ...(options.extraPort ? { ports: [{ name: 'extra', port: options.extraPort }] } : {}),
    ...(options.envVars ? { envVars: options.envVars } : {}),
    local: {
      command,
      env: { APP_VERSION: '${version}', ...(options.env ?? {}) },
      readinessProbe: { httpGet: { path: '/healthz' } },
    },
  };
}

/** Validates a spec the way the API does (defaults applied). */
export function appSpec(input: { services?: unknown[]; databases?: unknown[] }): AppSpec {
  return parseAppSpec({ services: input.services ?? [], databases: input.databases ?? [] });
}

export interface EchoAnswer {
  version: string;
  port: number;
  pid: number;
  childPid: number | null;
  extra: boolean;
  env: Record<string, string>;
}

/** GET over a new connection; rejects on a network error or a non-2xx answer. */
export function getJson<T = EchoAnswer>(endpoint: Endpoint, path = '/', timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: endpoint.host, port: endpoint.port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${path}: ${res.statusCode} ${body}`));
        else {
          try {
            resolve(JSON.parse(body) as T);
          } catch (error) {
            reject(error as Error);
          }
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

/** Polls until `check` returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pids of a service's replica processes in a status. */
export function replicaPids(status: AppStatus | null, service: string): number[] {
  return (status?.services.find((s) => s.name === service)?.replicaStatuses ?? []).flatMap((r) => (r.pid === null ? [] : [r.pid]));
}

export function condition(status: AppStatus | null, type: string) {
  return status?.conditions.find((c) => c.type === type);
}
