import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson } from '../core/canonical-json.js';
import { parseAppSpec, type AppSpec, type AppStatus, type Endpoint, type ServiceStatus } from '../core/app.js';
import type { AppRuntime } from './app-runtime.js';

/** How long things may take on this runtime (Pods on a cluster start slower than local processes). */
export interface AppRuntimeContractTimings {
  /** A service's rollout (start, version change, restart, a killed replica replaced) ends within this. Default 30 000. */
  readyMs: number;
  /** A change the runtime makes without a rollout (status after a prune or a delete) shows within this. Default 15 000. */
  settleMs: number;
}

/** What the contract runs against: a factory of one runtime, and its clean-up. */
export interface AppRuntimeContractTarget {
  /** The runtime under test (created once for the whole suite). */
  create(): Promise<AppRuntime>;
  /** Called once after the suite, after `runtime.close()`. */
  dispose?(): Promise<void>;
  timings?: Partial<AppRuntimeContractTimings>;
  /** Why the suite cannot run here (e.g. no PostgreSQL binaries); it is skipped when set. */
  skip?: string | null;
}

/** The demo service's folder (`examples/apps/demo`): `local.command` runs its server.js there. */
export const DEMO_DIR = fileURLToPath(new URL('../../examples/apps/demo/', import.meta.url));

const APP = 'contract';
const SERVICE = 'users';
const DATABASE = 'users-db';
const CREDENTIALS = { user: 'admin', password: 's3cret-pass', dbname: 'users' };
/** The demo's table, and one row the service must serve (so initSQL is seen through the service). */
const INIT_SQL = `CREATE TABLE IF NOT EXISTS users (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  role       text NOT NULL DEFAULT 'viewer',
  labels     jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (name, role) VALUES ('seeded', 'admin') ON CONFLICT DO NOTHING;
`;
/** The line the demo server prints once per process start. */
const STARTUP = 'demo service listening';

/**
 * The demo App (examples/apps/demo/app.yaml): the users service (2 replicas) over one
 * database. The same spec runs on both runtimes: a cluster runs the image
 * `topas/demo-users:<version>`, the local runtime `local.command` in `DEMO_DIR`.
 */
export function demoAppSpec(o: { version: string; database?: boolean }): AppSpec {
  return parseAppSpec({
    databases: o.database === false ? [] : [{ name: DATABASE, image: 'postgres:16-alpine', port: 5432, credentials: CREDENTIALS, initSQL: INIT_SQL }],
    services: [
      {
        name: SERVICE,
        image: 'topas/demo-users',
        version: o.version,
        replicas: 2,
        port: 8080,
        ports: [{ name: 'grpc', port: 50051 }],
        local: {
          command: [process.execPath, 'server.js', '--port', '${port}', '--grpc-port', '${port.grpc}'],
          cwd: '.',
          env: { APP_VERSION: '${version}' },
          readinessProbe: { httpGet: { path: '/healthz' } },
        },
      },
    ],
  });
}

/** One HTTP GET over a new connection (so each goes through the service's balancer / kube-proxy). */
export function httpGet(endpoint: Endpoint, path: string, timeoutMs = 10_000): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: endpoint.host, port: endpoint.port, path, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

/** Opens and closes a TCP connection (the endpoint listens). */
function connect(endpoint: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port }, () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}

