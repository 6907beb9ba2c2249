/**
 * `read-load`: run throughput while people read the API, and how promptly a new
 * connection is answered while the server is busy (issue 13). A topas with default
 * settings runs in a child process (`read-load-child.ts`), on PGlite and on PostgreSQL
 * (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/postgres: a fresh
 * database, dropped after; `BENCH_READ_POSTGRES=false` / `BENCH_READ_PGLITE=false` skip one;
 * `BENCH_TOPAS_<NAME>=v` tries a setting, recorded under `settings`). Phases of
 * `BENCH_READ_SECONDS` (default 8) each, 32 closed-loop clients submitting trivial runs:
 *   idle        runs/s with no reader
 *   closed      runs/s while 50 closed-loop readers cycle GET /api/runs, /api/runs/{id}, /api/stats
 *   open        runs/s while the same reads are sent on schedule at 500 requests/s whatever the replies
 *               (errors: non-200 answers, failed connections and answers slower than 30 s)
 *   firstConn   while 200 closed-loop readers and the submitters are busy: 20 requests, each on a
 *               new connection (GET /api/stats), p50/p99/max from connect to the whole answer
 * Reference: a bare node:http echo in a child process, measured with the same client loops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getText, postJson } from './http-load.js';
import { percentile, round } from './stats.js';
import { freshDatabase, type FreshDatabase } from './fresh-database.js';
import { settingsToTry } from './settings-to-try.js';

const TRIVIAL = 'assert(1+1==2)';
const SUBMITTERS = 32;
const CLOSED_READERS = 50;
const OPEN_RATE = 500;
const BUSY_CLIENTS = 200;
const PROBES = 20;
/** An answer slower than this counts as a failed read. */
const READ_TIMEOUT_MS = 30_000;

interface Target {
  url: string;
  auth: Record<string, string>;
  /** Resolves when the run has ended (at once for the echo, which runs nothing). */
  ended(id: string): Promise<void>;
  /** When runs ended (epoch ms), since the last call. */
  takeEnds(): number[];
  close(): Promise<void>;
  echo: boolean;
}

async function startChild(args: string[]): Promise<Target> {
  const entry = fileURLToPath(new URL('./read-load-child.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [entry, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Interface = createInterface({ input: child.stdout! });
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    gone.then(() => {
      throw new Error('read-load child exited before it listened');
    }),
  ]);
  const { url, token } = JSON.parse(first) as { url: string; token: string | null };
  // Every later line is the id of a run that ended.
  const waiters = new Map<string, () => void>();
  const endedEarly = new Set<string>();
  let ends: number[] = [];
  lines.on('line', (id) => {
    ends.push(Date.now());
    const w = waiters.get(id);
    if (w) {
      waiters.delete(id);
      w();
    } else endedEarly.add(id);
  });
  const echo = args[0] === 'echo';
  return {
    url,
    auth: token ? { authorization: `Bearer ${token}` } : {},
    echo,
    ended(id) {
      if (echo || endedEarly.delete(id)) return Promise.resolve();
      return new Promise((r) => waiters.set(id, r));
    },
    takeEnds() {
      const taken = ends;
      ends = [];
      return taken;
    },
    async close() {
      child.stdin!.end();
      if (!exited) await gone;
    },
  };
}

/** What a phase's clients saw. */
class Tally {
  submitted = 0;
  submitErrors = 0;
  /** What the failed requests got (status or error), counted. */
  failures = new Map<string, number>();
  fail(what: string) {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }
  reads: number[] = [];
  readErrors = 0;
  ids: string[] = [];
}

