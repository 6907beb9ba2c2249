/**
 * The endpoints the dashboard reads, in memory (`app.request()`) over the real
 * store (PGlite) and engine (Lua): slim run lists, masked secrets, re-run,
 * compare, trends and top lists.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Run } from '../core/run.js';
import { createApp } from './app.js';
import { openTestPlatform, type TestPlatform } from './testing/test-platform.js';
import { testClient, type TestClient } from './testing/test-client.js';

let platform: TestPlatform;
/** The app, called with an admin token. */
let app: TestClient;

beforeAll(async () => {
  platform = await openTestPlatform();
  app = await testClient(createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), followPollMs: 20 }), platform.store);
});
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

const post = (path: string, body?: unknown) =>
  app.request(path, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
const get = async <T = Record<string, unknown>>(path: string): Promise<T> => {
  const res = await app.request(path);
  expect(res.status, `GET ${path}: ${res.status}`).toBe(200);
  return (await res.json()) as T;
};
async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}
/** Starts a run over the API and waits until it finished. */
async function ran(body: Record<string, unknown>): Promise<Run> {
  const res = await post('/api/runs', body);
  expect(res.status).toBe(201);
  return platform.waitForEnd(((await res.json()) as Run).id);
}

describe('GET /api/runs', () => {
  it('lists runs without their scripts and files; reading one run still gives them', async () => {
    const inline = await ran({ script: 'print("inline script")', fileName: 'main.lua', files: { 'lib/util.lua': 'return "bundled file"' } });
    expect((await post('/api/definitions', { name: 'smoke', script: 'print("definition script")', files: { 'data.json': '{}' } })).status).toBe(201);
    const fromDefinition = (await (await post('/api/definitions/smoke/runs', {})).json()) as Run;
    const definitionId = (fromDefinition.source as { definitionId: string }).definitionId;

    const page = await get<{ items: Run[] }>('/api/runs');
    const byId = new Map(page.items.map((r) => [r.id, r]));
    expect(byId.get(inline.id)).toMatchObject({ name: 'main', phase: 'Passed', source: { type: 'inline', fileName: 'main.lua' } });
    expect(byId.get(inline.id)!.source).toEqual({ type: 'inline', fileName: 'main.lua' });
    expect(byId.get(fromDefinition.id)!.source).toEqual({ type: 'definition', definitionId, fileName: 'smoke.lua' });
    const text = JSON.stringify(page);
    for (const content of ['inline script', 'bundled file', 'definition script']) expect(text).not.toContain(content);

    const detail = await get<Run>(`/api/runs/${inline.id}`);
    expect(detail.source).toEqual({ type: 'inline', script: 'print("inline script")', fileName: 'main.lua', files: { 'lib/util.lua': 'return "bundled file"' } });
  });
});

describe('secrets in API responses', () => {
  it('show secret env values as ***, while the run executes (and keeps) the real ones', async () => {
    const env = { DB_PASSWORD: 'hunter2', GITHUB_TOKEN: 'ab', BASE_URL: 'http://127.0.0.1:9' };
    const script = 'assert(env.DB_PASSWORD == string.reverse("2retnuh"), "the script sees the real password")';
    const shown = { DB_PASSWORD: '***', GITHUB_TOKEN: '***', BASE_URL: 'http://127.0.0.1:9' };

    const created = await post('/api/runs', { script, env });
    const run = (await created.json()) as Run;
    expect(run.env).toEqual(shown);
    const finished = await platform.waitForEnd(run.id);
    expect(finished.phase).toBe('Passed');
    expect(finished.env).toEqual(env); // the store keeps them

    expect((await get<Run>(`/api/runs/${run.id}`)).env).toEqual(shown);
    expect((await get<{ items: Run[] }>('/api/runs')).items[0]!.env).toEqual(shown);
    const stream = await (await app.request(`/api/runs/${run.id}/logs?follow=true`)).text();
    expect(stream).toContain('event: end');
    expect(stream).toContain('"DB_PASSWORD":"***"');
    expect(stream).not.toContain('hunter2');

    const rerun = await post(`/api/runs/${run.id}/rerun`, { env: { BASE_URL: 'http://127.0.0.1:10' } });
    const again = (await rerun.json()) as Run;
    expect(again.env).toEqual({ ...shown, BASE_URL: 'http://127.0.0.1:10' });
    // the re-run executes with the real password, not with ***
    expect(await platform.waitForEnd(again.id)).toMatchObject({ phase: 'Passed', env: { ...env, BASE_URL: 'http://127.0.0.1:10' } });

    const def = await post('/api/definitions', { name: 'db-check', script, env });
    expect(def.status).toBe(201);
    const fromDefinition = (await (await post('/api/definitions/db-check/runs', {})).json()) as Run;
    expect(fromDefinition.env).toEqual(shown);
    const blocker = (await (await post('/api/runs', { script: 'sleep(30000)', env })).json()) as Run;
    expect(((await (await post(`/api/runs/${blocker.id}/cancel`)).json()) as Run).env).toEqual(shown);
  });
});

