/** The HTTP layer in memory (`app.request()`), over the real store (PGlite) and engine (Lua). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Run } from '../core/run.js';
import { createApp } from './app.js';
import { openTestPlatform, type TestPlatform } from './testing/test-platform.js';
import { mintToken, testClient, type TestClient } from './testing/test-client.js';

let platform: TestPlatform;
/** The app, called with an admin token. */
let app: TestClient;

beforeAll(async () => {
  // Global limit 1: the cancel test holds the one slot to keep a second run Queued.
  platform = await openTestPlatform({ concurrency: 1 });
  app = await testClient(createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), followPollMs: 20 }), platform.store);
});
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

/** Runs in the store (the real one), any phase. */
async function storedRuns(): Promise<Run[]> {
  return (await platform.store.listRuns({}, { limit: 1000 })).items;
}

const post = (path: string, body: unknown) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('POST /api/runs validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['timeout out of range', { script: 'x', timeoutSeconds: 0 }, /^timeoutSeconds: must be an integer from 1 to 86400, got 0$/],
    ['timeout not an integer', { script: 'x', timeoutSeconds: 1.5 }, /^timeoutSeconds: must be an integer from 1 to 86400/],
    ['timeout a string', { script: 'x', timeoutSeconds: '60' }, /^timeoutSeconds: must be an integer from 1 to 86400, got "60"/],
    ['env value not a string', { script: 'x', env: { FOO: 1 } }, /^env\.FOO: must be a string, got 1$/],
    ['env key invalid', { script: 'x', env: { 'A-B': 'x' } }, /^env\.A-B: key is not a valid variable name/],
    ['labels not an object', { script: 'x', labels: 'team=a' }, /^labels: must be an object/],
    ['unknown field', { script: 'x', timeout: 5 }, /^timeout: unknown field/],
    ['bad origin', { script: 'x', origin: 'crd' }, /^origin: must be one of api, cli, ui, got "crd"$/],
    ['empty script', { script: '' }, /^script: must not be empty$/],
    ['both script and definitionId', { script: 'x', definitionId: 'd' }, /script: give exactly one of script, definitionId and source, not two/],
    ['neither script nor definitionId', { name: 'n' }, /script: give exactly one of script, definitionId and source \(none/],
  ];
  it.each(cases)('%s → 400 naming the field, nothing stored', async (_label, body, message) => {
    const res = await post('/api/runs', body);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('ValidationError');
    expect(error.message).toMatch(message);
    expect(await storedRuns()).toEqual([]);
  });

  it('rejects malformed JSON and a missing content type with a clear 4xx', async () => {
    const bad = await app.request('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"script":' });
    expect(bad.status).toBe(400);
    const noType = await app.request('/api/runs', { method: 'POST', body: '{"script":"x"}' });
    expect([400, 415]).toContain(noType.status);
    expect((await errorOf(noType)).message).toMatch(/application\/json|body/);
    expect(await storedRuns()).toEqual([]);
  });
});