/** 32 clients, each submitting a trivial run and waiting for its end (echo: the answer), until stopped. */
function submitters(t: Target, tally: Tally, stop: { stopped: boolean }): Promise<void[]> {
  const loop = async () => {
    let i = 0;
    while (!stop.stopped) {
      try {
        const res = await postJson(`${t.url}/api/runs`, { name: `read-load-${i++}`, script: TRIVIAL }, t.auth);
        const text = res.text;
        const body = (text ? JSON.parse(text) : {}) as { id?: string; error?: { code?: string } };
        if (res.status !== 201 && !(t.echo && res.status === 200)) {
          tally.submitErrors++;
          tally.fail(`POST ${res.status} ${body.error?.code ?? (text ? '' : '(empty body)')}`.trim());
        }
        else {
          tally.submitted++;
          if (body.id && !t.echo) {
            tally.ids.push(body.id);
            if (tally.ids.length > 200) tally.ids.splice(0, 100);
            await t.ended(body.id);
          }
        }
      } catch (error) {
        tally.submitErrors++;
        tally.fail(`POST ${(error as Error).cause ?? (error as Error).message}`);
      }
    }
  };
  return Promise.all(Array.from({ length: SUBMITTERS }, loop));
}

let readNo = 0;
/** The next read of the cycle: the run list, one recent run, the stats. */
function nextReadPath(tally: Tally, ids: string[]): string {
  const n = readNo++ % 3;
  if (n === 0) return '/api/runs';
  if (n === 1) {
    const pool = tally.ids.length ? tally.ids : ids;
    return pool.length ? `/api/runs/${pool[readNo % pool.length]}` : '/api/runs';
  }
  return '/api/stats';
}

async function timedRead(t: Target, path: string, tally: Tally): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await getText(`${t.url}${path}`, t.auth, READ_TIMEOUT_MS);
    if (res.status !== 200) {
      tally.readErrors++;
      tally.fail(`GET ${res.status}`);
    } else tally.reads.push(performance.now() - t0);
  } catch (error) {
    tally.readErrors++;
    tally.fail(`GET ${(error as Error).name === 'TimeoutError' ? 'no answer in 30 s' : ((error as Error).cause ?? (error as Error).message)}`);
  }
}

function closedReaders(t: Target, n: number, tally: Tally, stop: { stopped: boolean }, ids: string[]): Promise<void[]> {
  const loop = async () => {
    while (!stop.stopped) await timedRead(t, nextReadPath(tally, ids), tally);
  };
  return Promise.all(Array.from({ length: n }, loop));
}

/** Sends reads at `rate` per second on schedule, whatever the replies, until stopped; resolves when all answered. */
async function openReaders(t: Target, rate: number, tally: Tally, stop: { stopped: boolean }, ids: string[]): Promise<number> {
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  while (!stop.stopped) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) {
      const p = timedRead(t, nextReadPath(tally, ids), tally).finally(() => pending.delete(p));
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  return sent;
}