describe('POST /api/runs/{id}/rerun', () => {
  it('queues the same source, even after its definition changed, with env overrides merged', async () => {
    const created = await post('/api/definitions', {
      name: 'nightly',
      script: 'print("version 1")',
      files: { 'lib/a.lua': 'return 1' },
      env: { A: '1' },
      timeoutSeconds: 30,
      labels: { team: 'core' },
    });
    const def = (await created.json()) as { id: string };
    const first = (await (await post('/api/definitions/nightly/runs', { name: 'nightly #1', env: { B: '2' }, labels: { env: 'qa' } })).json()) as Run;
    await platform.waitForEnd(first.id);
    const replaced = await app.request('/api/definitions/nightly', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'nightly', script: 'print("version 2")' }),
    });
    expect(replaced.status).toBe(200);

    const res = await post(`/api/runs/${first.id}/rerun`, { origin: 'ui', env: { B: '3', C: '4' } });
    expect(res.status).toBe(201);
    const again = (await res.json()) as Run;
    expect(res.headers.get('location')).toBe(`/api/runs/${again.id}`);
    expect(again.id).not.toBe(first.id);
    expect(again).toMatchObject({
      phase: expect.stringMatching(/^(Queued|Running)$/),
      origin: 'ui',
      name: 'nightly #1',
      source: { type: 'definition', definitionId: def.id, script: 'print("version 1")', fileName: 'nightly.lua', files: { 'lib/a.lua': 'return 1' } },
      env: { A: '1', B: '3', C: '4' },
      timeoutSeconds: 30,
      labels: { team: 'core', env: 'qa' },
    });
    await platform.waitForEnd(again.id);
    expect((await platform.store.getLogs(again.id)).map((l) => l.message)).toEqual(['version 1']);

    const plain = await post(`/api/runs/${first.id}/rerun`);
    expect(plain.status).toBe(201);
    expect(await plain.json()).toMatchObject({ origin: 'api', env: { A: '1', B: '2' } });
  });

  it('answers 404 for an unknown run and 400 naming the field for a bad body', async () => {
    const missing = await post('/api/runs/0190a1b2-0000-7000-8000-000000000000/rerun', {});
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toBe('run "0190a1b2-0000-7000-8000-000000000000" not found');
    const run = await ran({ script: 'print(1)' });
    for (const [body, message] of [
      [{ env: { B: 1 } }, /^env\.B: must be a string, got 1$/],
      [{ origin: 'crd' }, /^origin: must be one of api, cli, ui, got "crd"$/],
      [{ timeoutSeconds: 5 }, /^timeoutSeconds: unknown field/],
    ] as const) {
      const res = await post(`/api/runs/${run.id}/rerun`, body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    expect((await platform.store.listRuns({}, { limit: 10 })).items).toHaveLength(1);
  });
});

