import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('holds a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('processes a key added while it is processed once more, after, never twice at once', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).toBe(0); // not handed to a second worker while processing
    q.done(key!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('hands a key to a waiting worker at once', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add('x');
    expect(await next).toBe('x');
  });

  it('backs off a failing key exponentially and forgets after success', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
    const times: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 4; i++) {
      q.addRateLimited('k');
      const k = await q.get();
      times.push(Date.now() - start);
      q.done(k!);
    }
    expect(q.retries('k')).toBe(4);
    // 10, 20, 40, 40 (capped): cumulative ≥ 110 ms
    expect(times[3]).toBeGreaterThanOrEqual(105);
    q.forget('k');
    expect(q.retries('k')).toBe(0);
  });

  it('keeps the earlier of two scheduled adds', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 60_000);
    q.addAfter('k', 5);
    const started = Date.now();
    expect(await q.get()).toBe('k');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wakes waiting workers with null on shutdown', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.shutDown();
    expect(await next).toBeNull();
  });
});
