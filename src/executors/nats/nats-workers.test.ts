/**
 * `topas up --nats` with real `topas worker` processes on real NATS JetStream
 * (127.0.0.1:4222; skipped, saying so, when it does not answer): runs pass through two
 * workers, a worker killed mid-run leaves its run Error/ExecutorLost (never run again), a
 * run whose worker died before starting it is redelivered and passes once, a cancel
 * reaches a run on a worker. Each test has a stream and subject of its own. Needs a
 * build (`npm run build`): the workers are `bin/topas.js`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../core/run.js';
import { startTestTopas, type TestTopas } from '../../server/testing/test-topas.js';
import { deleteQueue, natsAnswers, TEST_NATS_URL, uniqueQueue } from './nats-testing.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';
import type { WorkQueueNames } from './work-queue.js';

const up = await natsAnswers();
if (!up) console.warn(`nats worker tests skipped: no NATS at ${TEST_NATS_URL} (start nats-server -js, or set TOPAS_TEST_NATS_URL)`);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
  cleanup = [];
});

/** A topas handing runs to the queue `names` (workers silent 5 s are lost). */
async function topasOn(names: WorkQueueNames, env: Record<string, string> = {}): Promise<TestTopas> {
  const topas = await startTestTopas(
    { TOPAS_NATS_URL: TEST_NATS_URL, TOPAS_NATS_STREAM: names.stream, TOPAS_NATS_SUBJECT: names.subject, TOPAS_NATS_LOST_AFTER_SECONDS: '5', ...env },
    { runnerTimings: { heartbeatMs: 200, flushMs: 20 }, natsTimings: { checkMs: 50, cancelGraceMs: 3000 } },
  );
  cleanup.push(() => topas.close(), () => deleteQueue(names));
  return topas;
}

async function worker(names: WorkQueueNames, concurrency: number): Promise<WorkerProcess> {
  const w = await startWorkerProcess(TEST_NATS_URL, names, ['--concurrency', String(concurrency), '--workers', '1', '--ack-wait-seconds', '1']);
  cleanup.push(() => w.kill('SIGKILL'));
  return w;
}

async function schedule(topas: TestTopas, script: string): Promise<string> {
  const res = await topas.post('/api/runs', { script, fileName: 'nats.lua' });
  expect(res.status).toBe(201);
  return ((await res.json()) as Run).id;
}

async function logLines(topas: TestTopas, id: string): Promise<string[]> {
  const page = (await (await topas.get(`/api/runs/${id}/logs`)).json()) as { items: { message: string }[] };
  return page.items.map((l) => l.message);
}

/** Resolves when the run has logged `message`. */
async function untilLogged(topas: TestTopas, id: string, message: string): Promise<void> {
  await expect.poll(() => logLines(topas, id), { timeout: 20_000, interval: 50 }).toContain(message);
}

const startedOn = (w: WorkerProcess, id: string) => w.lines.some((l) => l.includes('"run started"') && l.includes(id));

// Worker processes start Node.js and a Lua pool each: slow on a busy machine.
describe.runIf(up)('topas worker --nats', { timeout: 240_000 }, () => {
  it('executes runs on two worker processes, each taking its share', async () => {
    const names = uniqueQueue();
    const topas = await topasOn(names);
    const [a, b] = [await worker(names, 2), await worker(names, 2)];
    // 8 runs, 4 at once (the engine's limit): one worker holds at most 2, so both must work.
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => schedule(topas, `log.info("begin ${i}")\nsleep(300)\nassert(true, "done")`)));
    const runs = await Promise.all(ids.map((id) => topas.waitForEnd(id, 60_000)));
    expect(runs.map((r) => `${r.phase} ${r.message ?? ''}`.trim())).toEqual(ids.map(() => 'Passed'));
    // Each worker prints a line per run it executed (once its completion was taken).
    await Promise.all(ids.map((id) => Promise.race([a, b].map((w) => w.waitForLine((l) => l.startsWith(`${id} Passed`))))));
    const ranOn = (w: WorkerProcess) => ids.filter((id) => w.lines.some((l) => l.startsWith(`${id} Passed`)));
    expect(ranOn(a).length).toBeGreaterThan(0);
    expect(ranOn(b).length).toBeGreaterThan(0);
    expect([...ranOn(a), ...ranOn(b)].sort()).toEqual([...ids].sort());
  });

  it('ends a run whose worker is killed mid-run as Error/ExecutorLost, and no other worker runs it again', async () => {
    const names = uniqueQueue();
    const topas = await topasOn(names);
    const [a, b] = [await worker(names, 1), await worker(names, 1)];
    const id = await schedule(topas, 'log.info("working")\nsleep(30000)');
    await untilLogged(topas, id, 'working');
    const victim = startedOn(a, id) ? a : b;
    const other = victim === a ? b : a;
    await victim.kill('SIGKILL');
    const run = await topas.waitForEnd(id, 20_000);
    expect(run).toMatchObject({ phase: 'Error', reason: 'ExecutorLost' });
    expect(run.message).toContain('stopped answering');
    expect(startedOn(other, id)).toBe(false);
    expect(await logLines(topas, id)).toEqual(['working']);
  });

  it('redelivers a run whose worker died before starting it, and it passes once', async () => {
    const names = uniqueQueue();
    // Workers reach topas through a proxy that holds the first `execution` call: its worker is killed while it waits.
    let executions = 0;
    let held!: () => void;
    const firstHeld = new Promise<void>((r) => (held = r));
    let target = '';
    const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (new URL(req.url ?? '/', 'http://proxy').pathname.endsWith('/runner/execution') && ++executions === 1) {
        held();
        return; // never answered: this worker dies waiting
      }
      void forward(target, req, res);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          proxy.closeAllConnections();
          proxy.close(() => r());
        }),
    );
    const topas = await topasOn(names, { TOPAS_RUNNER_SERVER_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    target = topas.url;
    const first = await worker(names, 1);
    const id = await schedule(topas, 'log.info("ran")\nassert(true, "once")');
    await firstHeld;
    await first.kill('SIGKILL');
    const second = await worker(names, 1);
    const run = await topas.waitForEnd(id, 30_000);
    expect(run).toMatchObject({ phase: 'Passed', summary: { assertionsPassed: 1 } });
    expect(await logLines(topas, id)).toEqual(['ran']);
    expect(executions).toBe(2);
    const started = second.lines.find((l) => l.includes('"run started"') && l.includes(id));
    expect(JSON.parse(started!)).toMatchObject({ runId: id, delivery: 2 });
  });

  it('cancels a run executing on a worker', async () => {
    const names = uniqueQueue();
    const topas = await topasOn(names);
    const w = await worker(names, 1);
    const id = await schedule(topas, 'log.info("sleeping")\nsleep(30000)');
    await untilLogged(topas, id, 'sleeping');
    const res = await topas.post(`/api/runs/${id}/cancel`, {});
    expect(res.status).toBe(200);
    const run = await topas.waitForEnd(id, 10_000);
    expect(run.phase).toBe('Cancelled');
    await w.waitForLine((l) => l.startsWith(`${id} Cancelled`));
  });
});

/** Forwards a request to `target` and its answer back. */
async function forward(target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers.set(k, v);
  try {
    const answer = await fetch(target + req.url, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  } catch {
    res.writeHead(502).end();
  }
}