/** A GET on a connection of its own (no keep-alive pool): connect → whole answer, ms. */
function newConnectionGet(t: Target, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${t.url}${path}`, { agent: false, headers: t.auth, timeout: READ_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`GET ${path} → ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function latency(samples: number[]) {
  return { n: samples.length, p50: round(percentile(samples, 50), 1), p99: round(percentile(samples, 99), 1), max: round(samples.reduce((m, x) => (x > m ? x : m), samples.length ? -Infinity : NaN), 1) }; // not Math.max(...): 100,000s of samples overflow the stack
}

/** One target through every phase. */
async function measure(t: Target, seconds: number) {
  const ids: string[] = [];

  const phase = async (readers: (tally: Tally, stop: { stopped: boolean }) => Promise<unknown>) => {
    const tally = new Tally();
    const stop = { stopped: false };
    t.takeEnds();
    const start = Date.now();
    const subs = submitters(t, tally, stop);
    const reading = readers(tally, stop);
    await sleep(seconds * 1000);
    stop.stopped = true;
    const end = Date.now();
    await subs; // each waits for its last run: nothing carries over into the next phase
    const readOutcome = await reading;
    ids.push(...tally.ids.slice(-50));
    // The first second warms up; runs/s over the rest of the window.
    const from = start + 1000;
    const done = t.takeEnds().filter((at) => at >= from && at < end).length;
    const perSecond = t.echo ? tally.submitted / ((end - start) / 1000) : done / ((end - from) / 1000);
    return { tally, perSecond: round(perSecond, 1), readOutcome };
  };

  // Warm-up: workers started, the database touched.
  await phase(async () => undefined);

  const idle = await phase(async () => undefined);
  const closed = await phase((tally, stop) => closedReaders(t, CLOSED_READERS, tally, stop, ids));
  const open = await phase((tally, stop) => openReaders(t, OPEN_RATE, tally, stop, ids));
  const probes: number[] = [];
  let probeErrors = 0;
  const first = await phase(async (tally, stop) => {
    const busy = closedReaders(t, BUSY_CLIENTS, tally, stop, ids);
    await sleep(1000);
    for (let i = 0; i < PROBES && !stop.stopped; i++) {
      try {
        probes.push(await newConnectionGet(t, '/api/stats'));
      } catch {
        probeErrors++;
      }
      await sleep(100);
    }
    await busy;
  });
  const idleRate = idle.perSecond;
  const reads = (p: typeof closed) => ({
    reads: p.tally.reads.length + p.tally.readErrors,
    readsPerSecond: round(p.tally.reads.length / seconds, 1),
    readErrors: p.tally.readErrors,
    readMs: latency(p.tally.reads),
  });
  return {
    [t.echo ? 'requestsPerSecond' : 'runsPerSecond']: { idle: idleRate, closedLoopReads: closed.perSecond, openLoopReads: open.perSecond, busyClients: first.perSecond },
    ratioToIdle: { closedLoopReads: round(closed.perSecond / idleRate, 3), openLoopReads: round(open.perSecond / idleRate, 3) },
    submitErrors: idle.tally.submitErrors + closed.tally.submitErrors + open.tally.submitErrors + first.tally.submitErrors,
    failures: [idle, closed, open, first].reduce<Record<string, number>>((all, p) => {
      for (const [what, n] of p.tally.failures) all[what] = (all[what] ?? 0) + n;
      return all;
    }, {}),
    closedLoop: { readers: CLOSED_READERS, ...reads(closed) },
    openLoop: { rate: OPEN_RATE, sent: open.readOutcome as number, ...reads(open) },
    firstConnection: { busyClients: BUSY_CLIENTS, ...latency(probes), errors: probeErrors, busyReadsPerSecond: round(first.tally.reads.length / seconds, 1), busyReadErrors: first.tally.readErrors },
  };
}

async function withTarget<T>(args: string[], fn: (t: Target) => Promise<T>): Promise<T> {
  const t = await startChild(args);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

export async function benchReadLoad() {
  const seconds = Number(process.env.BENCH_READ_SECONDS ?? 8);
  const result: Record<string, unknown> = {
    phaseSeconds: seconds,
    submitClients: SUBMITTERS,
    targets: '>= 70% of idle runs/s under both read loads, 0 read errors, open-loop read p99 < 200 ms, first request on a new connection < 200 ms',
  };
  const tried = settingsToTry();
  if (Object.keys(tried).length) result.settings = { note: 'not the defaults: BENCH_TOPAS_* given', ...tried };
  result.reference = { what: 'bare node:http echo in a child process, same client loops', ...(await withTarget(['echo'], (t) => measure(t, seconds))) };

  if (process.env.BENCH_READ_PGLITE !== 'false') {
    const data = await mkdtemp(join(tmpdir(), 'topas-read-load-'));
    try {
      result.pglite = await withTarget([data], (t) => measure(t, seconds));
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }

  if (process.env.BENCH_READ_POSTGRES !== 'false') {
    const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    let db: FreshDatabase;
    try {
      db = await freshDatabase(adminUrl, `topas_read_load_${process.pid}`);
    } catch (error) {
      result.postgres = { skipped: `PostgreSQL at ${adminUrl} does not answer: ${(error as Error).message}` };
      return result;
    }
    const folder = await mkdtemp(join(tmpdir(), 'topas-read-load-pg-'));
    try {
      result.postgres = await withTarget([folder, db.url], (t) => measure(t, seconds));
    } finally {
      await db.drop().catch(() => {});
      await rm(folder, { recursive: true, force: true });
    }
  }
  return result;
}
