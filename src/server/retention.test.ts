/**
 * Retention as a user sees it, over the real store (PGlite), engine (Lua) and HTTP
 * app (`app.request()`): old runs leave `/api/runs` after a sweep, newer, running and
 * label-kept ones stay; expired logs leave the run and say why; a big backlog goes in
 * batches while a run keeps executing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Run } from '../core/run.js';
import { startRetention, type RetentionBatch, type RetentionSweeper } from '../engine/retention.js';
import { createApp } from './app.js';
import { openTestPlatform, type TestPlatform } from './testing/test-platform.js';
import { testClient, type TestClient } from './testing/test-client.js';

const config = loadConfig({ examples: false }, { TOPAS_RETENTION_DAYS: '30', TOPAS_RETENTION_OVERRIDES: 'env=prod:90', TOPAS_LOG_RETENTION_DAYS: '7' });

let platform: TestPlatform;
let app: TestClient;
let sweeper: RetentionSweeper | null = null;

beforeAll(async () => {
  platform = await openTestPlatform();
  app = await testClient(createApp({ store: platform.store, engine: platform.engine, config, followPollMs: 20 }), platform.store);
});
afterEach(async () => {
  await sweeper?.stop();
  sweeper = null;
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

const get = async <T>(path: string): Promise<T> => {
  const res = await app.request(path);
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
};

async function submit(body: Record<string, unknown>): Promise<Run> {
  const res = await app.request('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as Run;
}

async function ran(body: Record<string, unknown>): Promise<Run> {
  return platform.waitForEnd((await submit(body)).id);
}

/** Moves a run's times back, as if it had run `days` days ago. */
async function age(runId: string, days: number): Promise<void> {
  await platform.sql.query(
    `UPDATE runs SET created_at = created_at - $2 * interval '1 day', started_at = started_at - $2 * interval '1 day',
                     finished_at = finished_at - $2 * interval '1 day' WHERE id = $1`,
    [runId, days],
  );
}

/** A sweeper on this platform that sweeps only when told (`sweep()`). */
function sweeperOf(onBatch?: (b: RetentionBatch) => void | Promise<void>): RetentionSweeper {
  sweeper = startRetention({ policy: config.retention, store: platform.store, firstAfterMs: 3_600_000, pauseMs: 0, ...(onBatch ? { onBatch } : {}) });
  return sweeper;
}

