import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import pg from 'pg';
import type { AppStatus } from '../../core/app.js';
import type { AppStateFile } from './app-state-file.js';
import { LocalAppRuntime } from './local-app-runtime.js';
import { findPostgres } from './postgres-binaries.js';
import { stopRecordedGroup } from './process-group.js';
import { appSpec, echoService, getJson, isAlive, replicaPids, tempStateDir, TESTDATA } from './testing/helpers.js';

/**
 * topas dies with SIGKILL (no close()): the next runtime's first apply of the App stops
 * what the dead one left running, reuses its data and ports, and runs initSQL no
 * second time. The dead topas is a child process (`testing/runtime-child.ts`).
 */

const CHILD = fileURLToPath(new URL('./testing/runtime-child.ts', import.meta.url));
const postgres = findPostgres(process.env.PATH ?? '');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Runs a runtime in a child process until the App is ready; returns what it printed and a SIGKILL. */
async function runtimeInChild(stateDir: string, app: string, spec: unknown): Promise<{ status: AppStatus; state: AppStateFile; kill9: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, app, TESTDATA, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`the runtime child exited with code ${code}: ${stderr}`)));
  });
  const kill9 = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const printed = JSON.parse(line) as { status: AppStatus; state: AppStateFile };
  // Should the test fail before the next runtime cleans up, its leftovers still go.
  cleanups.push(async () => {
    const recorded = [...Object.values(printed.state.services).flatMap((s) => s.processes), ...Object.values(printed.state.databases).flatMap((d) => (d.server ? [d.server] : []))];
    await Promise.all(recorded.map((rec) => stopRecordedGroup(rec, 1000)));
  });
  cleanups.push(kill9);
  return { ...printed, kill9 };
}

describe('LocalAppRuntime: a previous topas killed with SIGKILL', () => {
  it('is cleaned up by the next runtime, which keeps its data, ports and initSQL record', async ({ expect }) => {
    const state = tempStateDir();
    cleanups.push(state.remove);
    const credentials = { user: 'app', password: 'pw', dbname: 'appdb' };
    const spec = appSpec({
      services: [echoService({ replicas: 2, viaShell: true, env: { SPAWN_CHILD: '1' } })],
      databases: [{ name: 'db', credentials, initSQL: 'CREATE TABLE runs (at timestamptz DEFAULT now()); INSERT INTO runs DEFAULT VALUES;' }],
    });
    const before = await runtimeInChild(state.dir, 'survivor', spec);
    const engine = before.status.databases[0]!.engine;
    expect(engine).toBe(postgres.ok ? 'postgresql' : 'pglite');
    const dbPort = before.status.databases[0]!.endpoint!.port;
    const webPort = before.status.services[0]!.endpoint!.port;
    const children = (await Promise.all([0, 1, 2, 3].map(() => getJson({ host: '127.0.0.1', port: webPort })))).flatMap((a) => [a.pid, a.childPid!]);
    const leftovers = [...new Set([...replicaPids(before.status, 'web'), ...children, ...(before.state.databases.db?.server ? [before.state.databases.db.server.pid] : [])])];
    expect(before.state.services.web!.processes).toHaveLength(2);

    // Data written while the first topas ran.
    const db = new pg.Client({ host: '127.0.0.1', port: dbPort, user: credentials.user, password: credentials.password, database: credentials.dbname });
    await db.connect();
    await db.query('CREATE TABLE notes (text text); INSERT INTO notes VALUES ($$kept$$)');
    await db.end();

    await before.kill9();
    // Its processes outlive it (that is the problem being solved)...
    expect(leftovers.every(isAlive)).toBe(true);

    // ...until the next runtime applies the App.
    const runtime = new LocalAppRuntime({ stateDir: state.dir });
    cleanups.push(() => runtime.close());
    await runtime.apply({ name: 'survivor', generation: 1, spec, baseDir: TESTDATA });
    expect(leftovers.filter(isAlive)).toEqual([]);
    await runtime.waitReady('survivor', 'web', 20_000);

    const status = runtime.status('survivor')!;
    expect(status.services[0]!.endpoint!.port).toBe(webPort);
    expect(status.databases[0]).toMatchObject({ ready: true, engine, initializedAt: before.status.databases[0]!.initializedAt });
    expect(status.databases[0]!.endpoint!.port).toBe(dbPort);
    const check = new pg.Client({ host: '127.0.0.1', port: dbPort, user: credentials.user, password: credentials.password, database: credentials.dbname });
    await check.connect();
    expect((await check.query('SELECT count(*)::int AS n FROM runs')).rows).toEqual([{ n: 1 }]);
    expect((await check.query('SELECT text FROM notes')).rows).toEqual([{ text: 'kept' }]);
    await check.end();
    const fresh = replicaPids(status, 'web');
    expect(fresh.some((pid) => leftovers.includes(pid))).toBe(false);

    await runtime.close();
    expect(fresh.filter(isAlive)).toEqual([]);
  });
});