describe('runs', () => {
  it('creates a run: 201, Location, id and phase top-level', async () => {
    const res = await post('/api/runs', { script: 'print(1)', fileName: 'hello.lua', labels: { team: 'a' } });
    expect(res.status).toBe(201);
    const run = (await res.json()) as { id: string; phase: string; origin: string };
    // Queued, or already Running when a slot was free (started at insert).
    expect(run).toMatchObject({ phase: expect.stringMatching(/^(Queued|Running)$/), origin: 'api' });
    expect(res.headers.get('location')).toBe(`/api/runs/${run.id}`);
  });

  it('answers 404 for unknown and malformed ids, on every run route', async () => {
    for (const id of ['0190a1b2-0000-7000-8000-000000000000', 'not-a-uuid', "1' or 1=1"]) {
      for (const [method, path] of [['GET', ''], ['GET', '/logs'], ['POST', '/cancel']] as const) {
        const res = await app.request(`/api/runs/${encodeURIComponent(id)}${path}`, { method });
        expect(res.status, `${method} ${path} ${id}`).toBe(404);
        expect((await errorOf(res)).message).toBe(`run ${JSON.stringify(id)} not found`);
      }
    }
  });

  it('pages through nextCursor and filters', async () => {
    // run-0 fails its assertion; the others pass.
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const script = i === 0 ? 'assert(false, "run-0 fails")' : 'print(1)';
      const res = await post('/api/runs', { script, name: `run-${i}`, labels: { even: String(i % 2 === 0) } });
      ids.push(((await res.json()) as Run).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await app.request(`/api/runs?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = (await res.json()) as { items: { name: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((r) => r.name));
      cursor = page.nextCursor;
    } while (cursor);
    // Every run exactly once (the newest-first order itself is the store contract's to check).
    expect([...seen].sort()).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4', 'run-5', 'run-6']);
    const even = (await (await app.request('/api/runs?label=even=true')).json()) as { items: unknown[] };
    expect(even.items).toHaveLength(4);
    const finished = await Promise.all(ids.map((id) => platform.waitForEnd(id)));
    expect(finished.map((r) => r.phase)).toEqual(['Failed', 'Passed', 'Passed', 'Passed', 'Passed', 'Passed', 'Passed']);
    const failed = (await (await app.request('/api/runs?phase=Failed,Error&phase=TimedOut')).json()) as { items: { id: string }[] };
    expect(failed.items.map((r) => r.id)).toEqual([ids[0]]);
    const named = (await (await app.request('/api/runs?q=RUN-6')).json()) as { items: { name: string }[] };
    expect(named.items.map((r) => r.name)).toEqual(['run-6']);
  });

  it('rejects bad list parameters naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['phase=Done', /^phase: must be one of Queued, Running, Passed, Failed, Error, TimedOut, Cancelled, got "Done"$/],
      ['limit=0', /^limit: must be an integer from 1 to 1000, got 0$/],
      ['limit=abc', /^limit: must be an integer from 1 to 1000/],
      ['since=yesterday', /^since: must be an ISO-8601 timestamp/],
      ['label=team', /^label: must be key=value, got "team"$/],
      ['phse=Failed', /^phse: unknown query parameter/],
    ];
    for (const [query, message] of cases) {
      const res = await app.request(`/api/runs?${query}`);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).message, query).toMatch(message);
    }
  });

  it('cancels a queued run (200) and refuses a finished one (409 naming its phase)', async () => {
    // The blocker holds the only slot, so the second run stays Queued.
    const blocker = (await (await post('/api/runs', { script: 'print("holding")\nsleep(30000)' })).json()) as Run;
    await platform.waitForLogs(blocker.id, 1);
    const run = (await (await post('/api/runs', { script: 'print(1)' })).json()) as Run;
    expect((await platform.store.getRun(run.id))!.phase).toBe('Queued');
    const first = await app.request(`/api/runs/${run.id}/cancel`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { phase: string }).phase).toBe('Cancelled');
    const again = await app.request(`/api/runs/${run.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toMatch(/already finished \(Cancelled\)/);
    expect((await platform.store.getLogs(run.id)).length).toBe(0);
  });

  it('cancels a running run: its script stops and the run ends Cancelled', async () => {
    const run = (await (await post('/api/runs', { script: 'print("started")\nsleep(30000)\nprint("never")' })).json()) as Run;
    await platform.waitForLogs(run.id, 1);
    const started = Date.now();
    const res = await app.request(`/api/runs/${run.id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Run).phase).toBe('Cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await platform.store.getLogs(run.id)).map((l) => l.message)).toEqual(['started']);
    expect((await app.request(`/api/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(409);
  });
});

describe('definitions', () => {
  it('supports CRUD, runs from a definition and refuses duplicate names', async () => {
    const created = await post('/api/definitions', { name: 'smoke', script: 'print(1)', env: { A: '1' } });
    expect(created.status).toBe(201);
    const def = (await created.json()) as { id: string; timeoutSeconds: number };
    expect(def.timeoutSeconds).toBe(600);
    const dup = await post('/api/definitions', { name: 'smoke', script: 'x' });
    expect(dup.status).toBe(409);
    expect((await errorOf(dup)).message).toMatch(/a definition named "smoke" already exists/);

    const patched = await app.request('/api/definitions/smoke', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'fast checks' }),
    });
    expect(await patched.json()).toMatchObject({ description: 'fast checks', script: 'print(1)', env: { A: '1' } });
    const replaced = await app.request(`/api/definitions/${def.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'smoke', script: 'print(2)' }),
    });
    expect(await replaced.json()).toMatchObject({ description: '', script: 'print(2)', env: {} });

    const run = await post('/api/definitions/smoke/runs', { env: { B: '2' }, origin: 'ui' });
    expect(run.status).toBe(201);
    expect(await run.json()).toMatchObject({ phase: expect.stringMatching(/^(Queued|Running)$/), origin: 'ui', source: { type: 'definition', definitionId: def.id } });
    const viaRuns = await post('/api/runs', { definitionId: 'smoke' });
    expect(viaRuns.status).toBe(201);
    const missing = await post('/api/runs', { definitionId: 'nope' });
    expect(missing.status).toBe(404);

    const list = (await (await app.request('/api/definitions?q=smo')).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
    expect((await app.request('/api/definitions/smoke', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/definitions/smoke')).status).toBe(404);
  });

  it('shows secret env values as *** and keeps them when the masked env is sent back', async () => {
    const script = 'assert(env.DB_PASSWORD == "hunter22-secret", "the real secret reaches the script")\nassert(env.A == "2")';
    const created = await post('/api/definitions', { name: 'secretive', script, env: { DB_PASSWORD: 'hunter22-secret', A: '1' } });
    expect(await created.json()).toMatchObject({ env: { DB_PASSWORD: '***', A: '1' } });
    const read = (await (await app.request('/api/definitions/secretive')).json()) as { env: Record<string, string> };
    expect(read.env).toEqual({ DB_PASSWORD: '***', A: '1' });
    const listed = (await (await app.request('/api/definitions')).json()) as { items: { env: Record<string, string> }[] };
    expect(listed.items[0]!.env).toEqual({ DB_PASSWORD: '***', A: '1' });
    // what an editor does: read, change one value, save the whole env back
    const saved = await app.request('/api/definitions/secretive', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'secretive', script, env: { ...read.env, A: '2' } }),
    });
    expect(await saved.json()).toMatchObject({ env: { DB_PASSWORD: '***', A: '2' } });
    const run = (await (await post('/api/definitions/secretive/runs', {})).json()) as { id: string };
    expect((await platform.waitForEnd(run.id)).phase).toBe('Passed');
  });

  it("lists each definition with its last result: the newest finished run's phase and when, null before any", async () => {
    const def = (await (await post('/api/definitions', { name: 'last-result', script: 'assert(env.MODE ~= "broken", "works")' })).json()) as { id: string };
    await post('/api/definitions', { name: 'last-result-never', script: 'print(1)' });
    const before = (await (await app.request('/api/definitions?q=last-result')).json()) as { items: { name: string; lastRun: unknown }[] };
    expect(before.items.map((d) => [d.name, d.lastRun])).toEqual([['last-result', null], ['last-result-never', null]]);

    const ok = (await (await post('/api/definitions/last-result/runs', {})).json()) as { id: string };
    expect((await platform.waitForEnd(ok.id)).phase).toBe('Passed');
    const broken = (await (await post('/api/definitions/last-result/runs', { env: { MODE: 'broken' } })).json()) as { id: string };
    const ended = await platform.waitForEnd(broken.id);
    expect(ended.phase).toBe('Failed');

    const after = (await (await app.request('/api/definitions?q=last-result')).json()) as { items: { id: string; lastRun: unknown }[] };
    expect(after.items.find((d) => d.id === def.id)!.lastRun).toEqual({ id: broken.id, phase: 'Failed', finishedAt: ended.finishedAt, category: ended.category });
    expect(after.items.find((d) => d.id !== def.id)!.lastRun).toBeNull();
  });

  it('validates definition bodies', async () => {
    const res = await post('/api/definitions', { name: 'has space', script: 'x', timeoutSeconds: 100000 });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toMatch(/^name: must start with a letter or digit/);
    expect(error.message).toMatch(/timeoutSeconds: must be an integer from 1 to 86400, got 100000/);
    expect((await platform.store.listDefinitions({ limit: 1000 })).items).toEqual([]);
  });
});

describe('system routes', () => {
  it('serves health, stats and an OpenAPI 3.1 document listing every route', async () => {
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await app.request('/api/stats')).json()).toMatchObject({ queueDepth: 0, activeRunners: 0, runsByPhase: { Passed: 0 } });
    const doc = (await (await app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { summary?: string }>> };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'POST /api/runs',
        'POST /api/runs:batch',
        'GET /api/runs',
        'GET /api/runs/{id}',
        'GET /api/runs/{id}/logs',
        'GET /api/runs/{id}/junit.xml',
        'GET /api/junit.xml',
        'POST /api/reports',
        'POST /api/runs/{id}/cancel',
        'POST /api/runs/{id}/rerun',
        'GET /api/runs/{id}/compare',
        'GET /api/runs/{id}/runner/execution',
        'GET /api/runs/{id}/runner/bundle',
        'POST /api/runs/{id}/runner/events',
        'POST /api/runs/{id}/runner/heartbeat',
        'POST /api/runs/{id}/runner/sut',
        'POST /api/runs/{id}/runner/completion',
        'GET /api/insights/trends',
        'GET /api/insights/top',
        'GET /api/insights/categories',
        'GET /api/runs/{id}/results.json',
        'GET /api/categories',
        'PUT /api/categories',
        'POST /api/categories/preview',
        'POST /api/categories/apply',
        'GET /api/categories/apply/{id}',
        'GET /api/insights/profile',
        'GET /api/tests',
        'GET /api/tests/{id}',
        'GET /api/tests/{id}/history',
        'PUT /api/tests/{id}/quarantine',
        'DELETE /api/tests/{id}/quarantine',
        'POST /api/definitions',
        'GET /api/definitions',
        'GET /api/definitions/{idOrName}',
        'PUT /api/definitions/{idOrName}',
        'PATCH /api/definitions/{idOrName}',
        'DELETE /api/definitions/{idOrName}',
        'POST /api/definitions/{idOrName}/runs',
        'PUT /api/apps/{name}',
        'GET /api/apps',
        'GET /api/apps/{name}',
        'DELETE /api/apps/{name}',
        'GET /api/stats',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /api/session',
        'POST /api/session',
        'DELETE /api/session',
        'POST /api/session/login-links',
        'GET /api/tokens',
        'POST /api/tokens',
        'DELETE /api/tokens/{idOrName}',
      ].sort(),
    );
    for (const ops of Object.values(doc.paths)) for (const op of Object.values(ops)) expect(op.summary).toBeTruthy();
    expect(JSON.stringify(doc)).toContain('milliseconds');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.request('/api/nope');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toMatch(/no route for GET \/api\/nope/);
  });
});

describe('runner routes over real HTTP', () => {
  // A runner's keep-alive connection reaches one instance behind a Service for the
  // connection's life: an instance that does not follow the run closes it, so the
  // runner's next attempt (a new connection) may reach the one that does.
  it('answers a run it does not follow 409 RunNotAttached and closes the connection; other answers keep it open', async () => {
    const token = await mintToken(platform.store, 'admin');
    const server = serve({ fetch: createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}) }).fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; connection: string | undefined; closed: Promise<void> }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: (server.address() as AddressInfo).port, method, path, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
          (res) => {
            const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, closed }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const ok = await call('GET', '/api/stats');
      expect(ok).toMatchObject({ status: 200, connection: 'keep-alive' });
      const refused = await call('POST', '/api/runs/01a23222-f507-7000-9a59-7fde17e602f4/runner/heartbeat', JSON.stringify({}));
      expect(refused).toMatchObject({ status: 409, connection: 'close' });
      await refused.closed; // the server ended the connection
    } finally {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
