import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { Controller, TerminalError } from './controller.js';
import { ControllerMetrics } from './controller-metrics.js';

describe('Controller', () => {
  it('retries a failing reconcile with back-off until it succeeds, and counts each outcome', async () => {
    const metrics = new ControllerMetrics(new Registry());
    let calls = 0;
    const c = new Controller({
      name: 't',
      queue: { baseDelayMs: 5 },
      metrics,
      reconcile: async () => {
        if (++calls < 3) throw new Error('API down');
      },
    });
    c.start();
    c.queue.add('ns/a');
    await vi.waitFor(() => expect(calls).toBe(3));
    await c.stop();
    const values = (await metrics.reconciles.get()).values;
    expect(values.find((v) => v.labels.result === 'error')?.value).toBe(2);
    expect(values.find((v) => v.labels.result === 'success')?.value).toBe(1);
  });

  it('does not retry a TerminalError', async () => {
    let calls = 0;
    const c = new Controller({
      name: 't',
      queue: { baseDelayMs: 1 },
      reconcile: async () => {
        calls++;
        throw new TerminalError('bad spec');
      },
    });
    c.start();
    c.queue.add('ns/a');
    await vi.waitFor(() => expect(calls).toBe(1));
    c.queue.add('ns/b');
    await vi.waitFor(() => expect(calls).toBe(2));
    await c.stop();
    expect(calls).toBe(2);
  });

  it('requeues after the asked delay', async () => {
    const seen: number[] = [];
    const c = new Controller({
      name: 't',
      reconcile: async () => {
        seen.push(Date.now());
        return seen.length < 2 ? { requeueAfterMs: 30 } : undefined;
      },
    });
    c.start();
    c.queue.add('ns/a');
    await vi.waitFor(() => expect(seen.length).toBe(2));
    await c.stop();
    expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(25);
  });

  it('never reconciles one key in two workers at once', async () => {
    let inFlight = 0;
    let max = 0;
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = new Controller({
      name: 't',
      workers: 4,
      reconcile: async () => {
        calls++;
        max = Math.max(max, ++inFlight);
        if (calls === 1) await gate;
        inFlight--;
      },
    });
    c.start();
    c.queue.add('ns/a');
    await vi.waitFor(() => expect(calls).toBe(1));
    c.queue.add('ns/a');
    c.queue.add('ns/a');
    release();
    await vi.waitFor(() => expect(calls).toBe(2));
    await c.stop();
    expect(max).toBe(1);
  });
});
