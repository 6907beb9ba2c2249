import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { parseAppManifest, type AppSpec, type Endpoint } from '../../core/app.js';
import { LocalAppRuntime } from './local-app-runtime.js';
import { findPostgres } from './postgres-binaries.js';
import { appSpec, condition, echoService, eventually, getJson, isAlive, replicaPids, tempStateDir, TESTDATA } from './testing/helpers.js';

/**
 * Databases of an App on real engines: a local PostgreSQL server (with the demo
 * service from examples/apps/demo on it) and PGlite. The PostgreSQL test needs
 * initdb/postgres installed (as root: a postgres system user); it is skipped otherwise.
 */

const DEMO = fileURLToPath(new URL('../../../examples/apps/demo/', import.meta.url));
const postgresAvailable = findPostgres(process.env.PATH ?? '');

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** An HTTP request over a new connection: status and parsed JSON body. */
function request(endpoint: Endpoint, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: endpoint.host, port: endpoint.port, method, path, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Calls the demo's gRPC EchoService.Echo through an endpoint. */
async function grpcEcho(endpoint: Endpoint, message: string): Promise<{ message: string; version: string }> {
  const definition = protoLoader.loadSync(join(DEMO, 'demo.proto'), { keepCase: false, longs: String, enums: String, defaults: true });
  const proto = grpc.loadPackageDefinition(definition).topas as unknown as { EchoService: grpc.ServiceClientConstructor };
  const client = new proto.EchoService(`${endpoint.host}:${endpoint.port}`, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) =>
      (client as unknown as { Echo: (req: unknown, cb: (err: Error | null, res: { message: string; version: string }) => void) => void }).Echo({ message }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  } finally {
    client.close();
  }
}

async function query<T extends Record<string, unknown>>(config: pg.ClientConfig, sql: string): Promise<T[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.concurrent('LocalAppRuntime: databases', () => {
  it.skipIf(!postgresAvailable.ok)('runs the demo service on a local PostgreSQL; initSQL runs once across a runtime restart; data survives', async ({ expect }) => {
    const state = tempStateDir();
    cleanups.push(state.remove);
    // The demo App as users apply it (examples/apps/demo/app.yaml), plus a table that counts initSQL runs.
    const manifest = parseAppManifest(parseYaml(readFileSync(join(DEMO, 'app.yaml'), 'utf8')));
    const spec: AppSpec = manifest.spec;
    const database = spec.databases[0]!;
    database.initSQL = `${database.initSQL}\nCREATE TABLE init_runs (at timestamptz NOT NULL DEFAULT now());\nINSERT INTO init_runs DEFAULT VALUES;\n`;
    const credentials = database.credentials;
    const first = new LocalAppRuntime({ stateDir: state.dir });
    cleanups.push(() => first.close());
    await first.apply({ name: 'demo', generation: 1, spec, baseDir: DEMO });

    // Databases are ready (initSQL applied) by the time apply resolves.
    const db = first.status('demo')!.databases[0]!;
    expect(db).toMatchObject({ name: 'users-db', ready: true, engine: 'postgresql' });
    expect(db.initializedAt).toEqual(expect.any(String));
    expect(db.message).toMatch(/PostgreSQL \d+/);
    const dbEndpoint = first.endpoint('demo', 'users-db')!;
    const dbConfig = { host: dbEndpoint.host, port: dbEndpoint.port, ...credentials, database: credentials.dbname, user: credentials.user };
    expect(await query(dbConfig, 'SELECT count(*)::int AS n FROM init_runs')).toEqual([{ n: 1 }]);
    await expect(query({ ...dbConfig, password: 'wrong' }, 'SELECT 1')).rejects.toThrow(/password authentication failed/);

    await first.waitReady('demo', 'users', 20_000);
    const api = first.endpoint('demo', 'users')!;
    expect(await request(api, 'POST', '/api/users', { name: 'alice', role: 'admin' })).toMatchObject({ status: 201 });
    expect(await request(api, 'GET', '/api/users/alice')).toMatchObject({ status: 200, body: { name: 'alice', role: 'admin' } });
    expect(await grpcEcho(first.endpoint('demo', 'users', 50051)!, 'hi')).toEqual({ message: 'hi', version: 'v1' });

    const stateFile = join(state.dir, 'demo', 'state.json');
    const recorded = JSON.parse(readFileSync(stateFile, 'utf8')) as { databases: Record<string, { port: number; server: { pid: number } }> };
    const postmaster = recorded.databases['users-db']!.server.pid;
    const pids = [...replicaPids(first.status('demo'), 'users'), postmaster];
    expect(pids.every(isAlive)).toBe(true);

    await first.close();
    expect(pids.filter(isAlive)).toEqual([]);

    // A new runtime on the same state folder: same data, initSQL not run again, same port.
    const second = new LocalAppRuntime({ stateDir: state.dir });
    cleanups.push(() => second.close());
    await second.apply({ name: 'demo', generation: 1, spec, baseDir: DEMO });
    const again = second.status('demo')!.databases[0]!;
    expect(again).toMatchObject({ ready: true, initializedAt: db.initializedAt });
    expect(second.endpoint('demo', 'users-db')).toEqual(dbEndpoint);
    expect(await query(dbConfig, 'SELECT count(*)::int AS n FROM init_runs')).toEqual([{ n: 1 }]);
    await second.waitReady('demo', 'users', 20_000);
    expect(await request(second.endpoint('demo', 'users')!, 'GET', '/api/users/alice')).toMatchObject({ status: 200, body: { name: 'alice' } });

    const secondPids = [...replicaPids(second.status('demo'), 'users'), (JSON.parse(readFileSync(stateFile, 'utf8')) as typeof recorded).databases['users-db']!.server.pid];
    await second.delete('demo');
    expect(secondPids.filter(isAlive)).toEqual([]);
    expect(existsSync(join(state.dir, 'demo'))).toBe(false);
  });

  it('serves a database with PGlite when asked; a failing initSQL is reported and retried; a removed database is deleted', async ({ expect }) => {
    const state = tempStateDir();
    cleanups.push(state.remove);
    const runtime = new LocalAppRuntime({ stateDir: state.dir, databaseEngine: 'pglite' });
    cleanups.push(() => runtime.close());
    const credentials = { user: 'shopper', password: 'secret', dbname: 'shop' };
    const broken = 'CREATE TABLE items (id int PRIMARY KEY, name text);\nINSERT INTO items VALUES (1, (;\n';
    const fixed = "CREATE TABLE items (id int PRIMARY KEY, name text);\nINSERT INTO items VALUES (1, 'apple');\n";
    const specWith = (initSQL: string) => appSpec({ services: [echoService()], databases: [{ name: 'store', credentials, initSQL }] });

    await runtime.apply({ name: 'shop', generation: 1, spec: specWith(broken), baseDir: TESTDATA });
    let status = runtime.status('shop')!;
    expect(status.databases[0]).toMatchObject({ name: 'store', engine: 'pglite', ready: false, initializedAt: null });
    expect(status.databases[0]!.message).toMatch(/^store: initSQL failed at line 2: syntax error at or near/);
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'True', reason: 'InitSQLFailed' });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'DatabasesNotReady' });

    // Services still start, with the database's URL.
    await runtime.waitReady('shop', 'web', 15_000);
    const endpoint = runtime.endpoint('shop', 'store')!;
    const env = (await getJson(runtime.endpoint('shop', 'web')!)).env;
    const url = `postgres://shopper:secret@127.0.0.1:${endpoint.port}/shop`;
    expect(env.DATABASE_URL).toBe(url);
    expect(env.DATABASE_URL_STORE).toBe(url);

    await runtime.apply({ name: 'shop', generation: 2, spec: specWith(fixed), baseDir: TESTDATA });
    status = runtime.status('shop')!;
    expect(status.databases[0]).toMatchObject({ ready: true, engine: 'pglite', initializedAt: expect.any(String) });
    expect(status.databases[0]!.message).toContain('one session at a time');
    expect(await query({ connectionString: url }, 'SELECT id, name FROM items')).toEqual([{ id: 1, name: 'apple' }]);
    await eventually('Degraded cleared', () => condition(runtime.status('shop'), 'Degraded')?.status === 'False');

    // Applied once: applying again does not run it (it would fail on the existing table).
    await runtime.apply({ name: 'shop', generation: 3, spec: specWith(fixed), baseDir: TESTDATA });
    expect(runtime.status('shop')!.databases[0]).toMatchObject({ ready: true, initializedAt: status.databases[0]!.initializedAt });

    // Pruned: the database and its data go; the service rolls (its DATABASE_URL is gone).
    await runtime.apply({ name: 'shop', generation: 4, spec: appSpec({ services: [echoService()] }), baseDir: TESTDATA });
    expect(runtime.endpoint('shop', 'store')).toBeNull();
    expect(runtime.status('shop')!.databases).toEqual([]);
    expect(existsSync(join(state.dir, 'shop', 'databases', 'store'))).toBe(false);
    await runtime.waitReady('shop', 'web', 15_000);
    expect((await getJson(runtime.endpoint('shop', 'web')!)).env.DATABASE_URL).toBeUndefined();
  });
});
