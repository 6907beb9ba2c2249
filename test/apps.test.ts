/**
 * Apps end to end on a real topas: an App applied over the REST API runs as real
 * processes (the echo fixture behind a balancer) and a real PostgreSQL database with
 * its initSQL; runs that target it reach its names as host names, change it with
 * `sut`, are serialized per App, and every process is gone after a delete or a stop.
 * Also: the design document's walk-through (`examples/tests/upgrade_test.lua` on the
 * demo App) passes, and the `sut` reference page's examples run as written.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAppFile } from '../src/apps/app-file.js';
import { findPostgres } from '../src/apps/local/postgres-binaries.js';
import { ECHO_SERVICE, isAlive } from '../src/apps/local/testing/helpers.js';
import { loadConfig } from '../src/config/config.js';
import type { App } from '../src/core/app.js';
import type { Run } from '../src/core/run.js';
import { isTerminal } from '../src/core/run-phase.js';
import type { RunRequest } from '../src/engine/engine.js';
import { bundleTestFolder } from '../src/runner/test-folder.js';
import { docExamples } from '../src/runner/testing/doc-examples.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';

const root = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** The App the `sut` reference page is written against. */
const docsApp = {
  apiVersion: 'topas.dev/v1alpha1',
  kind: 'App',
  metadata: { name: 'docs' },
  spec: {
    services: [
      {
        name: 'echo',
        version: 'v1',
        replicas: 2,
        port: 80,
        local: { command: [process.execPath, ECHO_SERVICE, '--port', '${port}'], env: { APP_VERSION: '${version}' }, readinessProbe: { httpGet: { path: '/healthz' } } },
      },
    ],
    databases: [{ name: 'store', credentials: { user: 'docs', password: 'docs-pass', dbname: 'notes' }, initSQL: 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);' }],
  },
};

describe('Apps on a real topas', () => {
  let topas: RunningTopas;
  let data: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${topas.admin!.secret}` };
    const res = await fetch(topas.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };

  const waitReady = async (name: string, timeoutMs = 60_000): Promise<App> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await api('GET', `/api/apps/${name}`);
      const app = json as App;
      if (app.status.observedGeneration === app.metadata.generation && app.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return app;
      if (Date.now() > deadline) throw new Error(`App ${name} not ready: ${JSON.stringify(app.status)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const runToEnd = async (request: Omit<RunRequest, 'origin'>): Promise<Run> => {
    const run = await topas.engine.submit({ origin: 'api', timeoutSeconds: 90, ...request });
    return waitEnd(run.id);
  };

  const waitEnd = (id: string): Promise<Run> =>
    new Promise<Run>((resolve, reject) => {
      const stop = topas.engine.subscribe(id, (n) => {
        if (n.type === 'phase' && isTerminal(n.run.phase)) {
          stop();
          resolve(n.run);
        }
      });
      void topas.store.getRun(id).then((r) => {
        if (r && isTerminal(r.phase)) {
          stop();
          resolve(r);
        }
      }, reject);
    });

  const why = async (run: Run) => {
    const failed = await topas.store.getAssertions(run.id, { failedOnly: true });
    const logs = await topas.store.getLogs(run.id);
    return `${run.phase}: ${run.message}\n${failed.map((a) => `${a.message} (${a.file}:${a.line})`).join('\n')}\n${logs.map((l) => l.message).join('\n')}`;
  };

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'topas-apps-e2e-'));
    await chmod(data, 0o755); // as a data folder topas creates: PostgreSQL (run as its own user) must reach it
    topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
    const put = await api('PUT', '/api/apps/docs', docsApp);
    expect(put.status, JSON.stringify(put.json)).toBe(201);
    await waitReady('docs');
  }, 120_000);

  afterAll(async () => {
    await topas?.close(0);
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('rejects a bad App naming the field, and runs naming an unknown App', async () => {
    const bad = structuredClone(docsApp);
    bad.metadata.name = 'bad';
    (bad.spec.services[0] as { port: number }).port = 0;
    const res = await api('PUT', '/api/apps/bad', bad);
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('spec.services[0].port: must be an integer from 1 to 65535, got 0');
    expect((await api('GET', '/api/apps/bad')).status).toBe(404);

    const run = await api('POST', '/api/runs', { script: 'print(1)', appName: 'nope' });
    expect(run.status).toBe(400);
    expect(run.json.error.message).toContain('appName: App "nope" does not exist');
  });

  it('lists Apps with live status: replicas, endpoints, the database and conditions', async () => {
    const { json } = await api('GET', '/api/apps');
    const app = (json.items as App[]).find((a) => a.metadata.name === 'docs')!;
    expect(app.status.services[0]).toMatchObject({ name: 'echo', version: 'v1', replicas: 2, readyReplicas: 2 });
    expect(app.status.services[0]!.endpoint?.host).toBe('127.0.0.1');
    expect(app.status.databases[0]).toMatchObject({ name: 'store', ready: true });
    expect(app.status.databases[0]!.initializedAt).not.toBeNull();
    expect(app.status.conditions.map((c) => c.type).sort()).toEqual(['Degraded', 'Progressing', 'Ready']);
  });

  it("shows the App's secrets as *** to every reader; an App read and sent back keeps them", async () => {
    const read = (await api('GET', '/api/apps/docs')).json as App;
    const listed = ((await api('GET', '/api/apps')).json.items as App[]).find((a) => a.metadata.name === 'docs')!;
    for (const shown of [read, listed]) {
      expect(JSON.stringify(shown)).not.toContain('docs-pass');
      expect(shown.spec.databases[0]!.credentials).toEqual({ user: 'docs', password: '***', dbname: 'notes' });
    }
    // a dashboard or `kubectl get -o yaml | kubectl apply` round trip: the password stays the real one
    const back = await api('PUT', '/api/apps/docs', { apiVersion: read.apiVersion, kind: read.kind, metadata: { name: 'docs' }, spec: read.spec });
    expect(back.status).toBe(200);
    expect(JSON.stringify(back.json)).not.toContain('docs-pass');
    expect((back.json as App).metadata.generation).toBe(read.metadata.generation);
    const run = await runToEnd({ script: 'local c = db.connect({ host = "store" })\nexpect(#c:query("SELECT 1 AS one")).to_be(1)', fileName: 'pw.lua', appName: 'docs', appReadOnly: true });
    expect(run.phase, run.message ?? '').toBe('Passed');
  });

  describe('the sut reference page (docs/lua-api-sut.md)', () => {
    for (const ex of docExamples('lua-api-sut.md')) {
      it(`example ${ex.index} (line ${ex.line}) ${ex.failing ? 'fails' : 'passes'}`, async () => {
        const run = await runToEnd({ script: ex.script, fileName: 'script.lua', appName: 'docs' });
        if (ex.failing) {
          expect(run.phase).not.toBe('Passed');
          const expected = /-- (sut\.[^\n]*)/.exec(ex.script)?.[1];
          if (expected) expect(run.message).toContain(expected.trim());
        } else expect(run.phase, await why(run)).toBe('Passed');
      }, 60_000);
    }
  });

  it('records sut changes as steps; a read-only run may not change the App', async () => {
    const changing = await runToEnd({ script: 'sut.scale("echo", 2)\nsut.wait_ready("echo", "20s")', fileName: 'scale.lua', appName: 'docs' });
    expect(changing.phase, await why(changing)).toBe('Passed');
    const steps = await topas.store.getSteps(changing.id);
    expect(steps.map((s) => [s.name, s.status, s.line])).toEqual([
      ['sut.scale echo to 2', 'passed', 1],
      ['sut.wait_ready echo', 'passed', 2],
    ]);

    const reading = await runToEnd({ script: 'local s = sut.status("echo")\nsut.restart("echo")', fileName: 'ro.lua', appName: 'docs', appReadOnly: true });
    expect(reading.phase).toBe('Failed');
    expect(reading.message).toContain('only reads App "docs"');
    expect(reading.message).toContain('ro.lua:2');
  }, 60_000);

  it('serializes runs that change one App; read-only runs overlap', async () => {
    const script = 'sleep("600ms")';
    const submit = (readOnly: boolean) => topas.engine.submit({ origin: 'api', script, fileName: 'w.lua', appName: 'docs', appReadOnly: readOnly, timeoutSeconds: 30 });
    const windows = async (runs: Run[]) => {
      const done = await Promise.all(runs.map((r) => waitEnd(r.id)));
      for (const r of done) expect(r.phase, await why(r)).toBe('Passed');
      return done.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const).sort((a, b) => a[0] - b[0]);
    };
    const writers = await windows(await Promise.all([submit(false), submit(false), submit(false)]));
    for (let i = 1; i < writers.length; i++) expect(writers[i]![0]).toBeGreaterThanOrEqual(writers[i - 1]![1]);

    const readers = await windows(await Promise.all([submit(true), submit(true)]));
    expect(readers[1]![0]).toBeLessThan(readers[0]![1]);
  }, 60_000);

  it('the design walk-through: upgrade_test.lua upgrades the demo App from v1 to v2 and passes', async () => {
    const [manifest] = await readAppFile(root('examples/apps/demo/app.yaml'));
    expect((await api('PUT', '/api/apps/demo', manifest)).status).toBe(201);
    await waitReady('demo', 90_000);
    const script = root('examples/tests/upgrade_test.lua');
    const run = await runToEnd({ script: await readFile(script, 'utf8'), fileName: 'upgrade_test.lua', files: await bundleTestFolder(script), appName: 'demo', timeoutSeconds: 120 });
    expect(run.phase, await why(run)).toBe('Passed');
    const steps = await topas.store.getSteps(run.id);
    expect(steps.filter((s) => s.kind === 'test').map((s) => [s.name, s.status])).toEqual([
      ['seed data on v1', 'passed'],
      ['upgrade to v2', 'passed'],
      ['the data survived, over HTTP', 'passed'],
      ['the data survived, over gRPC', 'passed'],
      ['the Postman collection passes on v2', 'passed'],
      ['final state in the database', 'passed'],
    ]);
    expect(steps.some((s) => s.name === 'sut.apply_service users (version v2)')).toBe(true);
    const app = (await api('GET', '/api/apps/demo')).json as App;
    expect(app.spec.services[0]!.version).toBe('v2');
    // where PostgreSQL is installed (it is in CI), the demo's database is a real server
    if (findPostgres(process.env.PATH ?? '').ok) expect(app.status.databases[0]!.engine).toBe('postgresql');
    expect(app.metadata.generation).toBeGreaterThan(1);
  }, 180_000);

  it('deleting an App stops every one of its processes', async () => {
    const app = (await api('GET', '/api/apps/docs')).json as App;
    const pids = (app.status.services[0]!.replicaStatuses ?? []).map((r) => r.pid).filter((p): p is number => p !== null);
    expect(pids.length).toBe(2);
    expect(pids.every(isAlive)).toBe(true);
    expect((await api('DELETE', '/api/apps/docs')).status).toBe(204);
    expect(pids.some(isAlive)).toBe(false);
    expect((await api('GET', '/api/apps/docs')).status).toBe(404);
    expect((await api('DELETE', '/api/apps/docs')).status).toBe(404);
  }, 60_000);
});

