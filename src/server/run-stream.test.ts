/** Live logs over SSE, in memory: order, resume, end, and clean-up on disconnect. */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import type { Run } from '../core/run.js';
import { createApp } from './app.js';
import { MemoryBackend } from './testing/memory-backend.js';
import { sseReader, type SseEvent } from './testing/sse-reader.js';

let backend: MemoryBackend;
let app: ReturnType<typeof createApp>;

beforeEach(() => {
  backend = new MemoryBackend();
  app = createApp({ store: backend.store, engine: backend.engine, config: loadConfig({ examples: false }, {}), followPollMs: 20, heartbeatMs: 30 });
});

async function newRun(): Promise<Run> {
  const res = await app.request('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script: 'x' }) });
  return (await res.json()) as Run;
}

async function readAll(res: Response): Promise<SseEvent[]> {
  const reader = sseReader(res);
  const events: SseEvent[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) events.push(e);
  return events;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /api/runs/{id}/logs', () => {
  it('pages JSON log lines with after/limit', async () => {
    const run = await newRun();
    backend.emit(run.id, ['a', 'b', 'c']);
    const page = (await (await app.request(`/api/runs/${run.id}/logs?after=1&limit=1`)).json()) as { items: { message: string }[]; nextSeq: number };
    expect(page).toMatchObject({ items: [{ message: 'b' }], nextSeq: 2 });
    const empty = (await (await app.request(`/api/runs/${run.id}/logs?after=3`)).json()) as { items: unknown[]; nextSeq: number };
    expect(empty).toEqual({ items: [], nextSeq: 3 });
    expect((await app.request(`/api/runs/${run.id}/logs?follow=maybe`)).status).toBe(400);
  });

  it('streams existing lines, new ones in order, steps, phases and a final end', async () => {
    const run = await newRun();
    backend.start(run.id);
    backend.emit(run.id, ['one', 'two']);
    const res = await app.request(`/api/runs/${run.id}/logs?follow=true`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = readAll(res);
    await sleep(30);
    const step = { seq: 1, parentSeq: null, kind: 'step' as const, name: 's', startedAt: new Date().toISOString(), file: 'a.lua', line: 3 };
    backend.emit(run.id, ['three'], [{ ...step, status: 'running', finishedAt: null, durationMs: null, message: null }]);
    await sleep(30);
    backend.emit(run.id, ['four'], [{ ...step, status: 'passed', finishedAt: new Date().toISOString(), durationMs: 5, message: null }]);
    backend.finish(run.id, { phase: 'Passed' });
    const got = await events;
    const logs = got.filter((e) => e.event === 'log');
    expect(logs.map((e) => JSON.parse(e.data).message)).toEqual(['one', 'two', 'three', 'four']);
    expect(logs.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    expect(got.filter((e) => e.event === 'step').map((e) => JSON.parse(e.data).status)).toEqual(['running', 'passed']);
    expect(got.filter((e) => e.event === 'phase').map((e) => JSON.parse(e.data).phase)).toContain('Running');
    const end = got.at(-1)!;
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data).phase).toBe('Passed');
    expect(backend.subscriptions).toBe(0);
  });

  it('resumes after Last-Event-ID (and Accept: text/event-stream selects the stream)', async () => {
    const run = await newRun();
    backend.start(run.id);
    backend.emit(run.id, ['one', 'two', 'three']);
    backend.finish(run.id, { phase: 'Failed' });
    const res = await app.request(`/api/runs/${run.id}/logs`, { headers: { accept: 'text/event-stream', 'last-event-id': '2' } });
    const got = await readAll(res);
    expect(got.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).message)).toEqual(['three']);
    expect(JSON.parse(got.at(-1)!.data).phase).toBe('Failed');
  });

  it('finds lines written elsewhere without a notification (polling)', async () => {
    const run = await newRun();
    backend.start(run.id);
    const reader = sseReader(await app.request(`/api/runs/${run.id}/logs?follow=true`));
    expect((await reader.next())!.event).toBe('phase');
    backend.logs.set(run.id, [{ runId: run.id, seq: 1, ts: new Date().toISOString(), level: 'info', message: 'quiet', stepSeq: null }]);
    const line = await reader.next();
    expect(JSON.parse(line!.data).message).toBe('quiet');
    await reader.cancel();
  });

  it('stops polling and unsubscribes when the client disconnects', async () => {
    const run = await newRun();
    backend.start(run.id);
    const reader = sseReader(await app.request(`/api/runs/${run.id}/logs?follow=true`));
    await reader.next();
    expect(backend.subscriptions).toBe(1);
    await sleep(100); // a few polls and heartbeats
    await reader.cancel();
    await sleep(50);
    expect(backend.subscriptions).toBe(0);
    const polls = backend.calls.getRun;
    await sleep(150);
    expect(backend.calls.getRun).toBe(polls);
  });
});
