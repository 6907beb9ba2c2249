import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { isTerminal } from '../src/core/run-phase.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { adminAuth, postMany, startEchoServer, timeGets } from './http-load.js';
import { median, round, summarize } from './stats.js';

const TRIVIAL = 'assert(1+1==2)';

async function withTopas<T>(concurrency: number, fn: (t: RunningTopas) => Promise<T>): Promise<T> {
  const data = await mkdtemp(join(tmpdir(), 'topas-bench-'));
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false, concurrency }, {}));
  try {
    return await fn(topas);
  } finally {
    await topas.close(1000);
    await rm(data, { recursive: true, force: true });
  }
}

/** Resolves when every id in `ids` has reached a terminal phase (watched through the engine's bus). */
function whenAllFinished(topas: RunningTopas, expected: number): { done: Promise<void>; ids: Set<string> } {
  const ids = new Set<string>();
  const finished = new Set<string>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const stop = topas.engine.subscribeAll((n) => {
    if (n.type === 'phase' && isTerminal(n.run.phase)) {
      finished.add(n.run.id);
      if (finished.size >= expected) {
        stop();
        resolve();
      }
    }
  });
  return { done, ids };
}

export async function benchThroughput() {
  const total = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 3000);
  const parallel = 64;
  // Reference: the same client loop against a bare HTTP server doing no work.
  const echo = await startEchoServer();
  const r0 = performance.now();
  await postMany(`${echo.url}/api/runs`, (i) => ({ name: `t${i}`, script: TRIVIAL }), total, parallel);
  const referenceRps = total / ((performance.now() - r0) / 1000);
  await echo.close();

  return withTopas(64, async (topas) => {
    // Warm up workers and the database.
    const warm = whenAllFinished(topas, 100);
    await postMany(`${topas.url}/api/runs`, (i) => ({ name: `warm${i}`, script: TRIVIAL }), 100, parallel, adminAuth(topas));
    await warm.done;

    const watch = whenAllFinished(topas, total);
    const t0 = performance.now();
    const created = (await postMany(`${topas.url}/api/runs`, (i) => ({ name: `trivial-${i}`, script: TRIVIAL }), total, parallel, adminAuth(topas))) as { id: string }[];
    const submitted = performance.now();
    await watch.done;
    const elapsed = (performance.now() - t0) / 1000;
    const sample = await Promise.all(created.slice(-20).map((r) => topas.store.getRun(r.id)));
    const passed = sample.filter((r) => r?.phase === 'Passed').length;
    const runsPerSecond = total / elapsed;
    return {
      runs: total,
      parallelClients: parallel,
      concurrency: topas.config.concurrency,
      workers: topas.config.workers,
      seconds: round(elapsed, 3),
      submitSeconds: round((submitted - t0) / 1000, 3),
      runsPerSecond: round(runsPerSecond, 1),
      lastTwentyPassed: passed,
      reference: { what: 'bare node:http POST echo, same client loop', requestsPerSecond: round(referenceRps, 1) },
      ratioToReference: round(runsPerSecond / referenceRps, 3),
      target: '>= 500 runs/s',
    };
  });
}

export async function benchLatency() {
  return withTopas(8, async (topas) => {
    const samples: number[] = [];
    const dbSamples: number[] = [];
    for (let i = 0; i < 230; i++) {
      let started!: () => void;
      let finished!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const ended = new Promise<void>((r) => (finished = r));
      let id: string | null = null;
      const early: Map<string, string[]> = new Map();
      const note = (runId: string, phase: string) => {
        if (runId !== id) {
          early.set(runId, [...(early.get(runId) ?? []), phase]);
          return;
        }
        if (phase === 'Running') started();
        if (isTerminal(phase as never)) finished();
      };
      const stop = topas.engine.subscribeAll((n) => n.type === 'phase' && note(n.run.id, n.run.phase));
      const t0 = performance.now();
      const res = await fetch(`${topas.url}/api/runs`, { method: 'POST', headers: { ...adminAuth(topas), 'content-type': 'application/json' }, body: JSON.stringify({ script: TRIVIAL }) });
      id = ((await res.json()) as { id: string }).id;
      for (const phase of early.get(id) ?? []) note(id, phase);
      await running;
      const t1 = performance.now();
      await ended;
      stop();
      const run = await topas.store.getRun(id);
      if (i >= 30) {
        // the first 30 warm up
        samples.push(t1 - t0);
        dbSamples.push(Date.parse(run!.startedAt!) - Date.parse(run!.createdAt));
      }
    }
    const health = await timeGets(`${topas.url}/healthz`, 200);
    const p50 = median(samples);
    return {
      submitToStartMs: summarize(samples),
      storedCreatedToStartedMs: summarize(dbSamples),
      reference: { what: 'GET /healthz round trip on the same server', p50Ms: round(median(health), 3) },
      ratioToReference: round(p50 / median(health), 2),
      target: 'p50 < 10 ms',
      note: 'submitToStart = POST /api/runs sent → Running notification; includes the HTTP round trip',
    };
  });
}
