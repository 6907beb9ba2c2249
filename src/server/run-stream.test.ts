/**
 * Live logs over SSE, in memory (`app.request()`) over the real store (PGlite)
 * and engine (Lua): order, resume, end, polling, and clean-up on disconnect.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Run } from '../core/run.js';
import type { LogLine, StepRecord } from '../core/run-events.js';
import { openSql } from '../store/open-store.js';
import { createPostgresStore } from '../store/postgres-store.js';
import { RunEngine } from '../engine/run-engine.js';
import { createApp } from './app.js';
import { sseReader, type SseEvent } from './testing/sse-reader.js';
import { countingStore, openTestPlatform, sleep, trackingEngine, type TestPlatform } from './testing/test-platform.js';
import { clientWithToken, mintToken, type TestClient } from './testing/test-client.js';

const config = loadConfig({ examples: false }, {});

let platform: TestPlatform;
/** The app, called with a runner token. */
let app: TestClient;
let token: string;
/** Store calls made by the app (the engine's own calls are not counted). */
let calls: Record<string, number>;
/** Engine subscriptions the app has not released yet. */
let subscriptions: () => number;

beforeAll(async () => {
  platform = await openTestPlatform({ concurrency: 4 });
  const counted = countingStore(platform.store);
  const tracked = trackingEngine(platform.engine);
  calls = counted.calls;
  subscriptions = tracked.subscriptions;
  token = await mintToken(platform.store, 'runner');
  app = clientWithToken(createApp({ store: counted.store, engine: tracked.engine, config, followPollMs: 20, heartbeatMs: 30 }), token);
});
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