describe('GET /api/runs/{id}/compare', () => {
  const before = `
test("cart", function()
  step("add item", function() assert(true, "item added") end)
  step("total", function() assert(1 == 2, "total is 30") end)
end)
test("legacy", function() assert(true, "old check") end)
`;
  const after = `
test("cart", function()
  step("add item", function() assert(false, "item added") end)
end)
test("search", function() assert(true, "finds shoes") end)
`;

  it('compares with the previous run of the same name by default, or with a given run', async () => {
    const base = await ran({ name: 'checkout', script: before });
    await ran({ name: 'other test', script: after });
    const head = await ran({ name: 'checkout', script: after });
    const diff = await get<Record<string, any>>(`/api/runs/${head.id}/compare`);
    expect(diff.base).toEqual({ id: base.id, name: 'checkout', phase: 'Failed', createdAt: base.createdAt, durationMs: base.durationMs, summary: base.summary });
    expect(diff.head.id).toBe(head.id);
    expect(diff.durationChangeMs).toBe(head.durationMs! - base.durationMs!);
    const paths = (list: { path: string[] }[]) => list.map((s) => s.path.join(' > '));
    expect(paths(diff.steps.newlyFailing)).toEqual(['cart > add item']);
    expect(diff.steps.newlyFailing[0].base).toMatchObject({ status: 'passed' });
    expect(diff.steps.newlyFailing[0].head).toMatchObject({ status: 'failed', location: { file: 'checkout.lua', line: 3 } });
    expect(paths(diff.steps.stillFailing)).toEqual(['cart']);
    expect(paths(diff.steps.fixed)).toEqual([]);
    expect(diff.steps.stillPassing).toBe(0);
    expect(paths(diff.steps.added)).toEqual(['search']);
    expect(paths(diff.steps.removed)).toEqual(['cart > total', 'legacy']);
    const messages = (list: { stepPath: string[]; message: string }[]) => list.map((a) => `${a.stepPath.join(' > ')}: ${a.message}`);
    expect(messages(diff.assertions.newlyFailing)).toEqual(['cart > add item: assertion failed: item added']);
    expect(messages(diff.assertions.added)).toEqual(['search: finds shoes']);
    expect(messages(diff.assertions.removed)).toEqual(['cart > total: assertion failed: total is 30', 'legacy: old check']);

    const explicit = await get<Record<string, any>>(`/api/runs/${head.id}/compare?with=${base.id}`);
    expect(explicit).toEqual(diff);
    const reversed = await get<Record<string, any>>(`/api/runs/${base.id}/compare?with=${head.id}`);
    expect(paths(reversed.steps.fixed)).toEqual(['cart > add item']);
  });

  it('answers 404 when there is no previous run or no such run, and 400 for a bad `with`', async () => {
    const only = await ran({ name: 'lonely', script: 'print(1)' });
    const none = await app.request(`/api/runs/${only.id}/compare`);
    expect(none.status).toBe(404);
    expect((await errorOf(none)).message).toBe(
      `run ${only.id} has no previous run (no earlier run named "lonely" without a definition); pass with=<run id> to compare with another run`,
    );
    const unknown = await app.request(`/api/runs/${only.id}/compare?with=0190a1b2-0000-7000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).message).toBe('run "0190a1b2-0000-7000-8000-000000000000" not found');
    expect((await app.request('/api/runs/0190a1b2-0000-7000-8000-000000000000/compare')).status).toBe(404);
    const bad = await app.request(`/api/runs/${only.id}/compare?with=last`);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('with: must be a run id or "previous", got "last"');
  });
});

describe('insights', () => {
  it('trends: the last 14 days by day by default, today\'s runs in the last point; filters', async () => {
    const failed = await ran({ name: 'flaky', script: 'assert(false, "nope")', labels: { team: 'core' } });
    await ran({ name: 'steady', script: 'print(1)' });
    const trends = await get<{ bucket: string; from: string; to: string; points: any[] }>('/api/insights/trends');
    const today = new Date(failed.createdAt);
    const midnight = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString();
    expect(trends.bucket).toBe('day');
    expect(trends.points).toHaveLength(14);
    expect(trends.points.at(-1)).toMatchObject({
      start: midnight,
      total: 2,
      byPhase: { Passed: 1, Failed: 1, Error: 0, TimedOut: 0, Cancelled: 0 },
      passRate: 0.5,
    });
    expect(trends.points.at(-1).p50Ms).toEqual(expect.any(Number));
    expect(trends.points[0]).toEqual({
      start: trends.from,
      total: 0,
      byPhase: { Passed: 0, Failed: 0, Error: 0, TimedOut: 0, Cancelled: 0 },
      passRate: null,
      p50Ms: null,
      p95Ms: null,
    });
    const core = await get<{ points: { total: number }[] }>('/api/insights/trends?labels=team=core');
    expect(core.points.reduce((n, p) => n + p.total, 0)).toBe(1);
    const hourly = await get<{ bucket: string; points: { start: string }[] }>(
      `/api/insights/trends?bucket=hour&from=${encodeURIComponent('2025-01-01T00:00:00Z')}&to=${encodeURIComponent('2025-01-02T00:00:00Z')}`,
    );
    expect(hourly.bucket).toBe('hour');
    expect(hourly.points).toHaveLength(24);
    expect(hourly.points[1]!.start).toBe('2025-01-01T01:00:00.000Z');
  });

  it('top: the most failing and the slowest tests, each with a run to open', async () => {
    const failed = await ran({ name: 'flaky', script: 'assert(false, "nope")' });
    const passed = await ran({ name: 'steady', script: 'sleep(30)' });
    const top = await get<{ mostFailing: any[]; slowest: any[] }>('/api/insights/top');
    expect(top.mostFailing).toEqual([
      { name: 'flaky', definitionId: null, runs: 1, failed: 1, failRate: 1, lastFailedRunId: failed.id, lastFailedAt: failed.finishedAt },
    ]);
    expect(top.slowest.map((t) => [t.name, t.slowestRunId])).toContainEqual(['steady', passed.id]);
    expect(top.slowest.find((t) => t.name === 'steady')).toMatchObject({ runs: 1, p50Ms: passed.durationMs, p95Ms: passed.durationMs, maxMs: passed.durationMs });
    expect((await get<{ slowest: unknown[] }>('/api/insights/top?limit=1')).slowest).toHaveLength(1);
  });

  it('rejects bad parameters with a 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['trends?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z', /^from: must be before to \(2025-03-01T00:00:00.000Z\), got 2025-03-02T00:00:00.000Z$/],
      ['trends?bucket=week', /^bucket: must be one of hour, day, got "week"$/],
      ['trends?bucket=hour&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z', /^bucket: the range .* holds 744 hour buckets, at most 400 are allowed/],
      ['trends?from=yesterday', /^from: must be an ISO-8601 timestamp/],
      ['trends?labels=team', /^labels: must be key=value, got "team"$/],
      ['trends?definition=x', /^definition: unknown query parameter/],
      ['top?limit=0', /^limit: must be an integer from 1 to 100, got 0$/],
      ['top?limit=many', /^limit: must be an integer from 1 to 100/],
      ['top?from=2025-03-02T00:00:00Z&to=2025-03-02T00:00:00Z', /^from: must be before to/],
      ['top?bucket=day', /^bucket: unknown query parameter/],
    ];
    for (const [query, message] of cases) {
      const res = await app.request(`/api/insights/${query}`);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).message, query).toMatch(message);
    }
  });

  it('stats keep their shape and count runs per phase', async () => {
    await ran({ script: 'assert(false)' });
    await ran({ script: 'print(1)' });
    const stats = await get('/api/stats');
    expect(Object.keys(stats).sort()).toEqual(['activeRunners', 'concurrency', 'queueDepth', 'runsByPhase']);
    expect(stats.runsByPhase).toEqual({ Queued: 0, Running: 0, Passed: 1, Failed: 1, Error: 0, TimedOut: 0, Cancelled: 0 });
  });
});