describe('Apps across a restart of topas', () => {
  it('stops every App process when topas stops; the next start brings the App back with its data, initSQL not re-run', async () => {
    const data = await mkdtemp(join(tmpdir(), 'topas-apps-restart-'));
    await chmod(data, 0o755);
    const app = structuredClone(docsApp);
    app.metadata.name = 'keep';
    app.spec.services[0]!.replicas = 1;
    app.spec.databases[0]!.initSQL = "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\nINSERT INTO notes (body) VALUES ('from initSQL');";
    const submit = async (topas: RunningTopas, script: string) => {
      const run = await topas.engine.submit({ origin: 'api', script, fileName: 'r.lua', appName: 'keep', timeoutSeconds: 60 });
      for (;;) {
        const now = await topas.store.getRun(run.id);
        if (now && isTerminal(now.phase)) return now;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
    try {
      await topas.apps.apply(app);
      const written = await submit(topas, 'db.connect({ host = "store" })\ndb.seed({ table = "notes", rows = { { body = "before restart" } } })\nexpect(net.get("http://echo/").code).to_be(200)');
      expect(written.phase, written.message ?? '').toBe('Passed');
      const before = (await topas.apps.get('keep'))!.status.services[0]!.replicaStatuses!.map((r) => r.pid!);
      await topas.close(0);
      expect(before.some(isAlive)).toBe(false);

      topas = await startTopas(loadConfig({ port: 0, data, examples: false }, {}));
      const read = await submit(
        topas,
        'db.connect({ host = "store" })\n' +
          'expect(db.query("SELECT body FROM notes ORDER BY id")).to_equal({ { body = "from initSQL" }, { body = "before restart" } })\n' +
          'expect(net.get("http://echo/").json.version).to_be("v1")',
      );
      expect(read.phase, `${read.message}\n${(await topas.store.getLogs(read.id)).map((l) => l.message).join('\n')}`).toBe('Passed');
      const after = (await topas.apps.get('keep'))!.status;
      expect(after.services[0]).toMatchObject({ readyReplicas: 1 });
      expect(after.services[0]!.replicaStatuses![0]!.pid).not.toBe(before[0]);
    } finally {
      await topas.close(0);
      await rm(data, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('Apps with embedded databases (a machine without PostgreSQL)', () => {
  it('the walk-through passes with the demo database on PGlite, served to the service and the test at once', async () => {
    const data = await mkdtemp(join(tmpdir(), 'topas-apps-pglite-'));
    const topas = await startTopas(loadConfig({ port: 0, data, examples: false }, { TOPAS_APP_DATABASES: 'pglite' }));
    try {
      const [manifest] = await readAppFile(root('examples/apps/demo/app.yaml'));
      await topas.apps.apply(manifest);
      const script = root('examples/tests/upgrade_test.lua');
      const run = await topas.engine.submit({
        origin: 'api',
        script: await readFile(script, 'utf8'),
        fileName: 'upgrade_test.lua',
        files: await bundleTestFolder(script),
        appName: 'demo',
        timeoutSeconds: 120,
      });
      let done: Run | null = null;
      while (!done || !isTerminal(done.phase)) {
        await new Promise((r) => setTimeout(r, 200));
        done = await topas.store.getRun(run.id);
      }
      const logs = (await topas.store.getLogs(run.id)).map((l) => l.message).join('\n');
      expect(done.phase, `${done.message}\n${logs}`).toBe('Passed');
      const db = (await topas.apps.get('demo'))!.status.databases[0]!;
      expect(db.engine).toBe('pglite');
      expect(db.message).toContain('one session at a time');
    } finally {
      await topas.close(0);
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);
});
