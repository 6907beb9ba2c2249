/**
 * `nats`: runs/s through `topas worker --nats` processes (1, 2 and 4) on real NATS
 * JetStream against a PostgreSQL store, beside the embedded platform's local executor on
 * the same PostgreSQL, same workload, same bench run (the reference). Each configuration
 * gets a fresh database (dropped afterwards) and a stream of its own.
 *
 *   BENCH_NATS_URL   NATS with JetStream (default nats://127.0.0.1:4222)
 *   BENCH_PG_URL     PostgreSQL server to create databases on (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_NATS_RUNS  trivial runs per configuration (default 1000), submitted by 64 HTTP clients
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { isTerminal } from '../src/core/run-phase.js';
import { startTopas, type RunningTopas } from '../src/server/start.js';
import { adminAuth, postMany } from './http-load.js';
import { round } from './stats.js';
import { freshDatabase } from './fresh-database.js';

const TRIVIAL = 'assert(1+1==2)';
const CONCURRENCY = 64;
const CLIENTS = 64;
/** The compiled CLI beside this file (dist-bench/src/cli/main.js). */
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function log(message: string) {
  process.stderr.write(`bench nats: ${message}\n`);
}

async function natsUp(url: string): Promise<boolean> {
  const { connect } = await import('node:net');
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 4222) });
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

/** Resolves when `expected` runs have reached a terminal phase (the engine's bus). */
function whenFinished(topas: RunningTopas, expected: number): Promise<void> {
  let n = 0;
  return new Promise((resolve) => {
    const stop = topas.engine.subscribeAll((e) => {
      if (e.type === 'phase' && isTerminal(e.run.phase) && ++n >= expected) {
        stop();
        resolve();
      }
    });
  });
}

/** `topas worker` as a process; resolves once it pulls. */
function startWorker(natsUrl: string, stream: string, subject: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--nats', natsUrl, '--nats-stream', stream, '--nats-subject', subject, '--concurrency', String(CONCURRENCY), '--workers', '1'], {
    env: { ...process.env, NO_COLOR: '1', TOPAS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.includes('topas worker pulling runs')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // one line per run: drained, not kept
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`topas worker exited (${code}) before it pulled: ${text}`)));
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

interface Figure {
  executor: string;
  workerProcesses: number;
  runs: number;
  seconds: number;
  runsPerSecond: number;
  /** Of the `runs` measured, how many ended Passed (each is read back from the store). */
  passed: number;
}

/** One configuration: a fresh database, a topas on it, its workers, warm-up, then `total` runs. */
async function measure(adminUrl: string, natsUrl: string, workers: number | null, total: number): Promise<Figure> {
  const label = workers === null ? 'local' : `w${workers}`;
  const db = await freshDatabase(adminUrl, `bench_nats_${label}_${Date.now()}`);
  const data = await mkdtemp(join(tmpdir(), 'topas-bench-nats-'));
  const id = `${label.toUpperCase()}_${Date.now()}`;
  const stream = `BENCH_${id}`;
  const subject = `bench.${id.toLowerCase()}`;
  const env: NodeJS.ProcessEnv = { DATABASE_URL: db.url };
  if (workers !== null) Object.assign(env, { TOPAS_NATS_URL: natsUrl, TOPAS_NATS_STREAM: stream, TOPAS_NATS_SUBJECT: subject });
  const topas = await startTopas(loadConfig({ port: 0, data, examples: false, concurrency: CONCURRENCY }, env));
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < (workers ?? 0); i++) children.push(await startWorker(natsUrl, stream, subject));
    const warm = 100;
    const warmed = whenFinished(topas, warm);
    await postMany(`${topas.url}/api/runs`, (i) => ({ name: `warm${i}`, script: TRIVIAL }), warm, CLIENTS, adminAuth(topas));
    await warmed;
    const done = whenFinished(topas, total);
    const t0 = performance.now();
    const created = (await postMany(`${topas.url}/api/runs`, (i) => ({ name: `trivial-${i}`, script: TRIVIAL }), total, CLIENTS, adminAuth(topas))) as { id: string }[];
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const ended = await Promise.all(created.map((r) => topas.store.getRun(r.id)));
    return {
      executor: workers === null ? 'local' : 'nats',
      workerProcesses: workers ?? 0,
      runs: total,
      seconds: round(seconds, 2),
      runsPerSecond: round(total / seconds, 1),
      passed: ended.filter((r) => r?.phase === 'Passed').length,
    };
  } finally {
    await Promise.all(children.map(stopWorker));
    await topas.close(1000);
    await rm(data, { recursive: true, force: true });
    await db.drop().catch((error: unknown) => log(`dropping ${db.url} failed: ${String(error)}`));
    if (workers !== null) await dropStream(natsUrl, stream);
  }
}

async function dropStream(natsUrl: string, stream: string): Promise<void> {
  const { connectNats } = await import('../src/executors/nats/work-queue.js');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connectNats(natsUrl, 'topas-bench');
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function benchNats() {
  const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const total = Number(process.env.BENCH_NATS_RUNS ?? 1000);
  if (!(await natsUp(natsUrl))) return { skipped: `no NATS at ${natsUrl} (start nats-server -js, or set BENCH_NATS_URL)` };
  // The reference before and after the workers: the machine's load drifts during a bench run.
  log('reference: the local executor on PostgreSQL…');
  const before = await measure(adminUrl, natsUrl, null, total);
  const measured: Figure[] = [];
  for (const workers of [1, 2, 4]) {
    log(`${workers} worker process(es)…`);
    measured.push(await measure(adminUrl, natsUrl, workers, total));
  }
  log('reference again…');
  const after = await measure(adminUrl, natsUrl, null, total);
  const referenceRps = (before.runsPerSecond + after.runsPerSecond) / 2;
  const figures = measured.map((f) => ({ ...f, ratioToReference: round(f.runsPerSecond / referenceRps, 3) }));
  return {
    what: `${total} trivial runs submitted over HTTP by ${CLIENTS} clients, concurrency ${CONCURRENCY}, PostgreSQL store (a fresh database per line), each worker: --concurrency ${CONCURRENCY} --workers 1`,
    reference: {
      what: 'the embedded platform (local executor) on PostgreSQL, same workload, measured before and after the workers in the same run; ratios are to their mean',
      runsPerSecond: round(referenceRps, 1),
      before,
      after,
    },
    workers: figures,
    note: 'all worker processes share this machine with the server and the database: on 2 cores more processes add overhead, not capacity',
  };
}