/** Runs one query on a database endpoint with the demo's credentials. */
async function query<T extends Record<string, unknown>>(endpoint: Endpoint, sql: string): Promise<T[]> {
  const client = new pg.Client({ host: endpoint.host, port: endpoint.port, ...CREDENTIALS, database: CREDENTIALS.dbname, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Lines of `seen` that are not in `before` (as multisets: a repeated line counts as new). */
function newLines(before: string[], seen: string[]): string[] {
  const left = new Map<string, number>();
  for (const line of before) left.set(line, (left.get(line) ?? 0) + 1);
  return seen.filter((line) => {
    const n = left.get(line) ?? 0;
    if (n === 0) return true;
    left.set(line, n - 1);
    return false;
  });
}

/**
 * The behaviour every `AppRuntime` (local processes, the App resource on a cluster)
 * shows through its API: one App taken through its life — apply, ready, endpoints,
 * an idempotent re-apply, a version rollout, a killed replica replaced, a rolling
 * restart, logs, a pruned database, delete. Each implementation calls this from its
 * own test file with a target. The cases run in order and share the App.
 */
export function describeAppRuntimeContract(name: string, target: AppRuntimeContractTarget): void {
  const t: AppRuntimeContractTimings = { readyMs: 30_000, settleMs: 15_000, ...target.timings };
  // Each case waits for at most a few rollouts and settles.
  const caseMs = 3 * t.readyMs + 2 * t.settleMs;
  describe.skipIf(Boolean(target.skip)).sequential(`AppRuntime contract: ${name}`, () => {
    let runtime: AppRuntime;
    /** Generations as a store would count them, for runtimes that keep no records. */
    let generation = 0;
    let lastSpec = '';

    beforeAll(async () => {
      runtime = await target.create();
    }, 120_000);
    afterAll(async () => {
      await runtime?.delete(APP).catch(() => {});
      await runtime?.close();
      await target.dispose?.();
    }, 120_000);

    /** What the App controller does on `topas app apply`: the runtime's record first (when it keeps one), then apply. */
    const apply = async (spec: AppSpec) => {
      const written = await runtime.records?.write({ name: APP, spec, labels: {}, annotations: {} });
      if (canonicalJson(spec) !== lastSpec) generation++;
      lastSpec = canonicalJson(spec);
      await runtime.apply({ name: APP, generation: written?.generation ?? generation, spec, baseDir: DEMO_DIR });
    };
    const service = (status: AppStatus | null): ServiceStatus | undefined => status?.services.find((s) => s.name === SERVICE);
    const endpoint = () => {
      const e = runtime.endpoint(APP, SERVICE);
      if (!e) throw new Error(`no endpoint for ${SERVICE}; status: ${JSON.stringify(runtime.status(APP))}`);
      return e;
    };
    /** The service's startup lines as `logs()` shows them (one per replica process or Pod that started). */
    const startups = async () => (await runtime.logs(APP, SERVICE)).filter((line) => line.includes(STARTUP));
    /** Waits until both replicas are ready and none other is around (a replaced Pod gone, a new process ready). */
    const settledReady = () =>
      vi.waitFor(
        () => {
          const s = service(runtime.status(APP));
          expect(s, JSON.stringify(s)).toMatchObject({ replicas: 2, readyReplicas: 2 });
          expect(s?.message).toBeUndefined();
          if (s?.updatedReplicas !== undefined) expect(s.updatedReplicas).toBe(2);
          if (s?.replicaStatuses) expect(s.replicaStatuses.map((r) => r.ready)).toEqual([true, true]);
          return s!;
        },
        { timeout: t.readyMs, interval: 100 },
      );
    /** `count` GETs over new connections: the versions the service answered with. */
    const versions = async (count: number) => {
      const seen: string[] = [];
      for (let i = 0; i < count; i++) {
        const res = await httpGet(endpoint(), '/healthz');
        expect(res.status).toBe(200);
        seen.push(String(res.headers['x-app-version']));
      }
      return seen;
    };

    it('applies an App (a service of 2 replicas, a database with initSQL): waitReady resolves with 2 ready replicas; onStatus hears it', async () => {
      const heard: AppStatus[] = [];
      const off = runtime.onStatus((name, status) => {
        if (name === APP) heard.push(status);
      });
      try {
        await apply(demoAppSpec({ version: 'v1' }));
        const ready = await runtime.waitReady(APP, SERVICE, t.readyMs);
        expect(ready).toMatchObject({ name: SERVICE, version: 'v1', replicas: 2, readyReplicas: 2 });
        // What topas persists (and `topas app status` shows) comes from these notifications.
        await vi.waitFor(() => expect(heard.some((s) => service(s)?.readyReplicas === 2)).toBe(true), { timeout: t.settleMs, interval: 100 });
      } finally {
        off();
      }
    }, caseMs);

    it('status shows the service (version, replicas, ready replicas, endpoint) and the database ready, initSQL applied', async () => {
      const status = runtime.status(APP);
      expect(service(status)).toMatchObject({ name: SERVICE, version: 'v1', replicas: 2, readyReplicas: 2, endpoint: { host: expect.any(String), port: expect.any(Number) } });
      // On a cluster the database's status follows its init Job; locally initSQL is applied before `apply` resolves.
      const database = await vi.waitFor(
        () => {
          const d = runtime.status(APP)?.databases.find((x) => x.name === DATABASE);
          expect(d, JSON.stringify(d)).toMatchObject({ ready: true, initializedAt: expect.any(String), endpoint: { host: expect.any(String), port: expect.any(Number) } });
          return d!;
        },
        { timeout: t.readyMs, interval: 100 },
      );
      expect(runtime.endpoint(APP, DATABASE)).toEqual(database.endpoint);
      // The database answers at its endpoint with the spec's credentials, with what initSQL made.
      expect(await query(database.endpoint!, 'SELECT name, role FROM users ORDER BY id')).toEqual([{ name: 'seeded', role: 'admin' }]);
    }, caseMs);

    it("the service's endpoint answers: /healthz 200 on v1, and the service reads the database", async () => {
      const e = endpoint();
      expect(service(runtime.status(APP))?.endpoint).toEqual(e);
      const health = await httpGet(e, '/healthz');
      expect(health).toMatchObject({ status: 200, body: { status: 'ok', version: 'v1' } });
      expect(health.headers['x-app-version']).toBe('v1');
      const users = await httpGet(e, '/api/users');
      expect(users.status).toBe(200);
      expect(users.body.items.map((u: { name: string }) => u.name)).toEqual(['seeded']);
      // The extra port (gRPC) has its own endpoint, which accepts connections; the main port's number names the main endpoint.
      const grpcEndpoint = runtime.endpoint(APP, SERVICE, 50051);
      expect(grpcEndpoint).toEqual(service(runtime.status(APP))?.ports?.grpc);
      await connect(grpcEndpoint!);
      expect(runtime.endpoint(APP, SERVICE, 8080)).toEqual(e);
      // An unknown name has no endpoint.
      expect(runtime.endpoint(APP, 'nope')).toBeNull();
      expect(runtime.endpoint('no-such-app', SERVICE)).toBeNull();
    }, caseMs);

    it('applying the same spec again restarts nothing', async () => {
      const before = { status: service(runtime.status(APP))!, observedGeneration: runtime.status(APP)?.observedGeneration, startups: await startups() };
      expect(before.startups).toHaveLength(2);
      await apply(demoAppSpec({ version: 'v1' }));
      const ready = await runtime.waitReady(APP, SERVICE, t.readyMs);
      expect(ready).toMatchObject({ version: 'v1', replicas: 2, readyReplicas: 2, restarts: before.status.restarts });
      expect(runtime.status(APP)?.observedGeneration).toBe(before.observedGeneration);
      // The same replicas: no process or Pod started since (each start prints a line, locally with its port, on a cluster under its Pod's name).
      expect(await startups()).toEqual(before.startups);
      expect(service(runtime.status(APP))?.endpoint).toEqual(before.status.endpoint);
    }, caseMs);

    it('a new version: waitReady resolves once every replica runs it, and every answer says v2', async () => {
      await apply(demoAppSpec({ version: 'v2' }));
      const ready = await runtime.waitReady(APP, SERVICE, t.readyMs);
      expect(ready).toMatchObject({ version: 'v2', replicas: 2, readyReplicas: 2 });
      if (ready.updatedReplicas !== undefined) expect(ready.updatedReplicas).toBe(2);
      expect(service(runtime.status(APP))).toMatchObject({ version: 'v2', readyReplicas: 2 });
      expect(await versions(6)).toEqual(Array(6).fill('v2'));
      expect((await httpGet(endpoint(), '/api/version')).body).toEqual({ version: 'v2' });
    }, caseMs);

    it('a killed replica is replaced: the service comes back to 2 ready replicas', async () => {
      await settledReady();
      const before = await startups();
      const killed = await runtime.kill(APP, SERVICE, 0);
      // What names the replica differs: locally the process's pid, on a cluster the Pod's name (pid null).
      expect(killed.pid !== null || typeof killed.pod === 'string').toBe(true);
      // A new replica started (locally the restarted process, on a cluster the ReplicaSet's new Pod)...
      await vi.waitFor(async () => expect(newLines(before, await startups())).toHaveLength(1), { timeout: t.readyMs, interval: 200 });
      // ...and the service is whole again.
      await settledReady();
      expect(await runtime.waitReady(APP, SERVICE, t.readyMs)).toMatchObject({ version: 'v2', readyReplicas: 2 });
      expect(await versions(4)).toEqual(Array(4).fill('v2'));
    }, caseMs);

    it('restart resolves once every replica was replaced by a ready one', async () => {
      await settledReady();
      const before = await startups();
      await runtime.restart(APP, SERVICE);
      // No waiting here: a test that restarts a service and goes on must meet only new replicas.
      expect(newLines(before, await startups()).length).toBeGreaterThanOrEqual(2);
      expect(await runtime.waitReady(APP, SERVICE, t.readyMs)).toMatchObject({ version: 'v2', replicas: 2, readyReplicas: 2 });
      await settledReady();
      expect(await versions(4)).toEqual(Array(4).fill('v2'));
    }, caseMs);

    it("logs returns the service's output, tail limits it", async () => {
      const lines = await runtime.logs(APP, SERVICE);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.some((l) => l.includes(STARTUP) && l.includes('"version":"v2"'))).toBe(true);
      expect(await runtime.logs(APP, SERVICE, { tail: 1 })).toHaveLength(1);
    }, caseMs);

    it('a database removed from the spec is pruned: gone from status, no endpoint, no longer answers', async () => {
      const old = runtime.endpoint(APP, DATABASE)!;
      expect(old).not.toBeNull();
      // The service keeps its replicas; without a database its new ones would not become ready, so only the database is checked.
      await apply(demoAppSpec({ version: 'v2', database: false }));
      await vi.waitFor(
        () => {
          const status = runtime.status(APP);
          expect(status?.databases.map((d) => d.name)).toEqual([]);
          expect(runtime.endpoint(APP, DATABASE)).toBeNull();
        },
        { timeout: t.settleMs, interval: 100 },
      );
      await vi.waitFor(() => expect(query(old, 'SELECT 1')).rejects.toThrow(), { timeout: t.settleMs, interval: 200 });
      // The service's replicas of this spec have no database to answer /healthz with: waitReady says it is not ready.
      const started = Date.now();
      await expect(runtime.waitReady(APP, SERVICE, 2000)).rejects.toMatchObject({ code: 'NotReady' });
      expect(Date.now() - started).toBeLessThan(2000 + t.settleMs);
    }, caseMs);

    it('delete removes the App: no status, no endpoints, the service no longer answers', async () => {
      const old = endpoint();
      await runtime.delete(APP);
      await vi.waitFor(
        () => {
          expect(runtime.status(APP)).toBeNull();
          expect(runtime.endpoint(APP, SERVICE)).toBeNull();
        },
        { timeout: t.settleMs, interval: 100 },
      );
      await vi.waitFor(() => expect(httpGet(old, '/healthz', 2000)).rejects.toThrow(), { timeout: t.settleMs, interval: 200 });
    }, caseMs);
  });
}
