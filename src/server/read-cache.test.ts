/** Shared reads: identical reads that wait share one load, never one that started before them; admission; ETags. */
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import type { Identity } from '../core/roles.js';
import { MAX_AGE_BONUS, ReadCoalescer, matchesIfNoneMatch, sharedRead } from './read-cache.js';

/** A load the test finishes by hand, counting its calls. */
function gate<T>() {
  let calls = 0;
  const releases: ((v: T) => void)[] = [];
  return {
    load: () => {
      calls++;
      return new Promise<T>((r) => releases.push(r));
    },
    get calls() {
      return calls;
    },
    /** Finishes the oldest unfinished load with `v`. */
    release(v: T) {
      releases.shift()!(v);
    },
    get started() {
      return releases.length;
    },
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * A coalescer of one slot held by a read the test releases: reads queued meanwhile start
 * in the order it picks, recorded in `order` as `read(key)` runs them.
 */
function oneBusySlot(reads: ReadCoalescer) {
  const busy = gate<string>();
  const order: string[] = [];
  void reads.read('busy', busy.load);
  return {
    order,
    read: (key: string) => reads.read(key, async () => (order.push(key), key)),
    release: () => busy.release('x'),
  };
}

describe('ReadCoalescer', () => {
  it('gives identical reads that arrive before the load starts one load and the same answer', async () => {
    const reads = new ReadCoalescer(1);
    const busy = gate<string>();
    const first = reads.read('other', busy.load); // holds the one slot
    const g = gate<{ v: number }>();
    const a = reads.read('k', g.load);
    const b = reads.read('k', g.load);
    const c = reads.read('k', g.load);
    busy.release('x');
    await first;
    await tick();
    expect(g.calls).toBe(1);
    g.release({ v: 1 });
    const answers = await Promise.all([a, b, c]);
    expect(answers.map((x) => x.body)).toEqual(['{"v":1}', '{"v":1}', '{"v":1}']);
  });

  it('never joins a read that started before it arrived (it could miss a write the caller saw)', async () => {
    const reads = new ReadCoalescer(4);
    const g = gate<{ v: number }>();
    const early = reads.read('k', g.load);
    await tick();
    expect(g.started).toBe(1); // under way
    const late = reads.read('k', g.load);
    await tick();
    expect(g.calls).toBe(1); // the late read waits for its twin instead of running beside it
    g.release({ v: 1 });
    expect((await early).body).toBe('{"v":1}');
    while (g.started === 0) await tick();
    expect(g.calls).toBe(2);
    g.release({ v: 2 });
    expect((await late).body).toBe('{"v":2}');
  });

  it('starts the queued read that answers the most callers first, the oldest on a tie', async () => {
    const slot = oneBusySlot(new ReadCoalescer(1));
    const answers = ['one', 'two', 'shared', 'shared', 'shared', 'pair', 'pair'].map(slot.read);
    slot.release();
    await Promise.all(answers);
    expect(slot.order).toEqual(['shared', 'pair', 'one', 'two']);
  });

  it('lets a read that has waited go before fresher reads with more callers', async () => {
    let now = 0;
    const slot = oneBusySlot(new ReadCoalescer(1, 20, () => now));
    const answers = [slot.read('old single run')];
    now = 50; // it waited 50 ms: a claim of 1 + 2.5 callers
    answers.push(...['shared', 'shared', 'shared'].map(slot.read)); // 3 callers, just queued
    answers.push(slot.read('other'));
    slot.release();
    await Promise.all(answers);
    expect(slot.order).toEqual(['old single run', 'shared', 'other']);
  });

  it('lets waiting add at most MAX_AGE_BONUS callers: a read with more callers still goes first', async () => {
    let now = 0;
    const slot = oneBusySlot(new ReadCoalescer(1, 20, () => now));
    const answers = [slot.read('old single run')];
    now = 10_000; // ten seconds: the bonus stops at MAX_AGE_BONUS
    for (let i = 0; i < MAX_AGE_BONUS + 2; i++) answers.push(slot.read('stats'));
    slot.release();
    await Promise.all(answers);
    expect(slot.order).toEqual(['stats', 'old single run']);
  });

  it('gives a read whose twin runs no slot: reads of other keys go meanwhile', async () => {
    const reads = new ReadCoalescer(2);
    const hot = gate<string>();
    const single = gate<string>();
    const first = reads.read('hot', hot.load);
    await tick();
    const again = [reads.read('hot', hot.load), reads.read('hot', hot.load), reads.read('hot', hot.load)];
    const other = reads.read('single', single.load);
    await tick();
    expect(hot.started).toBe(1); // the queued hot read (3 callers) waits for its twin
    expect(single.started).toBe(1); // the free slot goes to the single read
    single.release('s');
    expect((await other).body).toBe('"s"');
    hot.release('h1');
    expect((await first).body).toBe('"h1"');
    while (hot.started === 0) await tick();
    hot.release('h2');
    expect((await Promise.all(again)).map((a) => a.body)).toEqual(['"h2"', '"h2"', '"h2"']);
    expect(hot.calls).toBe(2);
  });

  it('lets at most `concurrency` loads run; the rest wait and all are answered', async () => {
    const reads = new ReadCoalescer(2);
    const g = gate<number>();
    const all = Array.from({ length: 6 }, (_, i) => reads.read(`k${i}`, g.load));
    await tick();
    expect(g.started).toBe(2);
    expect(reads.queued).toBe(4);
    for (let i = 0; i < 6; i++) {
      while (g.started === 0) await tick();
      expect(g.started).toBeLessThanOrEqual(2);
      g.release(i);
    }
    expect((await Promise.all(all)).map((a) => a.body)).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('passes a failed load to every caller that shared it, and the next read loads again', async () => {
    const reads = new ReadCoalescer(1);
    const busy = gate<number>();
    void reads.read('busy', busy.load);
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('store down'));
    };
    const a = reads.read('k', failing);
    const b = reads.read('k', failing);
    busy.release(0);
    await expect(a).rejects.toThrow('store down');
    await expect(b).rejects.toThrow('store down');
    expect(calls).toBe(1);
    expect((await reads.read('k', async () => 'ok')).body).toBe('"ok"');
  });
});

describe('sharedRead over HTTP', () => {
  /** An app whose `x-role` header stands for the caller's token (the real chain sets the identity). */
  function appWith(load: () => Promise<unknown>, busy: Promise<unknown> = Promise.resolve(1)) {
    const reads = new ReadCoalescer(1);
    const app = new Hono<{ Variables: { identity: Identity } }>();
    app.use('*', async (c, next) => {
      c.set('identity', { name: 't', role: c.req.header('x-role') as Identity['role'], tokenId: 't', via: 'bearer' });
      await next();
    });
    app.get('/busy', (c) => sharedRead(c, reads, () => busy));
    app.get('/thing', (c) => sharedRead(c, reads, load));
    return Object.assign(app, { reads });
  }

  it('answers 200 with an ETag, 304 for a matching If-None-Match, and 200 with the new body once it changed', async () => {
    let value = 1;
    const app = appWith(async () => ({ value }));
    const first = await app.request('/thing', { headers: { 'x-role': 'viewer' } });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    expect(await first.json()).toEqual({ value: 1 });
    const same = await app.request('/thing', { headers: { 'x-role': 'viewer', 'if-none-match': etag } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');
    value = 2;
    const changed = await app.request('/thing', { headers: { 'x-role': 'viewer', 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.json()).toEqual({ value: 2 });
  });

  it('shares a read only between callers of the same role', async () => {
    let loads = 0;
    let release!: (v: number) => void;
    const app = appWith(async () => ({ n: ++loads }), new Promise((r) => (release = r)));
    const busy = app.request('/busy', { headers: { 'x-role': 'viewer' } }); // holds the one slot: the rest queue
    const pending = Promise.all([
      app.request('/thing', { headers: { 'x-role': 'viewer' } }),
      app.request('/thing', { headers: { 'x-role': 'viewer' } }),
      app.request('/thing', { headers: { 'x-role': 'admin' } }),
    ]);
    await vi.waitFor(() => expect(app.reads.queued).toBe(2)); // one read per role waits
    release(1);
    const answers = await pending;
    await busy;
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(loads).toBe(2);
    expect(bodies[0]).toEqual(bodies[1]);
    expect(bodies[2]).not.toEqual(bodies[0]);
  });

  it('matches If-None-Match lists, weak tags and *', () => {
    expect(matchesIfNoneMatch('W/"a", W/"b"', 'W/"b"')).toBe(true);
    expect(matchesIfNoneMatch('"b"', 'W/"b"')).toBe(true);
    expect(matchesIfNoneMatch('*', 'W/"b"')).toBe(true);
    expect(matchesIfNoneMatch('W/"c"', 'W/"b"')).toBe(false);
    expect(matchesIfNoneMatch(undefined, 'W/"b"')).toBe(false);
  });
});
