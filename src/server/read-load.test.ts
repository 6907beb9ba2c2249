/**
 * A real topas (PGlite, Lua workers, HTTP on 127.0.0.1) read hard while it runs runs:
 * the engine keeps finishing runs, every read is answered, shared reads never miss a
 * write the caller saw acknowledged, and ETags give 304 until the answer changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../core/run-phase.js';
import type { Run } from '../core/run.js';
import { startTestTopas, type TestTopas } from './testing/test-topas.js';

let topas: TestTopas;
beforeAll(async () => {
  topas = await startTestTopas();
});
afterAll(async () => {
  await topas?.close();
});

/** Closed-loop readers cycling over `paths()` until stopped; the statuses they got. */
function readers(n: number, paths: () => string[]) {
  const statuses = new Map<number, number>();
  let stopped = false;
  const loops = Array.from({ length: n }, async (_, k) => {
    for (let i = k; !stopped; i++) {
      const list = paths();
      const res = await topas.get(list[i % list.length]!);
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  });
  return {
    statuses,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Resolves once `count` runs have ended (told by the engine's bus). */
function endsOf(count: number): Promise<void> {
  let ended = 0;
  return new Promise((resolve) => {
    const stop = topas.engine.subscribeAll((n) => {
      if (n.type === 'phase' && isTerminal(n.run.phase) && ++ended >= count) {
        stop();
        resolve();
      }
    });
  });
}

describe('reads under load', () => {
  it('keeps finishing runs while 50 readers hammer the runs and stats, and answers every read', async () => {
    const ids: string[] = [];
    const load = readers(50, () => ['/api/runs', '/api/stats', ...(ids.length ? [`/api/runs/${ids[ids.length - 1]}`] : [])]);
    const total = 40;
    const ended = endsOf(total);
    for (let i = 0; i < total; i++) {
      const res = await topas.post('/api/runs', { name: `busy-${i}`, script: 'assert(1+1==2)' });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as Run).id);
    }
    await ended;
    await load.stop();
    const runs = await Promise.all(ids.map((id) => topas.store.getRun(id)));
    expect(runs.map((r) => r?.phase)).toEqual(Array(total).fill('Passed'));
    expect([...load.statuses.keys()]).toEqual([200]);
    expect(load.statuses.get(200)).toBeGreaterThan(0);
  });

  it('never answers a read with data older than a write the caller saw acknowledged', async () => {
    // Identical reads from others keep being shared meanwhile.
    const load = readers(20, () => ['/api/runs?limit=5', '/api/stats']);
    try {
      for (let i = 0; i < 15; i++) {
        const before = (await (await topas.get('/api/stats')).json()) as { runsByPhase: Record<string, number> };
        const total = Object.values(before.runsByPhase).reduce((a, b) => a + b, 0);
        const created = (await (await topas.post('/api/runs', { name: `ack-${i}`, script: 'assert(true)' })).json()) as Run;
        const [lists, stats] = await Promise.all([
          Promise.all(Array.from({ length: 5 }, async () => (await (await topas.get('/api/runs?limit=5')).json()) as { items: Run[] })),
          Promise.all(Array.from({ length: 5 }, async () => (await (await topas.get('/api/stats')).json()) as { runsByPhase: Record<string, number> })),
        ]);
        for (const list of lists) expect(list.items.map((r) => r.id)).toContain(created.id);
        for (const s of stats) expect(Object.values(s.runsByPhase).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(total + 1);
      }
    } finally {
      await load.stop();
    }
    expect([...load.statuses.keys()]).toEqual([200]);
  });

  it('answers 304 to a matching If-None-Match and 200 with the new body once the answer changed', async () => {
    const created = (await (await topas.post('/api/runs', { name: 'etag', script: 'assert(true)' })).json()) as Run;
    await topas.waitForEnd(created.id);
    const one = await topas.get(`/api/runs/${created.id}`);
    const tag = one.headers.get('etag')!;
    expect(tag).toMatch(/^W\//);
    const again = await topas.get(`/api/runs/${created.id}`, { headers: { 'if-none-match': tag } });
    expect(again.status).toBe(304);

    const list = await topas.get('/api/runs?limit=5');
    const listTag = list.headers.get('etag')!;
    expect((await topas.get('/api/runs?limit=5', { headers: { 'if-none-match': listTag } })).status).toBe(304);
    const next = (await (await topas.post('/api/runs', { name: 'etag-2', script: 'assert(true)' })).json()) as Run;
    const changed = await topas.get('/api/runs?limit=5', { headers: { 'if-none-match': listTag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(listTag);
    expect(((await changed.json()) as { items: Run[] }).items[0]!.id).toBe(next.id);
  });

  it('answers 404 naming the run for an unknown id, shared or not', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const answers = await Promise.all(Array.from({ length: 5 }, () => topas.get(`/api/runs/${id}`)));
    for (const res of answers) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(id);
    }
  });
});
