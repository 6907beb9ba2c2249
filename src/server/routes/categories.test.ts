/**
 * Failure categories over the HTTP API, in memory (`app.request()`) over the real
 * store (PGlite) and engine (Lua): rules, preview, re-applying to history, the runs
 * filter, the breakdown over time and results.json.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/config.js';
import type { CategoryRules } from '../../core/categories.js';
import type { Run } from '../../core/run.js';
import { insertFailedRun } from '../../store/category.contract.js';
import { createApp } from '../app.js';
import { openTestPlatform, type TestPlatform } from '../testing/test-platform.js';
import { testClient, type TestClient } from '../testing/test-client.js';

let platform: TestPlatform;
let editor: TestClient;
let viewer: TestClient;

beforeAll(async () => {
  platform = await openTestPlatform();
  const app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), followPollMs: 20 });
  editor = await testClient(app, platform.store, 'editor');
  viewer = await testClient(app, platform.store, 'viewer');
});
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function ok<T = Record<string, unknown>>(res: Response | Promise<Response>, status = 200): Promise<T> {
  const r = await res;
  const body = await r.json();
  expect(r.status, JSON.stringify(body)).toBe(status);
  return body as T;
}
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; details?: { issues: { field: string; message: string }[] } } }).error;

interface Job {
  id: string;
  state: string;
  processed: number;
  changed: number;
}

const timeoutsArePlatform: CategoryRules = { rules: [{ name: 'timeouts', category: 'Platform Issue', match: { message: [{ regex: 'timed? ?out' }] } }] };

/** Two past failed runs (as the run end records them): a timeout and a plain regression. */
async function history(): Promise<{ timeout: Run; wrong: Run }> {
  const timeout = await insertFailedRun(platform.store, platform.sql, {
    name: 'checkout',
    createdAt: '2026-05-01T10:00:00.000Z',
    cases: [{ name: 'pays', outcome: 'Failed', message: 'request timed out after 5000 ms' }],
  });
  const wrong = await insertFailedRun(platform.store, platform.sql, {
    name: 'search',
    createdAt: '2026-05-02T10:00:00.000Z',
    cases: [{ name: 'finds', outcome: 'Failed', message: 'expected 3 hits, got 0' }],
  });
  return { timeout, wrong };
}

async function categoryOf(runId: string): Promise<string | null> {
  return (await ok<Run>(viewer.request(`/api/runs/${runId}`))).category;
}

describe('rules', () => {
  it('are the shipped defaults until an editor replaces them; a viewer cannot', async () => {
    const before = await ok<{ version: number; defaults: boolean; rules: { category: string }[] }>(viewer.request('/api/categories'));
    expect(before).toMatchObject({ version: 0, defaults: true, updatedBy: null });
    expect(before.rules.map((r) => r.category)).toEqual(expect.arrayContaining(['Missing Component', 'Upgrade Prerequisite', 'Platform Issue', 'Config Gap']));

    const denied = await viewer.request('/api/categories', json('PUT', timeoutsArePlatform));
    expect(denied.status).toBe(403);
    expect((await errorOf(denied)).code).toBe('Forbidden');

    const put = await ok(editor.request('/api/categories', json('PUT', timeoutsArePlatform)));
    expect(put).toMatchObject({ version: 1, defaults: false, rules: timeoutsArePlatform.rules });
    expect(await ok(viewer.request('/api/categories'))).toEqual(put);
  });

  it('refuses a bad regular expression with a 400 naming the rule field, and keeps the old rules', async () => {
    const rules = [
      { name: 'a', category: 'A', match: { message: ['a'] } },
      { name: 'b', category: 'B', match: { message: ['b'] } },
      { name: 'c', category: 'C', match: { message: [{ regex: '([unclosed' }] } },
    ];
    const res = await editor.request('/api/categories', json('PUT', { rules }));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('ValidationError');
    expect(error.message).toContain('rules[2].match.message[0].regex: is not a valid regular expression');
    expect((await ok<{ version: number }>(viewer.request('/api/categories'))).version).toBe(0);
    // and the same in a preview
    const preview = await viewer.request('/api/categories/preview', json('POST', { rules }));
    expect(preview.status).toBe(400);
    expect((await errorOf(preview)).message).toContain('rules[2].match.message[0].regex');
  });
});