async function newRun(script: string, on = app): Promise<Run> {
  const res = await on.request('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  expect(res.status).toBe(201);
  return (await res.json()) as Run;
}

async function readAll(res: Response): Promise<SseEvent[]> {
  const reader = sseReader(res);
  const events: SseEvent[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) events.push(e);
  return events;
}

/** Waits for a condition that depends on timers; fails after 5 s. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const messages = (events: SseEvent[]) => events.filter((e) => e.event === 'log').map((e) => (JSON.parse(e.data) as { message: string }).message);

describe('GET /api/runs/{id}/logs', () => {
  it('pages JSON log lines with after/limit', async () => {
    const run = await newRun('print("a")\nprint("b")\nprint("c")');
    expect((await platform.waitForEnd(run.id)).phase).toBe('Passed');
    const page = (await (await app.request(`/api/runs/${run.id}/logs?after=1&limit=1`)).json()) as { items: { message: string }[]; nextSeq: number };
    expect(page).toMatchObject({ items: [{ message: 'b' }], nextSeq: 2 });
    const empty = (await (await app.request(`/api/runs/${run.id}/logs?after=3`)).json()) as { items: unknown[]; nextSeq: number };
    expect(empty).toEqual({ items: [], nextSeq: 3, logsExpiredAt: null, notice: null });
    expect((await app.request(`/api/runs/${run.id}/logs?follow=maybe`)).status).toBe(400);
  });

  it('streams existing lines, new ones in order, steps, phases and a final end', async () => {
    // The sleeps keep each state visible long enough for the stream to see it (a
    // step start and end written in one batch would be one row change).
    const run = await newRun(['print("one")', 'print("two")', 'sleep(300)', 'step("s", function()', '  print("three")', '  sleep(500)', 'end)', 'print("four")'].join('\n'));
    await platform.waitForLogs(run.id, 2); // "one" and "two" exist before the client connects
    const res = await app.request(`/api/runs/${run.id}/logs?follow=true`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const got = await readAll(res);
    const logs = got.filter((e) => e.event === 'log');
    expect(messages(got)).toEqual(['one', 'two', 'three', 'four']);
    expect(logs.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    const steps = got.filter((e) => e.event === 'step').map((e) => JSON.parse(e.data) as { name: string; status: string });
    expect(steps).toMatchObject([
      { name: 's', status: 'running' },
      { name: 's', status: 'passed' },
    ]);
    expect(got.filter((e) => e.event === 'phase').map((e) => (JSON.parse(e.data) as Run).phase)).toEqual(['Running', 'Passed']);
    // Each batch of lines and steps ends with a sync (the CLI orders a batch's lines at it).
    const kinds = got.map((e) => e.event).filter((k) => k !== 'phase' && k !== 'end');
    expect(kinds.at(-1)).toBe('sync');
    kinds.forEach((kind, i) => kind === 'sync' && expect(kinds[i - 1]).not.toBe('sync'));
    const end = got.at(-1)!;
    expect(end.event).toBe('end');
    expect(end.id).toBe('4');
    expect((JSON.parse(end.data) as Run).phase).toBe('Passed');
    expect(subscriptions()).toBe(0);
  });

  it('resumes after Last-Event-ID (and Accept: text/event-stream selects the stream)', async () => {
    const run = await newRun('print("one")\nprint("two")\nprint("three")\nassert(false, "boom")');
    expect((await platform.waitForEnd(run.id)).phase).toBe('Failed');
    const res = await app.request(`/api/runs/${run.id}/logs`, { headers: { accept: 'text/event-stream', 'last-event-id': '2' } });
    const got = await readAll(res);
    // The failed assertion is logged too, after the resumed line.
    expect(messages(got)).toEqual(['three', 'adhoc.lua:4: assertion failed: boom']);
    expect(got.filter((e) => e.event === 'log').map((e) => e.id)).toEqual(['3', '4']);
    expect(got.at(-1)!.event).toBe('end');
    expect((JSON.parse(got.at(-1)!.data) as Run).phase).toBe('Failed');
    expect(subscriptions()).toBe(0);
  });

  it('finds lines written elsewhere without a notification (polling)', async () => {
    // An API-only instance: its engine shares the store but is never started, so
    // it executes nothing and hears nothing. The platform's engine runs the run.
    const apiOnly = new RunEngine({ store: platform.store, executor: platform.executor, instanceId: 'api-only', concurrency: 4 });
    const tracked = trackingEngine(apiOnly);
    const other = clientWithToken(createApp({ store: platform.store, engine: tracked.engine, config, followPollMs: 20, heartbeatMs: 30 }), token);
    try {
      // The line is printed a moment after the client connects, so only a poll can find it.
      const run = await newRun('sleep(300)\nprint("quiet")\nsleep(30000)', other);
      const reader = sseReader(await other.request(`/api/runs/${run.id}/logs?follow=true`));
      expect((await reader.next())!.event).toBe('phase');
      let line: SseEvent | null;
      do line = await reader.next();
      while (line && line.event !== 'log');
      expect((JSON.parse(line!.data) as { message: string }).message).toBe('quiet');
      expect(tracked.subscriptions()).toBe(1);
      await reader.cancel();
    } finally {
      await apiOnly.stop(0);
    }
  });

  it('never sends a step that ended without the lines logged before its end, however the writes interleave', async () => {
    // A store of its own, written by the test: after every read the stream makes, the
    // run's next batch of events commits — a block's first line as it starts, then its
    // last line with its end. Whatever a look reads must be one moment of the run.
    const sql = await openSql({ databaseUrl: null });
    const store = createPostgresStore(sql);
    const idle = new RunEngine({ store, executor: platform.executor, instanceId: 'idle', concurrency: 1 });
    try {
      await store.migrate();
      const run = await store.createRun({ name: 'interleaved', origin: 'api', source: { type: 'inline', script: '' }, timeoutSeconds: 60 });
      await store.claimRuns('writer', 1, 1);
      const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
      const line = (seq: number, message: string, stepSeq: number): LogLine => ({ runId: run.id, seq, ts: at(seq), level: 'info', message, stepSeq });
      const step = (seq: number, status: StepRecord['status']): StepRecord => ({
        runId: run.id, seq, parentSeq: null, kind: 'test', name: `block ${seq}`, status, startedAt: at(seq * 10),
        finishedAt: status === 'running' ? null : at(seq * 10 + 5), durationMs: status === 'running' ? null : 5,
        message: null, file: null, line: null,
      });
      const writes: (() => Promise<unknown>)[] = [];
      for (let k = 1; k <= 6; k++) {
        writes.push(() => store.writeEvents({ logs: [line(2 * k - 1, `in ${k}`, k)], steps: [step(k, 'running')], assertions: [] }));
        writes.push(() => store.writeEvents({ logs: [line(2 * k, `end ${k}`, k)], steps: [step(k, 'passed')], assertions: [] }));
      }
      writes.push(() => store.finishRun(run.id, 'writer', { phase: 'Passed', reason: null, message: null, summary: { stepsPassed: 6, stepsFailed: 0, stepsSkipped: 0, assertionsPassed: 0, assertionsFailed: 0 } }));
      const interleaved = new Proxy(store, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (typeof value !== 'function' || typeof key !== 'string' || !key.startsWith('get')) return value;
          return async (...args: unknown[]) => {
            const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            await writes.shift()?.();
            return result;
          };
        },
      });
      const client = clientWithToken(createApp({ store: interleaved, engine: idle, config, followPollMs: 5, heartbeatMs: 1000 }), await mintToken(store, 'runner'));
      const got = await readAll(await client.request(`/api/runs/${run.id}/logs?follow=true`));
      expect(got.at(-1)).toMatchObject({ event: 'end' });
      expect(messages(got)).toEqual([1, 2, 3, 4, 5, 6].flatMap((k) => [`in ${k}`, `end ${k}`]));
      // The look (events up to a sync) each line and each ended step came in.
      let look = 0;
      const lineLook = new Map<string, number>();
      const endLook = new Map<number, number>();
      for (const e of got) {
        if (e.event === 'sync') look++;
        if (e.event === 'log') lineLook.set((JSON.parse(e.data) as LogLine).message, look);
        if (e.event === 'step') {
          const s = JSON.parse(e.data) as StepRecord;
          if (s.status !== 'running') endLook.set(s.seq, look);
        }
      }
      for (let k = 1; k <= 6; k++) expect({ block: k, line: lineLook.get(`end ${k}`)! <= endLook.get(k)! }).toEqual({ block: k, line: true });
    } finally {
      await idle.stop(0);
      await store.close();
    }
  });

  it('sends heartbeats, then stops polling and unsubscribes when the client disconnects', async () => {
    const run = await newRun('print("started")\nsleep(30000)');
    await platform.waitForLogs(run.id, 1); // executing, not only claimed
    const reader = sseReader(await app.request(`/api/runs/${run.id}/logs?follow=true`));
    const events: SseEvent[] = [];
    const reading = (async () => {
      for (let e = await reader.next(); e; e = await reader.next()) events.push(e);
    })();
    await until('two heartbeats', () => reader.comments() >= 2); // and a few polls meanwhile
    expect(subscriptions()).toBe(1);
    expect(events.map((e) => e.event)).toEqual(['log', 'sync', 'phase']);
    await reader.cancel();
    await reading;
    await until('the stream to unsubscribe', () => subscriptions() === 0);
    const polls = calls.getRunChanges;
    await sleep(150); // several poll intervals
    expect(calls.getRunChanges).toBe(polls);
    // The run itself is untouched by the disconnect.
    expect((await platform.store.getRun(run.id))!.phase).toBe('Running');
  });
});
