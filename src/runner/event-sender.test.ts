import { describe, expect, it } from 'vitest';
import type { NumberedRunEvent } from '../core/run-events.js';
import { EventSender } from './event-sender.js';

const line = (seq: number): NumberedRunEvent => ({ type: 'log', seq, ts: 0, level: 'info', message: `line ${seq}`, stepSeq: null });

describe('EventSender', () => {
  it('sends what comes after a send that had nothing to send (a runner re-attached after a restart hung here)', async () => {
    const posted: number[][] = [];
    const sender = new EventSender({ post: async (events) => void posted.push(events.map((e) => e.seq)), flushMs: 60_000, maxBatch: 10 });
    await sender.send(); // nothing pending: must leave no settled "send in flight" behind
    sender.add(line(1));
    await sender.send();
    expect(posted).toEqual([[1]]);
    expect(sender.pending).toBe(0);
  });

  it('keeps events until the server took them, in order, one batch in flight, and joins a send in flight', async () => {
    const posted: number[][] = [];
    let release!: () => void;
    let calls = 0;
    const sender = new EventSender({
      post: (events) => {
        posted.push(events.map((e) => e.seq));
        return ++calls === 1 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
      flushMs: 60_000,
      maxBatch: 2,
    });
    sender.add(line(1));
    sender.add(line(2)); // a full batch goes at once
    sender.add(line(3));
    const joined = sender.send(); // joins the batch in flight
    expect(posted).toEqual([[1, 2]]);
    release();
    await joined;
    await sender.sendAll();
    expect(posted).toEqual([[1, 2], [3]]);
    expect(sender.pending).toBe(0);
  });

  it('stops at a refusal and keeps what was not taken', async () => {
    const sender = new EventSender({ post: async () => Promise.reject(new Error('400: bad batch')), flushMs: 60_000, maxBatch: 10 });
    sender.add(line(1));
    await sender.sendAll();
    expect(String(sender.failure)).toContain('bad batch');
    expect(sender.pending).toBe(1);
  });
});