describe('preview and apply', () => {
  it('a preview shows before and after without changing anything; applying changes past failures', async () => {
    const { timeout, wrong } = await history();
    const preview = await ok<{ items: { runId: string; testKey: string; before: unknown; after: unknown }[]; changed: number }>(
      viewer.request('/api/categories/preview', json('POST', { ...timeoutsArePlatform, limit: 10 })),
    );
    expect(preview.changed).toBe(1);
    expect(preview.items).toEqual([
      expect.objectContaining({ runId: wrong.id, testKey: 'suite.lua::finds', before: { category: 'Regression', rule: null }, after: { category: 'Regression', rule: null } }),
      expect.objectContaining({ runId: timeout.id, testKey: 'suite.lua::pays', before: { category: 'Regression', rule: null }, after: { category: 'Platform Issue', rule: 'timeouts' } }),
    ]);
    // nothing changed: neither the rules nor the past failures
    expect((await ok<{ version: number }>(viewer.request('/api/categories'))).version).toBe(0);
    expect(await categoryOf(timeout.id)).toBe('Regression');

    await ok(editor.request('/api/categories', json('PUT', timeoutsArePlatform)));
    // stored, but past failures keep their category until applied
    expect(await categoryOf(timeout.id)).toBe('Regression');
    const started = await ok<{ job: Job }>(editor.request('/api/categories/apply?since=2026-01-01T00:00:00Z', { method: 'POST' }), 202);
    expect(started.job).toMatchObject({ state: 'running', since: '2026-01-01T00:00:00.000Z' });
    const done = await vi.waitFor(
      async () => {
        const { job } = await ok<{ job: Job }>(viewer.request(`/api/categories/apply/${started.job.id}`));
        if (job.state === 'running') throw new Error('still running');
        return job;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(done).toMatchObject({ state: 'done', processed: 2, changed: 1 });
    expect(await categoryOf(timeout.id)).toBe('Platform Issue');
    expect(await categoryOf(wrong.id)).toBe('Regression');
    const results = await ok<{ results: { category: string; categoryRule: string | null }[] }>(viewer.request(`/api/runs/${timeout.id}/results.json`));
    expect(results.results).toEqual([expect.objectContaining({ key: 'suite.lua::pays', outcome: 'Failed', category: 'Platform Issue', categoryRule: 'timeouts' })]);

    // edit the rule again: the timeout goes back to Regression once re-applied
    await ok(editor.request('/api/categories', json('PUT', { rules: [] })));
    const again = await ok<{ job: Job }>(editor.request('/api/categories/apply', { method: 'POST' }), 202);
    await vi.waitFor(async () => expect((await ok<{ job: Job }>(viewer.request(`/api/categories/apply/${again.job.id}`))).job.state).toBe('done'), { timeout: 10_000, interval: 20 });
    expect(await categoryOf(timeout.id)).toBe('Regression');
  });

  it('needs an editor to apply, refuses a bad since, and 404s an unknown job', async () => {
    expect((await viewer.request('/api/categories/apply', { method: 'POST' })).status).toBe(403);
    const bad = await editor.request('/api/categories/apply?since=yesterday', { method: 'POST' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toContain('since');
    const missing = await viewer.request('/api/categories/apply/nope');
    expect(missing.status).toBe(404);
  });
});

describe('categories as filters and charts', () => {
  it('?category= filters the runs list and the JUnit report of runs', async () => {
    const { timeout, wrong } = await history();
    await ok(editor.request('/api/categories', json('PUT', timeoutsArePlatform)));
    const { job } = await ok<{ job: Job }>(editor.request('/api/categories/apply', { method: 'POST' }), 202);
    await vi.waitFor(async () => expect((await ok<{ job: Job }>(viewer.request(`/api/categories/apply/${job.id}`))).job.state).toBe('done'), { timeout: 10_000, interval: 20 });

    const ids = async (query: string) => (await ok<{ items: Run[] }>(viewer.request(`/api/runs?${query}`))).items.map((r) => r.id);
    expect(await ids('category=Platform%20Issue')).toEqual([timeout.id]);
    expect(await ids('category=Regression')).toEqual([wrong.id]);
    expect(await ids('category=Regression&category=Platform%20Issue')).toEqual([wrong.id, timeout.id]);
    expect(await ids('category=Config%20Gap')).toEqual([]);
    const xml = await (await viewer.request('/api/junit.xml?category=Platform%20Issue')).text();
    expect(xml).toContain('<property name="category" value="Platform Issue"/>');
    expect(xml).toContain('name="checkout"');
    expect(xml).not.toContain('name="search"');
  });

  it('counts failures per category per day', async () => {
    await history();
    const body = await ok<{ points: { start: string; counts: Record<string, number> }[]; categories: string[] }>(
      viewer.request('/api/insights/categories?from=2026-05-01T00:00:00Z&to=2026-05-03T00:00:00Z&bucket=day'),
    );
    expect(body).toEqual({
      points: [
        { start: '2026-05-01T00:00:00.000Z', counts: { Regression: 1 } },
        { start: '2026-05-02T00:00:00.000Z', counts: { Regression: 1 } },
      ],
      categories: ['Regression'],
    });
    expect((await viewer.request('/api/insights/categories?bucket=week')).status).toBe(400);
  });
});

describe('GET /api/runs/{id}/results.json', () => {
  it("gives a run's test cases with outcome, duration, message and the failures' categories", async () => {
    const res = await editor.request(
      '/api/runs',
      json('POST', {
        name: 'users',
        fileName: 'users.lua',
        script: `
test("lists users", function() assert(true, "listed") end)
test("reaches the db", function() assert(false, "getaddrinfo ENOTFOUND users-db") end)
test("compares", function() expect(500).to_be(200) end)
`,
      }),
    );
    expect(res.status).toBe(201);
    const run = await platform.waitForEnd(((await res.json()) as Run).id);
    expect(run.phase).toBe('Failed');
    const body = await ok<{ run: { id: string; phase: string }; results: Record<string, unknown>[] }>(viewer.request(`/api/runs/${run.id}/results.json`));
    expect(body.run).toMatchObject({ id: run.id, name: 'users', phase: 'Failed' });
    expect(body.results).toEqual([
      expect.objectContaining({ key: 'users.lua::lists users', outcome: 'Passed', category: null }),
      expect.objectContaining({ key: 'users.lua::reaches the db', outcome: 'Failed', category: 'Missing Component', categoryRule: 'missing-component', message: expect.stringContaining('ENOTFOUND') }),
      expect.objectContaining({ key: 'users.lua::compares', outcome: 'Failed', category: 'Regression', categoryRule: null }),
    ]);
    expect(typeof body.results[0]!.durationMs).toBe('number');
    expect((await viewer.request('/api/runs/00000000-0000-7000-8000-000000000000/results.json')).status).toBe(404);
  });
});
