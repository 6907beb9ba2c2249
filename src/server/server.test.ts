/** The API over real HTTP against a real topas (PGlite, Lua workers). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../core/run.js';
import type { RunNotification } from '../engine/engine.js';
import { sseReader, type SseEvent } from './testing/sse-reader.js';
import { startTestTopas, type TestTopas } from './testing/test-topas.js';

let topas: TestTopas;
beforeAll(async () => {
  topas = await startTestTopas();
});
afterAll(async () => {
  await topas?.close();
});

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
const items = async <T>(res: Response) => ((await res.json()) as { items: T[]; nextCursor: string | null });

async function readAll(res: Response): Promise<SseEvent[]> {
  const reader = sseReader(res);
  const events: SseEvent[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) events.push(e);
  return events;
}

describe('topas API over HTTP', () => {
  it('rejects bad input naming the field and stores nothing', async () => {
    for (const [body, message] of [
      [{ script: 'print(1)', timeoutSeconds: 90000 }, /^timeoutSeconds: must be an integer from 1 to 86400, got 90000$/],
      [{ script: 'print(1)', env: { FOO: true } }, /^env\.FOO: must be a string, got true$/],
      [{ script: 'print(1)', definitionId: 'x' }, /exactly one of script, definitionId and source, not two/],
      [{ scirpt: 'print(1)' }, /scirpt: unknown field/],
    ] as const) {
      const res = await topas.post('/api/runs', body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    expect((await items(await topas.get('/api/runs'))).items).toEqual([]);
  });

  it('creates a run (201, id and phase top-level) that reaches Passed', async () => {
    const res = await topas.post('/api/runs', { script: 'print("hello")\nstep("adds", function() assert(1 + 1 == 2) end)', fileName: 'hello.lua' });
    expect(res.status).toBe(201);
    const run = (await res.json()) as Run;
    expect(run).toMatchObject({ phase: expect.stringMatching(/^(Queued|Running)$/), name: 'hello', origin: 'api' });
    expect(res.headers.get('location')).toBe(`/api/runs/${run.id}`);
    expect((await topas.waitForEnd(run.id)).phase).toBe('Passed');
    const detail = (await (await topas.get(`/api/runs/${run.id}`)).json()) as Run & { steps: { name: string; status: string }[] };
    expect(detail.steps).toMatchObject([{ name: 'adds', status: 'passed' }]);
  });

  it('starts a batch of runs in one call (201, in order) that all reach their end', async () => {
    const res = await topas.post('/api/runs:batch', {
      runs: [
        { script: 'assert(1 + 1 == 2)', name: 'batch-a', labels: { fanout: 'b1' } },
        { script: 'assert(false, "no")', name: 'batch-b', labels: { fanout: 'b1' } },
        { script: 'print("c")', fileName: 'batch-c.lua', labels: { fanout: 'b1' }, origin: 'cli' },
      ],
    });
    expect(res.status).toBe(201);
    const { runs } = (await res.json()) as { runs: Run[] };
    expect(runs.map((r) => [r.name, r.origin])).toEqual([['batch-a', 'api'], ['batch-b', 'api'], ['batch-c', 'cli']]);
    for (const r of runs) expect(['Queued', 'Running']).toContain(r.phase);
    expect(await Promise.all(runs.map(async (r) => (await topas.waitForEnd(r.id)).phase))).toEqual(['Passed', 'Failed', 'Passed']);
  });

  it('refuses a batch with one bad run naming runs[i].field, and starts none of it', async () => {
    const good = { script: 'print(1)', labels: { fanout: 'bad' } };
    for (const [body, message] of [
      [{ runs: [good, { ...good, timeoutSeconds: 0 }] }, /^runs\[1\]\.timeoutSeconds: must be an integer from 1 to 86400, got 0$/],
      [{ runs: [good, { ...good, scirpt: 'x' }] }, /runs\[1\]\.scirpt: unknown field/],
      [{ runs: [{ definitionId: 'no-such-definition' }, good] }, /^runs\[0\]\.definitionId: test definition "no-such-definition" not found/],
      [{ runs: [good, { ...good, appName: 'no-such-app' }] }, /^runs\[1\]\.appName: App "no-such-app" does not exist/],
      [{ runs: [] }, /^runs: must hold at least one run$/],
      [{ runs: Array.from({ length: 1001 }, () => good) }, /^runs: must hold at most 1000 runs; split the batch$/],
      [{ run: [good] }, /run: unknown field/],
    ] as const) {
      const res = await topas.post('/api/runs:batch', body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    expect((await items(await topas.get('/api/runs?label=fanout=bad'))).items).toEqual([]);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    expect((await topas.get('/api/runs/01a20005-860a-75c0-bbfc-000000000000')).status).toBe(404);
    const malformed = await topas.get('/api/runs/definitely-not-an-id/logs');
    expect(malformed.status).toBe(404);
    expect((await errorOf(malformed)).message).toBe('run "definitely-not-an-id" not found');
  });

  it('pages through nextCursor and filters by label, origin and phase', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await topas.post('/api/runs', { script: 'print(1)', name: `paged-${i}`, labels: { batch: 'p' }, origin: i === 0 ? 'ui' : 'api' });
      created.push(((await res.json()) as Run).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Run[]; nextCursor: string | null } = await items<Run>(await topas.get(`/api/runs?label=batch=p&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
    expect((await items<Run>(await topas.get('/api/runs?label=batch=p&origin=ui'))).items.map((r) => r.id)).toEqual([created[0]]);
    await Promise.all(created.map((id) => topas.waitForEnd(id)));
    expect((await items<Run>(await topas.get('/api/runs?label=batch=p&phase=Passed'))).items).toHaveLength(5);
    expect((await items<Run>(await topas.get('/api/runs?label=batch=p&phase=Failed,Error'))).items).toHaveLength(0);
    expect((await topas.get('/api/runs?cursor=garbage')).status).toBe(400);
  });

  it('cancels a running run (200) and refuses to cancel it again (409 naming its phase)', async () => {
    const run = (await (await topas.post('/api/runs', { script: 'print("waiting")\nsleep(30000)' })).json()) as Run;
    for (let i = 0; i < 200 && ((await (await topas.get(`/api/runs/${run.id}`)).json()) as Run).phase !== 'Running'; i++) await new Promise((r) => setTimeout(r, 20));
    const res = await topas.post(`/api/runs/${run.id}/cancel`, {});
    expect(res.status).toBe(200);
    expect(((await res.json()) as Run).phase).toBe('Cancelled');
    const again = await topas.post(`/api/runs/${run.id}/cancel`, {});
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toMatch(/already finished \(Cancelled\)/);
  });

  it('stores definitions, runs them and refuses duplicates', async () => {
    const res = await topas.post('/api/definitions', { name: 'env-check', script: 'assert(env.GREETING == "hi", "greeting")\nprint(env.GREETING)', env: { GREETING: 'hi' } });
    expect(res.status).toBe(201);
    expect((await topas.post('/api/definitions', { name: 'env-check', script: 'x' })).status).toBe(409);
    const run = (await (await topas.post('/api/definitions/env-check/runs', {})).json()) as Run;
    expect((await topas.waitForEnd(run.id)).phase).toBe('Passed');
    const failing = (await (await topas.post('/api/definitions/env-check/runs', { env: { GREETING: 'bye' } })).json()) as Run;
    expect(await topas.waitForEnd(failing.id)).toMatchObject({ phase: 'Failed', reason: 'AssertionFailed' });
    const defs = await items<{ name: string }>(await topas.get('/api/definitions'));
    expect(defs.items.map((d) => d.name)).toEqual(['env-check']);
  });

  it('streams a live run over SSE in order, ends with its phase, and resumes from Last-Event-ID', async () => {
    const script = 'for i = 1, 5 do print("line " .. i) sleep(40) end\nstep("done", function() assert(true) end)';
    const run = (await (await topas.post('/api/runs', { script, fileName: 'stream.lua' })).json()) as Run;
    const events = await readAll(await topas.get(`/api/runs/${run.id}/logs?follow=true`));
    const logs = events.filter((e) => e.event === 'log');
    expect(logs.map((e) => JSON.parse(e.data).message)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    expect(logs.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(events.some((e) => e.event === 'step' && JSON.parse(e.data).status === 'passed')).toBe(true);
    expect(events.at(-1)!.event).toBe('end');
    expect(JSON.parse(events.at(-1)!.data).phase).toBe('Passed');

    const resumed = await readAll(await topas.get(`/api/runs/${run.id}/logs`, { headers: { accept: 'text/event-stream', 'last-event-id': '3' } }));
    expect(resumed.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).message)).toEqual(['line 4', 'line 5']);
  });

  it('releases the engine subscription when an SSE client disconnects', async () => {
    const engine = topas.engine as { subscribe: (id: string, l: (n: RunNotification) => void) => () => void };
    const original = engine.subscribe;
    let active = 0;
    engine.subscribe = (id, listener) => {
      active++;
      const off = original.call(topas.engine, id, listener);
      return () => {
        active--;
        off();
      };
    };
    try {
      const run = (await (await topas.post('/api/runs', { script: 'sleep(5000)' })).json()) as Run;
      const abort = new AbortController();
      const res = await topas.get(`/api/runs/${run.id}/logs?follow=true`, { signal: abort.signal });
      const reader = sseReader(res);
      await reader.next();
      expect(active).toBe(1);
      abort.abort();
      for (let i = 0; i < 100 && active > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(active).toBe(0);
      await topas.post(`/api/runs/${run.id}/cancel`, {});
    } finally {
      engine.subscribe = original;
    }
  });

  it('serves metrics, stats, health and the OpenAPI document', async () => {
    const metrics = await topas.get('/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await metrics.text();
    for (const name of ['topas_queue_depth', 'topas_active_runners', 'topas_test_duration_seconds']) expect(text).toContain(name);
    expect(await (await topas.get('/healthz')).json()).toEqual({ status: 'ok' });
    const stats = (await (await topas.get('/api/stats')).json()) as { concurrency: number; runsByPhase: Record<string, number> };
    expect(stats.concurrency).toBe(4);
    expect(stats.runsByPhase.Passed).toBeGreaterThan(0);
    const doc = (await (await topas.get('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toHaveLength(42);
  });
});