/** An HTTP endpoint a script calls in a loop: it answers `go` until `stop()`, and says when the next call arrives. */
async function tickServer() {
  let calls = 0;
  let stopped = false;
  let waiters: { after: number; resolve: () => void }[] = [];
  const server: Server = createServer((_req, res) => {
    calls++;
    for (const w of waiters.filter((w) => calls > w.after)) w.resolve();
    waiters = waiters.filter((w) => calls <= w.after);
    res.end(stopped ? 'stop' : 'go');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    /** Resolves once a call arrives after the `after`-th. */
    callAfter: (after: number) => new Promise<void>((resolve) => (calls > after ? resolve() : waiters.push({ after, resolve }))),
    stop: () => (stopped = true),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const TICKING = [
  'local net = require("net")',
  'local i = 0',
  'repeat',
  '  i = i + 1',
  '  print("tick " .. i)',
  '  local answer = net.get(env.BASE .. "/tick").body',
  'until answer == "stop"',
  'print("done after " .. i .. " ticks")',
].join('\n');

describe('retention (TOPAS_RETENTION_DAYS=30, TOPAS_RETENTION_OVERRIDES=env=prod:90, TOPAS_LOG_RETENTION_DAYS=7)', () => {
  it('old finished runs disappear from /api/runs after a sweep; newer, running and label-kept runs stay', async () => {
    const ticks = await tickServer();
    try {
      const old = await ran({ name: 'old', script: 'print("old")' });
      const oldProd = await ran({ name: 'old prod', script: 'print("prod")', labels: { env: 'prod' } });
      const ancientProd = await ran({ name: 'ancient prod', script: 'print("prod")', labels: { env: 'prod' } });
      const oldStaging = await ran({ name: 'old staging', script: 'print("staging")', labels: { env: 'staging' } });
      const recent = await ran({ name: 'recent', script: 'print("recent")' });
      const running = await submit({ name: 'running', script: TICKING, env: { BASE: ticks.url } });
      await ticks.callAfter(0);
      for (const id of [old.id, oldStaging.id]) await age(id, 40);
      await age(oldProd.id, 60);
      await age(ancientProd.id, 120);
      await age(running.id, 400); // started long ago, still Running: not finished, never deleted

      const sweep = await sweeperOf().sweep();
      expect(sweep).toMatchObject({ deletedRuns: 3, complete: true });

      const listed = await get<{ items: Run[] }>('/api/runs?limit=100');
      expect(listed.items.map((r) => r.name).sort()).toEqual(['old prod', 'recent', 'running']);
      expect((await app.request(`/api/runs/${old.id}`)).status).toBe(404);
      expect((await app.request(`/api/runs/${ancientProd.id}`)).status).toBe(404);

      ticks.stop();
      const ended = await platform.waitForEnd(running.id);
      expect(ended.phase).toBe('Passed');
      const stats = await get<{ runsByPhase: Record<string, number> }>('/api/stats');
      expect(stats.runsByPhase).toMatchObject({ Passed: 3, Running: 0, Queued: 0 });
    } finally {
      await ticks.close();
    }
  });

  it("expired logs leave the run, its steps and summary; the run and its logs say why there are no lines", async () => {
    const script = ['print("first line")', 'test("checkout", function()', '  step("pay", function() expect(2 + 2).to_be(4) end)', 'end)'].join('\n');
    const old = await ran({ name: 'ten days old', script });
    const fresh = await ran({ name: 'yesterday', script });
    await age(old.id, 10);
    await age(fresh.id, 1);
    expect((await get<{ items: unknown[] }>(`/api/runs/${old.id}/logs`)).items.length).toBeGreaterThan(0);

    const sweep = await sweeperOf().sweep();
    expect(sweep).toMatchObject({ deletedRuns: 0, expiredLogRuns: 1 });

    const run = await get<Run & { steps: { name: string; status: string }[]; assertions: unknown[] }>(`/api/runs/${old.id}`);
    expect(run.phase).toBe('Passed');
    expect(run.logsExpiredAt).not.toBeNull();
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ['checkout', 'passed'],
      ['pay', 'passed'],
    ]);
    expect(run.assertions).toHaveLength(1);
    expect(run.summary).toMatchObject({ stepsPassed: 2, assertionsPassed: 1 });

    const logs = await get<{ items: unknown[]; logsExpiredAt: string | null; notice: string | null }>(`/api/runs/${old.id}/logs`);
    expect(logs.items).toEqual([]);
    expect(logs.logsExpiredAt).toBe(run.logsExpiredAt);
    expect(logs.notice).toMatch(/log lines of this run were deleted on \d{4}-\d\d-\d\d by log retention \(log lines are kept 7 days after a run finishes: TOPAS_LOG_RETENTION_DAYS\)\. Its steps, assertions and results are kept\./);

    const kept = await get<{ items: { message: string }[]; logsExpiredAt: string | null; notice: string | null }>(`/api/runs/${fresh.id}/logs`);
    expect(kept.items.map((l) => l.message)).toContain('first line');
    expect(kept).toMatchObject({ logsExpiredAt: null, notice: null });
  });

  it('works off 5,000 old runs in batches of 500 while a run keeps executing, which then finishes normally', async () => {
    await platform.sql.query(
      `INSERT INTO runs (id, name, phase, origin, source, timeout_seconds, created_at, started_at, finished_at, duration_ms)
       SELECT 'backlog-' || lpad(i::text, 5, '0'), 'backlog', 'Passed', 'api', '{"type":"inline","script":""}', 60,
              now() - interval '60 days' - i * interval '1 second', now() - interval '60 days' - i * interval '1 second',
              now() - interval '60 days' - i * interval '1 second' + interval '10 ms', 10
         FROM generate_series(1, 5000) AS i`,
    );
    const ticks = await tickServer();
    try {
      const run = await submit({ name: 'busy', script: TICKING, env: { BASE: ticks.url } });
      await ticks.callAfter(0);
      const batches: RetentionBatch[] = [];
      // After every batch the run makes another call (and writes another log line)
      // before the next batch starts: the sweep never holds it up.
      const sweep = await sweeperOf(async (b) => {
        batches.push(b);
        await ticks.callAfter(ticks.calls());
      }).sweep();
      const runBatches = batches.filter((b) => b.kind === 'runs');
      expect(runBatches.map((b) => b.runs)).toEqual([...Array(10).fill(500), 0]);
      expect(sweep).toMatchObject({ deletedRuns: 5000, complete: true });
      expect((await platform.store.getRun(run.id))!.phase).toBe('Running');

      ticks.stop();
      const ended = await platform.waitForEnd(run.id);
      expect(ended.phase).toBe('Passed');
      const lines = (await get<{ items: { message: string }[] }>(`/api/runs/${run.id}/logs?limit=1000`)).items.map((l) => l.message);
      expect(lines.filter((l) => l.startsWith('tick ')).length).toBeGreaterThan(batches.length);
      expect(lines.at(-1)).toMatch(/^done after \d+ ticks$/);
      const listed = await get<{ items: Run[] }>('/api/runs');
      expect(listed.items.map((r) => r.name)).toEqual(['busy']);
    } finally {
      await ticks.close();
    }
  }, 60_000);
});
