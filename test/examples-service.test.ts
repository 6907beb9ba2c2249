/**
 * The example tests against the demo service, end to end: a real PostgreSQL
 * database with the demo's initSQL, the demo service as a real process (HTTP + gRPC
 * with reflection), and examples/service-tests/users.lua run by a real topas with the
 * files of its folder (lib/, postman/) — exercising net, net.grpc, db, postman,
 * expect, eventually, hooks and require together.
 *
 * Needs a PostgreSQL server (TEST_DATABASE_URL): the demo and the test each hold
 * their own connections, which PGlite's single-session socket cannot serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAppFile } from '../src/apps/app-file.js';
import { loadConfig } from '../src/config/config.js';
import { isTerminal } from '../src/core/run-phase.js';
import { bundleTestFolder } from '../src/runner/test-folder.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';

const baseUrl = process.env.TEST_DATABASE_URL;
const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

describe.skipIf(!baseUrl)('example tests against the demo service (needs TEST_DATABASE_URL)', () => {
  const dbName = `topas_demo_${process.pid}_${Date.now() % 100000}`;
  let dbUrl: string;
  let demo: ChildProcess;
  let ports: { http: number; grpc: number };
  let topas: RunningTopas;
  let data: string;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(baseUrl!);
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const [demoApp] = await readAppFile(root('examples/apps/demo/app.yaml'));
    await db.query(demoApp!.spec.databases[0]!.initSQL!);
    await db.end();

    demo = spawn(process.execPath, [root('examples/apps/demo/server.js'), '--port', '0', '--grpc-port', '0'], {
      env: { ...process.env, DATABASE_URL: dbUrl, APP_VERSION: 'v1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    demo.stderr!.on('data', (d) => (out += d));
    ports = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo service did not start:\n${out}`)), 20_000);
      demo.stdout!.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.includes('demo service listening'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      demo.on('exit', (code) => reject(new Error(`demo service exited (${code}):\n${out}`)));
    });
    data = await mkdtemp(join(tmpdir(), 'topas-examples-'));
    topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
  }, 90_000);

  afterAll(async () => {
    await topas?.close(0);
    demo?.kill('SIGTERM');
    if (demo && demo.exitCode === null) await new Promise((r) => demo.once('exit', r));
    if (data) await rm(data, { recursive: true, force: true });
    if (baseUrl) {
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('examples/service-tests/users.lua passes, every test and step recorded', async () => {
    const script = root('examples/service-tests/users.lua');
    const run = await topas.engine.submit({
      origin: 'cli',
      script: await readFile(script, 'utf8'),
      fileName: 'users.lua',
      files: await bundleTestFolder(script),
      env: { BASE_URL: `http://127.0.0.1:${ports.http}`, GRPC_TARGET: `127.0.0.1:${ports.grpc}`, DB_URL: dbUrl },
      timeoutSeconds: 60,
    });
    const done = await new Promise<import('../src/core/run.js').Run>((resolve) => {
      const stop = topas.engine.subscribe(run.id, (n) => {
        if (n.type === 'phase' && isTerminal(n.run.phase)) {
          stop();
          resolve(n.run);
        }
      });
    });
    const steps = await topas.store.getSteps(run.id);
    const failed = await topas.store.getAssertions(run.id, { failedOnly: true });
    expect(done.phase, `${done.message}\n${failed.map((a) => `${a.message} (${a.file}:${a.line})`).join('\n')}`).toBe('Passed');
    expect(steps.filter((s) => s.kind === 'test').map((s) => s.name)).toEqual([
      'seeded users are served over HTTP',
      'a user created over HTTP is in the database',
      'gRPC by reflection',
      'the Postman collection passes',
      'the service stays healthy',
      'final state',
    ]);
    expect(done.summary.assertionsPassed).toBeGreaterThan(15);
    expect(done.summary.assertionsFailed).toBe(0);
  }, 60_000);
});
