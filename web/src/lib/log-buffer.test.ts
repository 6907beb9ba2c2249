import { describe, expect, it } from 'vitest';
import { makeLines } from '../testing/fixtures';
import { LogBuffer, createFrameScheduler, formatLogLine, logText } from './log-buffer';

describe('LogBuffer (SSE line buffering)', () => {
  it('holds pushed lines only after a flush, once per batch', () => {
    const buffer = new LogBuffer();
    expect(buffer.push(makeLines(1, 3))).toBe(3);
    expect(buffer.lines).toHaveLength(0);
    expect(buffer.lastSeq).toBe(3);
    expect(buffer.flush()).toBe(true);
    expect(buffer.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(buffer.version).toBe(1);
    expect(buffer.flush()).toBe(false);
    expect(buffer.version).toBe(1);
  });

  it('drops lines it already has when a page and the stream overlap or a reconnect replays', () => {
    const buffer = new LogBuffer();
    buffer.push(makeLines(1, 1000)); // a page
    buffer.flush();
    expect(buffer.push(makeLines(990, 1005))).toBe(5); // the stream resumed a little early
    expect(buffer.push(makeLines(1003, 1004))).toBe(0); // replayed while pending
    buffer.flush();
    expect(buffer.lines).toHaveLength(1005);
    expect(buffer.lines.every((l, i) => l.seq === i + 1)).toBe(true);
  });

  it('ignores out-of-order lines', () => {
    const buffer = new LogBuffer();
    buffer.push([...makeLines(5, 5), ...makeLines(3, 3), ...makeLines(6, 6)]);
    buffer.flush();
    expect(buffer.lines.map((l) => l.seq)).toEqual([5, 6]);
  });

  it('takes 100,000 lines in one flush', () => {
    const buffer = new LogBuffer();
    for (let from = 1; from <= 100_000; from += 1000) buffer.push(makeLines(from, from + 999));
    buffer.flush();
    expect(buffer.lines).toHaveLength(100_000);
    expect(buffer.lastSeq).toBe(100_000);
  });

  it('clears', () => {
    const buffer = new LogBuffer();
    buffer.push(makeLines(1, 2));
    buffer.flush();
    buffer.clear();
    expect(buffer.lines).toHaveLength(0);
    expect(buffer.lastSeq).toBe(0);
  });
});

describe('createFrameScheduler', () => {
  it('coalesces many requests into one flush per tick, and stops after cancel', () => {
    const ticks: (() => void)[] = [];
    let flushes = 0;
    const scheduler = createFrameScheduler(() => flushes++, (cb) => ticks.push(cb));
    for (let i = 0; i < 500; i++) scheduler.request();
    expect(ticks).toHaveLength(1);
    ticks.shift()!();
    expect(flushes).toBe(1);
    scheduler.request();
    scheduler.cancel();
    ticks.shift()!();
    expect(flushes).toBe(1);
  });
});

describe('download text', () => {
  it('writes one line per log line', () => {
    const [line] = makeLines(1, 1);
    expect(formatLogLine({ ...line!, level: 'warn', message: 'slow' })).toBe('2025-01-31T12:00:00.000Z WARN  slow');
    expect(logText(makeLines(1, 2))).toBe('2025-01-31T12:00:00.000Z INFO  line 1\n2025-01-31T12:00:00.000Z INFO  line 2\n');
  });
});
